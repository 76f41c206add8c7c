# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read X.509 certificates with python3's standard library only: PEM blocks, DER fields, fingerprints.

Clients have no ``cryptography``; the doctor still has to say which CA signed what a registry
presents, for which names, until when. This reads the fields it needs from the DER (subject,
issuer, validity, SANs, basic constraints, key identifiers, key type). It checks no signature:
chain verification is OpenSSL's job (``ssl``). Pure functions, no I/O.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import ipaddress
import re

_PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----')

# attribute short names, as OpenSSL and RFC 4514 print them
_NAME_OIDS = {
    '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
    '2.5.4.5': 'serialNumber', '0.9.2342.19200300.100.1.25': 'DC', '1.2.840.113549.1.9.1': 'emailAddress',
}
_KEY_OIDS = {'1.2.840.113549.1.1.1': 'RSA', '1.2.840.10045.2.1': 'EC', '1.3.101.112': 'Ed25519',
             '1.3.101.113': 'Ed448'}
_SAN, _BASIC_CONSTRAINTS, _SKI, _AKI = '2.5.29.17', '2.5.29.19', '2.5.29.14', '2.5.29.35'


class CertificateError(ValueError):
    """The bytes are not a certificate this reader understands."""


def pem_blocks(text):
    """DER bytes of every CERTIFICATE block in PEM text (invalid base64 blocks are skipped)."""
    result = []
    for body in _PEM_CERT.findall(text or ''):
        try:
            result.append(base64.b64decode(''.join(body.split()), validate=True))
        except (binascii.Error, ValueError):
            continue
    return result


def der_to_pem(der):
    body = base64.b64encode(der).decode('ascii')
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % '\n'.join(lines)


def fingerprint(der):
    """SHA-256 of the DER, as openssl prints it (AB:CD:...)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def short_fingerprint(value):
    """The first 8 bytes of a fingerprint, for one-line messages (AB:CD:EF:01:23:45:67:89..)."""
    return value[:23] + '..' if value and len(value) > 23 else value


# --- DER ---------------------------------------------------------------------------------------

def _tlv(data, pos):
    """(tag, value start, value end) of the DER element at pos."""
    if pos + 2 > len(data):
        raise CertificateError('truncated DER at offset %d' % pos)
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7f
        if count == 0 or count > 4 or pos + count > len(data):
            raise CertificateError('bad DER length at offset %d' % pos)
        length = int.from_bytes(data[pos:pos + count], 'big')
        pos += count
    if pos + length > len(data):
        raise CertificateError('DER element at offset %d runs past the end' % pos)
    return tag, pos, pos + length


def _children(data, start, end):
    items = []
    pos = start
    while pos < end:
        tag, vstart, vend = _tlv(data, pos)
        items.append((tag, vstart, vend))
        pos = vend
    return items


def _oid(raw):
    if not raw:
        raise CertificateError('empty OID')
    parts = [raw[0] // 40, raw[0] % 40] if raw[0] < 80 else [2, raw[0] - 80]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7f)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return '.'.join(str(p) for p in parts)


def _string(tag, raw):
    if tag == 0x1e:  # BMPString
        return raw.decode('utf-16-be', 'replace')
    if tag == 0x1c:  # UniversalString
        return raw.decode('utf-32-be', 'replace')
    return raw.decode('utf-8', 'replace')


def _time(tag, raw):
    text = raw.decode('ascii', 'replace')
    try:
        if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
            moment = datetime.datetime.strptime(text, '%y%m%d%H%M%SZ')
            if moment.year >= 2050:  # RFC 5280: YY >= 50 means 19YY
                moment = moment.replace(year=moment.year - 100)
        else:  # GeneralizedTime YYYYMMDDHHMMSSZ
            moment = datetime.datetime.strptime(text, '%Y%m%d%H%M%SZ')
    except ValueError:
        raise CertificateError('unreadable time %r' % text)
    return moment.replace(tzinfo=datetime.timezone.utc)


def _name(data, start, end):
    """[(short name, value)] in DER order."""
    attributes = []
    for dummy, rstart, rend in _children(data, start, end):  # RDN SET
        for dummy2, astart, aend in _children(data, rstart, rend):  # AttributeTypeAndValue
            parts = _children(data, astart, aend)
            if len(parts) < 2:
                raise CertificateError('malformed name attribute')
            oid = _oid(data[parts[0][1]:parts[0][2]])
            tag, vstart, vend = parts[1]
            attributes.append((_NAME_OIDS.get(oid, oid), _string(tag, data[vstart:vend])))
    return attributes


def name_string(attributes):
    """RFC 4514 text (most specific first, as cryptography's rfc4514_string and openssl -nameopt RFC2253)."""
    def escape(value):
        value = re.sub(r'([,+"\\<>;])', r'\\\1', value)
        if value.startswith((' ', '#')):
            value = '\\' + value
        if value.endswith(' '):
            value = value[:-1] + '\\ '
        return value
    return ','.join('%s=%s' % (key, escape(value)) for key, value in reversed(attributes))


def _extensions(data, start, end, info):
    for dummy, estart, eend in _children(data, start, end):
        parts = _children(data, estart, eend)
        oid = _oid(data[parts[0][1]:parts[0][2]])
        tag, vstart, vend = parts[-1]  # extnValue OCTET STRING (critical flag may sit between)
        if oid == _SAN:
            _san(data, vstart, vend, info)
        elif oid == _BASIC_CONSTRAINTS:
            seq = _tlv(data, vstart)
            for ctag, cstart, cend in _children(data, seq[1], seq[2]):
                if ctag == 0x01:
                    info['is_ca'] = data[cstart:cend] != b'\x00'
        elif oid == _SKI:
            inner = _tlv(data, vstart)
            info['subject_key_id'] = data[inner[1]:inner[2]].hex()
        elif oid == _AKI:
            seq = _tlv(data, vstart)
            for ctag, cstart, cend in _children(data, seq[1], seq[2]):
                if ctag == 0x80:
                    info['authority_key_id'] = data[cstart:cend].hex()


def _san(data, start, end, info):
    seq = _tlv(data, start)
    for tag, vstart, vend in _children(data, seq[1], seq[2]):
        raw = data[vstart:vend]
        if tag == 0x82:
            info['dns_names'].append(raw.decode('ascii', 'replace'))
        elif tag == 0x87 and len(raw) in (4, 16):
            info['ip_addresses'].append(str(ipaddress.ip_address(raw)))


def parse_certificate(der):
    """The fields the doctor and the report need, from one DER certificate.

    Returns a dict: subject, issuer (RFC 4514 text), subject_der/issuer_der (hex, to match an
    issuer with a CA exactly), not_before/not_after (aware datetimes), dns_names, ip_addresses,
    is_ca, subject_key_id, authority_key_id, key_type, serial (hex), fingerprint_sha256.
    Raises CertificateError when the bytes are not a certificate.
    """
    try:
        tag, start, end = _tlv(der, 0)
        if tag != 0x30:
            raise CertificateError('not a DER SEQUENCE')
        tbs_tag, tbs_start, tbs_end = _tlv(der, start)
        fields = _children(der, tbs_start, tbs_end)
        if fields and fields[0][0] == 0xa0:  # [0] version
            fields = fields[1:]
        if len(fields) < 6:
            raise CertificateError('too few fields in tbsCertificate')
        serial, dummy_sig, issuer, validity, subject, spki = fields[:6]
        times = _children(der, validity[1], validity[2])
        key_alg = _children(der, *_children(der, spki[1], spki[2])[0][1:])
        info = {
            'subject': name_string(_name(der, subject[1], subject[2])),
            'issuer': name_string(_name(der, issuer[1], issuer[2])),
            'subject_der': der[subject[1]:subject[2]].hex(),
            'issuer_der': der[issuer[1]:issuer[2]].hex(),
            'not_before': _time(times[0][0], der[times[0][1]:times[0][2]]),
            'not_after': _time(times[1][0], der[times[1][1]:times[1][2]]),
            'serial': der[serial[1]:serial[2]].hex().upper().lstrip('0') or '0',
            'key_type': _KEY_OIDS.get(_oid(der[key_alg[0][1]:key_alg[0][2]]), 'other'),
            'dns_names': [], 'ip_addresses': [], 'is_ca': False,
            'subject_key_id': None, 'authority_key_id': None,
            'fingerprint_sha256': fingerprint(der),
        }
        for ftag, fstart, fend in fields[6:]:
            if ftag == 0xa3:  # [3] extensions
                inner = _tlv(der, fstart)
                _extensions(der, inner[1], inner[2], info)
    except (IndexError, UnicodeDecodeError) as exc:
        raise CertificateError('malformed certificate: %s' % exc)
    return info


def issued_by(cert, ca):
    """Whether ``ca`` (parsed) is the issuer named by ``cert`` (parsed): same name, and same key id when both carry one.

    A name match is what OpenSSL looks for first; a signature check is OpenSSL's job (see the doctor's chain step).
    """
    if cert['issuer_der'] != ca['subject_der']:
        return False
    if cert.get('authority_key_id') and ca.get('subject_key_id'):
        return cert['authority_key_id'] == ca['subject_key_id']
    return True


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def days_left(not_after, now):
    """Whole days from now until not_after (negative once expired)."""
    return int((not_after - now).total_seconds() // 86400)


def summary(info, now):
    """JSON-safe metadata of a parsed certificate: what results and reports show."""
    return {
        'subject': info['subject'], 'issuer': info['issuer'],
        'not_before': iso(info['not_before']), 'not_after': iso(info['not_after']),
        'days_left': days_left(info['not_after'], now),
        'dns_names': list(info['dns_names']), 'ip_addresses': list(info['ip_addresses']),
        'is_ca': info['is_ca'], 'key_type': info['key_type'], 'serial': info['serial'],
        'fingerprint_sha256': info['fingerprint_sha256'],
    }
