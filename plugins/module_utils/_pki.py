# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Own-CA PKI on ``cryptography`` (>= 38): keys, the root CA, server certificates.

Pure functions (no Ansible) decide what differs; the tls_ca / tls_cert modules act
on that one decision. Private to the collection (leading underscore).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re

from ansible_collections.berth.registry.plugins.module_utils._atomic_file import (
    apply_metadata, metadata_differences, read_bytes, resolve_gid, resolve_uid, write_atomic,
)

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # reported by _crypto_deps.require_cryptography()
    pass

KEY_TYPES = ('ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096')
SUBJECT_FIELDS = ('C', 'ST', 'L', 'O', 'OU', 'CN')
CLOCK_SKEW = datetime.timedelta(minutes=5)
_DNS_NAME = re.compile(r'^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})?)*\.?$')


class PKIError(Exception):
    """A user-facing error: bad input or an unusable file. Nothing has been written."""


def tls_key_argument_spec():
    """Options shared by tls_ca and tls_cert (documented in doc_fragments/_tls_key.py)."""
    return dict(
        privatekey_path=dict(type='path', required=True),
        privatekey_passphrase=dict(type='str', no_log=True),
        key_type=dict(type='str', default='ecdsa-p256', choices=list(KEY_TYPES)),
        mode=dict(type='raw', default='0644'),
        owner=dict(type='str'),
        group=dict(type='str'),
    )


def subject_argument_spec():
    """Documented once in doc_fragments/_tls_subject.py; normalize_subject() requires the CN."""
    return dict(type='dict', options=dict(
        C=dict(type='str'), ST=dict(type='str'), L=dict(type='str'),
        O=dict(type='str'), OU=dict(type='str'), CN=dict(type='str')))


def parse_mode(value):
    """'0644' / '644' / 0o644 (int) -> int; error naming the value otherwise."""
    if isinstance(value, int):
        mode = value
    else:
        try:
            mode = int(str(value), 8)
        except ValueError:
            raise PKIError('mode %r is not an octal file mode such as 0644' % (value,))
    if not 0 <= mode <= 0o7777:
        raise PKIError('mode %r is out of range (0000..7777)' % (value,))
    return mode


# --- keys ---------------------------------------------------------------------

def _curve(key_type):
    return ec.SECP256R1() if key_type == 'ecdsa-p256' else ec.SECP384R1()


def generate_private_key(key_type):
    if key_type not in KEY_TYPES:
        raise PKIError('unknown key_type %r; allowed: %s' % (key_type, ', '.join(KEY_TYPES)))
    if key_type.startswith('ecdsa-'):
        return ec.generate_private_key(_curve(key_type))
    return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type.split('-')[1]))


def key_type_of(key):
    """'ecdsa-p256', 'rsa-4096', ... for a private or public key; a description for others."""
    public = key.public_key() if hasattr(key, 'public_key') else key
    if isinstance(public, rsa.RSAPublicKey):
        return 'rsa-%d' % public.key_size
    if isinstance(public, ec.EllipticCurvePublicKey):
        return {'secp256r1': 'ecdsa-p256', 'secp384r1': 'ecdsa-p384'}.get(
            public.curve.name, 'ecdsa-%s' % public.curve.name)
    return type(public).__name__


def _public_der(key):
    public = key.public_key() if hasattr(key, 'public_key') else key
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_public_key(a, b):
    return _public_der(a) == _public_der(b)


def is_encrypted_pem(data):
    return b'ENCRYPTED' in data.split(b'\n', 2)[0] + data[:200]


class LoadedKey(object):
    """A private key read from disk; ``reencrypt`` when a passphrase was given for a plain key."""

    def __init__(self, key, reencrypt=False):
        self.key = key
        self.reencrypt = reencrypt


def load_private_key(data, passphrase, label):
    """Parse a PEM private key. Raises PKIError naming ``label`` when it cannot be used."""
    encrypted = is_encrypted_pem(data)
    if encrypted and not passphrase:
        raise PKIError('%s is encrypted and no passphrase was given' % label)
    password = passphrase.encode('utf-8') if (passphrase and encrypted) else None
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as e:
        if encrypted:
            raise PKIError('%s cannot be decrypted with the given passphrase' % label)
        raise PKIError('%s is not a readable PEM private key (%s)' % (label, str(e).split('\n', maxsplit=1)[0]))
    except Exception as e:  # unsupported algorithms raise UnsupportedAlgorithm
        raise PKIError('%s cannot be loaded: %s' % (label, e))
    if key_type_of(key) not in KEY_TYPES:
        raise PKIError('%s holds an unsupported key (%s); supported: %s'
                       % (label, key_type_of(key), ', '.join(KEY_TYPES)))
    return LoadedKey(key, reencrypt=bool(passphrase) and not encrypted)


def dump_private_key(key, passphrase):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode('utf-8')) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


# --- certificates -------------------------------------------------------------

def load_certificate(data, label):
    try:
        return x509.load_pem_x509_certificate(data)
    except Exception as e:
        raise PKIError('%s is not a readable PEM certificate (%s)' % (label, str(e).split('\n', maxsplit=1)[0]))


def dump_certificate(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def fingerprint_sha256(cert):
    return ':'.join('%02X' % b for b in bytearray(cert.fingerprint(hashes.SHA256())))


def not_before(cert):
    value = getattr(cert, 'not_valid_before_utc', None)
    return value if value is not None else cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(cert):
    value = getattr(cert, 'not_valid_after_utc', None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _name_oids():
    return {'C': NameOID.COUNTRY_NAME, 'ST': NameOID.STATE_OR_PROVINCE_NAME, 'L': NameOID.LOCALITY_NAME,
            'O': NameOID.ORGANIZATION_NAME, 'OU': NameOID.ORGANIZATIONAL_UNIT_NAME, 'CN': NameOID.COMMON_NAME}


def normalize_subject(subject, default_cn=None):
    """Drop empty fields, apply the CN default, validate; returns {field: value} in X.509 order."""
    subject = dict(subject or {})
    if not subject.get('CN') and default_cn:
        subject['CN'] = default_cn
    unknown = sorted(set(k for k, v in subject.items() if v) - set(SUBJECT_FIELDS))
    if unknown:
        raise PKIError('unknown subject field(s) %s; allowed: %s' % (', '.join(unknown), ', '.join(SUBJECT_FIELDS)))
    result = {}
    for field in SUBJECT_FIELDS:
        value = subject.get(field)
        if value is None or str(value) == '':
            continue
        value = str(value)
        if field == 'C' and len(value) != 2:
            raise PKIError('subject.C must be a two-letter country code, got %r' % value)
        if len(value) > 64:
            raise PKIError('subject.%s is longer than 64 characters: %r' % (field, value))
        result[field] = value
    if not result.get('CN'):
        raise PKIError('subject.CN is required (for tls_cert it defaults to the first DNS name)')
    return result


def build_name(subject):
    oids = _name_oids()
    return x509.Name([x509.NameAttribute(oids[f], subject[f]) for f in SUBJECT_FIELDS if f in subject])


def name_to_dict(name):
    by_oid = dict((oid, field) for field, oid in _name_oids().items())
    result = {}
    for attribute in name:
        key = by_oid.get(attribute.oid, attribute.oid.dotted_string)
        result[key] = attribute.value if key not in result else '%s+%s' % (result[key], attribute.value)
    return result


def subject_string(subject):
    """'/C=CN/ST=Sichuan/O=GTDQ/CN=docker.gt.com CA' (the openssl -subj form)."""
    order = list(SUBJECT_FIELDS) + sorted(k for k in subject if k not in SUBJECT_FIELDS)
    return ''.join('/%s=%s' % (k, subject[k]) for k in order if k in subject)


def normalize_ip_addresses(values):
    result = []
    for value in values or []:
        try:
            address = ipaddress.ip_address(str(value).strip())
        except ValueError:
            raise PKIError('ip_addresses: %r is not a valid IPv4 or IPv6 address' % (value,))
        if str(address) not in result:
            result.append(str(address))
    return result


def normalize_dns_names(values):
    result = []
    for value in values or []:
        name = str(value).strip().lower()
        if not name or len(name) > 253 or not _DNS_NAME.match(name):
            raise PKIError('dns_names: %r is not a valid DNS name' % (value,))
        if name not in result:
            result.append(name)
    return result


def san_of(cert):
    """(dns_names, ip_addresses) of a certificate, both as lists of strings."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    dns = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def is_signed_by(cert, ca_cert):
    """True when ``cert`` names ``ca_cert`` as issuer and its signature verifies with the CA key."""
    if cert.issuer != ca_cert.subject:
        return False
    public = ca_cert.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                          cert.signature_hash_algorithm)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _signature_hash(signing_key):
    if isinstance(signing_key, ec.EllipticCurvePrivateKey) and signing_key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def check_validity_days(validity_days):
    if validity_days is None or validity_days <= 0:
        raise PKIError('validity_days must be a positive number of days, got %r' % (validity_days,))
    if validity_days > 36500:
        raise PKIError('validity_days %r is more than 100 years' % (validity_days,))


def build_ca_certificate(key, subject, validity_days, now=None):
    """Self-signed root: basicConstraints critical CA:TRUE pathlen:1; keyUsage critical
    nonRepudiation, cRLSign, keyCertSign; subjectKeyIdentifier hash (the how-to's root_ca)."""
    now = now or utcnow()
    name = build_name(subject)
    builder = (x509.CertificateBuilder()
               .subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - CLOCK_SKEW)
               .not_valid_after(now + datetime.timedelta(days=validity_days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=True,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=True, crl_sign=True,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    return builder.sign(key, _signature_hash(key))


def build_server_certificate(key, subject, dns_names, ip_addresses, validity_days, ca_cert, ca_key, now=None):
    """Server certificate with the how-to's server extensions (keyEncipherment only for RSA)."""
    now = now or utcnow()
    try:
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())
    san = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses]
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    builder = (x509.CertificateBuilder()
               .subject_name(build_name(subject)).issuer_name(ca_cert.subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - CLOCK_SKEW)
               .not_valid_after(now + datetime.timedelta(days=validity_days))
               .add_extension(aki, critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                            key_encipherment=is_rsa, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=False, crl_sign=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(ca_key, _signature_hash(ca_key))


def certificate_summary(cert):
    """Metadata only (safe for diffs and return values)."""
    subject = name_to_dict(cert.subject)
    dns, ips = san_of(cert)
    return {
        'subject': subject,
        'subject_string': subject_string(subject),
        'key_type': key_type_of(cert.public_key()),
        'serial': '%X' % cert.serial_number,
        'fingerprint_sha256': fingerprint_sha256(cert),
        'not_before': iso(not_before(cert)),
        'not_after': iso(not_after(cert)),
        'dns_names': dns,
        'ip_addresses': ips,
    }


# --- reading the current files --------------------------------------------------

class PairOnDisk(object):
    """What a certificate + key pair on disk looks like; problems collected, not raised."""

    def __init__(self, cert_path, key_path, passphrase):
        self.cert_path = cert_path
        self.key_path = key_path
        self.cert = self.cert_bytes = self.cert_problem = None
        self.key = self.key_problem = None
        self.key_exists = self.key_reencrypt = False
        self.cert_bytes = self._read(cert_path, 'certificate')
        if self.cert_bytes is not None:
            try:
                self.cert = load_certificate(self.cert_bytes, 'certificate %s' % cert_path)
            except PKIError as e:
                self.cert_problem = str(e)
        key_bytes = self._read(key_path, 'private key')
        self.key_exists = key_bytes is not None or self.key_problem is not None
        if key_bytes is not None:
            try:
                loaded = load_private_key(key_bytes, passphrase, 'private key %s' % key_path)
                self.key, self.key_reencrypt = loaded.key, loaded.reencrypt
            except PKIError as e:
                self.key_problem = str(e)

    def _read(self, path, what):
        try:
            with open(path, 'rb') as f:
                return f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            problem = '%s %s cannot be read: %s' % (what, path, e.strerror)
            if what == 'certificate':
                self.cert_problem = problem
            else:
                self.key_problem = problem
            return None

    @property
    def cert_exists(self):
        return self.cert_bytes is not None or self.cert_problem is not None

    def key_matches_cert(self):
        return self.key is not None and self.cert is not None and same_public_key(self.key, self.cert)


# --- decisions ----------------------------------------------------------------

def ca_differences(pair, subject, key_type, now=None):
    """Why an existing CA does not fit the request (empty list: it fits, or nothing exists yet).

    A missing certificate with no key (or a usable key of the wanted type) is not a
    difference: the CA is simply created.
    """
    now = now or utcnow()
    diffs = []
    if pair.cert_problem:
        diffs.append(pair.cert_problem)
    if pair.cert is not None:
        current = name_to_dict(pair.cert.subject)
        if current != subject:
            diffs.append('subject: %s -> %s' % (subject_string(current), subject_string(subject)))
        current_type = key_type_of(pair.cert.public_key())
        if current_type != key_type:
            diffs.append('key type: %s -> %s' % (current_type, key_type))
        if not is_ca(pair.cert):
            diffs.append('certificate %s is not a CA certificate (basicConstraints CA:FALSE)' % pair.cert_path)
        if not_after(pair.cert) <= now:
            diffs.append('certificate expired on %s' % iso(not_after(pair.cert)))
        if not pair.key_exists:
            diffs.append('private key %s is missing' % pair.key_path)
    if pair.key_problem:
        diffs.append(pair.key_problem)
    if pair.key is not None:
        if pair.cert is not None and not pair.key_matches_cert():
            diffs.append('private key %s does not match certificate %s' % (pair.key_path, pair.cert_path))
        elif pair.cert is None and not pair.cert_problem and key_type_of(pair.key) != key_type:
            diffs.append('existing private key type: %s -> %s' % (key_type_of(pair.key), key_type))
    return diffs


def cert_reasons(pair, ca_cert, subject, dns_names, ip_addresses, key_type, renew_before_days,
                 force=False, now=None):
    """Why a server certificate must be (re)issued; empty list when it stays as it is."""
    now = now or utcnow()
    reasons = []
    if force:
        reasons.append('force')
    if not pair.cert_exists:
        reasons.append('certificate missing')
    elif pair.cert_problem:
        reasons.append(pair.cert_problem)
    if not pair.key_exists:
        reasons.append('private key missing')
    elif pair.key_problem:
        reasons.append(pair.key_problem)
    if pair.key is not None and key_type_of(pair.key) != key_type:
        reasons.append('private key type differs: %s -> %s' % (key_type_of(pair.key), key_type))
    cert = pair.cert
    if cert is None:
        return reasons
    current_type = key_type_of(cert.public_key())
    if current_type != key_type:
        reasons.append('key type differs: %s -> %s' % (current_type, key_type))
    if pair.key is not None and not pair.key_matches_cert():
        reasons.append('private key does not match the certificate')
    if not is_signed_by(cert, ca_cert):
        reasons.append('not signed by the given CA')
    dns, ips = san_of(cert)
    if sorted(dns) != sorted(dns_names):
        reasons.append('DNS names differ: %s -> %s' % (sorted(dns), sorted(dns_names)))
    if sorted(ips) != sorted(ip_addresses):
        reasons.append('IP addresses differ: %s -> %s' % (sorted(ips), sorted(ip_addresses)))
    current_subject = name_to_dict(cert.subject)
    if current_subject != subject:
        reasons.append('subject differs: %s -> %s' % (subject_string(current_subject), subject_string(subject)))
    expires = not_after(cert)
    if expires - now <= datetime.timedelta(days=renew_before_days):
        reasons.append('expires within %d days (not_after %s)' % (renew_before_days, iso(expires)))
    return reasons


def check_directory(path, label):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise PKIError('%s: directory %s does not exist' % (label, directory))


# --- acting (the modules' main() hands over here) ------------------------------

def _write_together(files, owner, group):
    """Write [(path, bytes, mode)] so that either all renames happen or none: each file
    is first written completely to a staging name in its own directory (via
    write_atomic), only then are they renamed into place, key first."""
    staged = []
    try:
        for path, data, mode in files:
            stage = os.path.join(os.path.dirname(os.path.abspath(path)),
                                 '.%s.%d.new' % (os.path.basename(path), os.getpid()))
            write_atomic(stage, data, mode, owner, group)
            staged.append((stage, path))
        while staged:
            stage, path = staged[0]
            os.rename(stage, path)
            staged.pop(0)
    finally:
        for stage, dummy in staged:
            if os.path.exists(stage):
                os.unlink(stage)


def _metadata_changes(files, owner, group):
    changes = {}
    for label, path, mode in files:
        if path is None:
            continue
        diffs = metadata_differences(path, mode, owner, group)
        if diffs:
            changes[label] = dict((k, {'before': v[0], 'after': v[1]}) for k, v in diffs.items())
    return changes


def _apply_metadata(files, owner, group):
    for label, path, mode in files:
        if path is not None and os.path.exists(path):
            apply_metadata(path, mode, owner, group)


def _check_owner_group(owner, group):
    try:
        resolve_uid(owner)
        resolve_gid(group)
    except ValueError as e:
        raise PKIError(str(e))


def run_tls_ca(module):
    p = module.params
    key_type = p['key_type']
    try:
        check_validity_days(p['validity_days'])
        subject = normalize_subject(p['subject'])
        cert_mode = parse_mode(p['mode'])
        _check_owner_group(p['owner'], p['group'])
        check_directory(p['path'], 'path')
        check_directory(p['privatekey_path'], 'privatekey_path')
    except PKIError as e:
        module.fail_json(msg=str(e))
    pair = PairOnDisk(p['path'], p['privatekey_path'], p['privatekey_passphrase'])
    differences = ca_differences(pair, subject, key_type)

    action = None
    if differences:
        if p['regenerate'] == 'fail':
            module.fail_json(
                msg='The existing CA %s differs from the request: %s. Nothing was written. A new CA breaks '
                    'every client that trusts the old one: set regenerate=on_change (or always) to replace '
                    'it, or regenerate=keep to keep it.' % (p['path'], '; '.join(differences)),
                differences=differences)
        if p['regenerate'] == 'keep':
            module.warn('Keeping the existing CA %s although it differs from the request: %s'
                        % (p['path'], '; '.join(differences)))
        else:
            action = 'replace'
    elif not pair.cert_exists:
        action = 'create'
    elif p['regenerate'] == 'always':
        action = 'replace'
        differences = ['regenerate=always']

    files = [('certificate', p['path'], cert_mode), ('private key', p['privatekey_path'], 0o600)]
    reencrypt = action is None and pair.key_reencrypt
    metadata = {} if action else _metadata_changes(files, p['owner'], p['group'])
    changed = bool(action or reencrypt or metadata)

    before = _ca_view(pair.cert) if pair.cert is not None else {}
    planned = {'subject_string': subject_string(subject), 'key_type': key_type}
    cert = pair.cert if action is None else None
    if changed and not module.check_mode:
        try:
            if action:
                reuse = (action == 'create' and pair.key is not None and key_type_of(pair.key) == key_type)
                key = pair.key if reuse else generate_private_key(key_type)
                cert = build_ca_certificate(key, subject, p['validity_days'])
                _write_together([(p['privatekey_path'], dump_private_key(key, p['privatekey_passphrase']), 0o600),
                                 (p['path'], dump_certificate(cert), cert_mode)], p['owner'], p['group'])
            else:
                if reencrypt:
                    _write_together([(p['privatekey_path'],
                                      dump_private_key(pair.key, p['privatekey_passphrase']), 0o600)],
                                    p['owner'], p['group'])
                _apply_metadata(files, p['owner'], p['group'])
        except (OSError, ValueError) as e:
            module.fail_json(msg='Writing the CA failed: %s' % e)

    after = _ca_view(cert) if cert is not None else planned
    if reencrypt:
        after = dict(after, privatekey='encrypted with the given passphrase')
    for label, diffs in metadata.items():
        before['%s metadata' % label] = dict((k, v['before']) for k, v in diffs.items())
        after['%s metadata' % label] = dict((k, v['after']) for k, v in diffs.items())

    result = dict(changed=changed, path=p['path'], privatekey_path=p['privatekey_path'],
                  differences=differences, key_type=key_type, subject=subject,
                  subject_string=subject_string(subject),
                  fingerprint_sha256=None, not_before=None, not_after=None)
    if cert is not None:
        summary = certificate_summary(cert)
        result.update((k, summary[k]) for k in ('fingerprint_sha256', 'not_before', 'not_after', 'key_type',
                                                'subject', 'subject_string'))
    if module._diff:
        result['diff'] = dict(before=before, after=after)
    module.exit_json(**result)


def _ca_view(cert):
    s = certificate_summary(cert)
    return dict((k, s[k]) for k in ('subject_string', 'key_type', 'not_after', 'fingerprint_sha256'))


def _cert_view(cert):
    s = certificate_summary(cert)
    return dict((k, s[k]) for k in ('subject_string', 'dns_names', 'ip_addresses', 'key_type', 'serial',
                                    'not_after', 'fingerprint_sha256'))


def load_ca(ca_path, ca_key_path, passphrase):
    """The signing CA: (cert, cert_bytes, key). Any problem is a PKIError naming the path."""
    for label, path in (('ca_path', ca_path), ('ca_privatekey_path', ca_key_path)):
        if not os.path.exists(path):
            raise PKIError('%s %s does not exist' % (label, path))
    try:
        with open(ca_path, 'rb') as f:
            ca_bytes = f.read()
        with open(ca_key_path, 'rb') as f:
            ca_key_bytes = f.read()
    except OSError as e:
        raise PKIError('%s cannot be read: %s' % (e.filename, e.strerror))
    ca_cert = load_certificate(ca_bytes, 'ca_path %s' % ca_path)
    if not is_ca(ca_cert):
        raise PKIError('ca_path %s is not a CA certificate (basicConstraints CA:FALSE or missing)' % ca_path)
    ca_key = load_private_key(ca_key_bytes, passphrase, 'ca_privatekey_path %s' % ca_key_path).key
    if not same_public_key(ca_key, ca_cert):
        raise PKIError('ca_privatekey_path %s does not match the CA certificate ca_path %s' % (ca_key_path, ca_path))
    return ca_cert, ca_bytes, ca_key


def run_tls_cert(module):
    p = module.params
    key_type = p['key_type']
    try:
        check_validity_days(p['validity_days'])
        if p['renew_before_days'] < 0:
            raise PKIError('renew_before_days must be 0 or more, got %r' % p['renew_before_days'])
        dns_names = normalize_dns_names(p['dns_names'])
        ip_addresses = normalize_ip_addresses(p['ip_addresses'])
        if not dns_names and not ip_addresses:
            raise PKIError('at least one of dns_names or ip_addresses is required (clients match the SAN)')
        subject = normalize_subject(p['subject'], default_cn=(dns_names or ip_addresses)[0])
        cert_mode = parse_mode(p['mode'])
        _check_owner_group(p['owner'], p['group'])
        for option in ('path', 'privatekey_path', 'fullchain_path'):
            if p[option]:
                check_directory(p[option], option)
        if module.check_mode and not os.path.exists(p['ca_path']):
            # The CA is created by an earlier tls_ca task that check mode did not run.
            module.warn('ca_path %s does not exist (yet); in check mode the certificate is reported as to be issued'
                        % p['ca_path'])
            module.exit_json(changed=True, path=p['path'], privatekey_path=p['privatekey_path'],
                             fullchain_path=p['fullchain_path'], reasons=['CA %s does not exist yet' % p['ca_path']],
                             issuer_fingerprint_sha256=None, subject=subject, key_type=key_type,
                             dns_names=dns_names, ip_addresses=ip_addresses, fingerprint_sha256=None,
                             serial=None, not_before=None, not_after=None)
        ca_cert, ca_bytes, ca_key = load_ca(p['ca_path'], p['ca_privatekey_path'], p['ca_privatekey_passphrase'])
    except PKIError as e:
        module.fail_json(msg=str(e))
    if p['validity_days'] <= p['renew_before_days']:
        module.warn('validity_days (%d) is not more than renew_before_days (%d): the certificate will be '
                    'renewed on every run' % (p['validity_days'], p['renew_before_days']))

    pair = PairOnDisk(p['path'], p['privatekey_path'], p['privatekey_passphrase'])
    reasons = cert_reasons(pair, ca_cert, subject, dns_names, ip_addresses, key_type,
                           p['renew_before_days'], force=p['force'])
    reissue = bool(reasons)
    reuse_key = pair.key is not None and key_type_of(pair.key) == key_type and not p['force']
    rewrite_key = reissue and not reuse_key or (reuse_key and pair.key_reencrypt)

    fullchain_stale = False
    if p['fullchain_path'] and not reissue:
        current = read_bytes(p['fullchain_path'])
        fullchain_stale = current != _fullchain(pair.cert_bytes, ca_bytes)
    files = [('certificate', p['path'], cert_mode), ('private key', p['privatekey_path'], 0o600),
             ('fullchain', p['fullchain_path'], cert_mode)]
    metadata = _metadata_changes(files, p['owner'], p['group'])
    changed = bool(reissue or rewrite_key or fullchain_stale or metadata)

    cert = pair.cert if not reissue else None
    before = _cert_view(pair.cert) if pair.cert is not None else {}
    if changed and not module.check_mode:
        try:
            cert_bytes = pair.cert_bytes
            writes = []
            key = pair.key if reuse_key else None
            if rewrite_key:
                key = key or generate_private_key(key_type)
                writes.append((p['privatekey_path'], dump_private_key(key, p['privatekey_passphrase']), 0o600))
            if reissue:
                cert = build_server_certificate(key, subject, dns_names, ip_addresses, p['validity_days'],
                                                ca_cert, ca_key)
                cert_bytes = dump_certificate(cert)
                writes.append((p['path'], cert_bytes, cert_mode))
            if writes:
                _write_together(writes, p['owner'], p['group'])
            if p['fullchain_path'] and (reissue or fullchain_stale):
                _write_together([(p['fullchain_path'], _fullchain(cert_bytes, ca_bytes), cert_mode)],
                                p['owner'], p['group'])
            _apply_metadata(files, p['owner'], p['group'])
        except (OSError, ValueError) as e:
            module.fail_json(msg='Writing the certificate failed: %s' % e)

    if cert is not None:
        after = _cert_view(cert)
    else:
        after = {'subject_string': subject_string(subject), 'dns_names': dns_names, 'ip_addresses': ip_addresses,
                 'key_type': key_type, 'serial': '(new)', 'fingerprint_sha256': '(new)',
                 'not_after': iso(utcnow() + datetime.timedelta(days=p['validity_days']))}
    if fullchain_stale:
        before['fullchain'], after['fullchain'] = 'out of date', 'certificate + CA'
    if rewrite_key and reuse_key:
        after['privatekey'] = 'encrypted with the given passphrase'
    for label, diffs in metadata.items():
        before['%s metadata' % label] = dict((k, v['before']) for k, v in diffs.items())
        after['%s metadata' % label] = dict((k, v['after']) for k, v in diffs.items())

    result = dict(changed=changed, path=p['path'], privatekey_path=p['privatekey_path'],
                  fullchain_path=p['fullchain_path'], reasons=reasons,
                  issuer_fingerprint_sha256=fingerprint_sha256(ca_cert),
                  subject=subject, key_type=key_type, dns_names=dns_names, ip_addresses=ip_addresses,
                  fingerprint_sha256=None, serial=None, not_before=None, not_after=None)
    if cert is not None:
        summary = certificate_summary(cert)
        result.update((k, summary[k]) for k in ('fingerprint_sha256', 'serial', 'not_before', 'not_after',
                                                'dns_names', 'ip_addresses', 'subject', 'key_type'))
    if module._diff:
        result['diff'] = dict(before=before, after=after)
    module.exit_json(**result)


def _fullchain(cert_bytes, ca_bytes):
    if cert_bytes is None:
        return None
    return cert_bytes.rstrip(b'\n') + b'\n' + ca_bytes.rstrip(b'\n') + b'\n'


# --- tls_cert_info ------------------------------------------------------------

def cert_info(path, privatekey_path=None, passphrase=None, ca_path=None):
    """Read-only view of a certificate, and how it relates to a key and a CA.

    Returns (info, problems): metadata of the certificate (and of the CA), whether
    the key matches it, whether the CA signed it, and a list of mismatches in words.
    """
    pair = PairOnDisk(path, privatekey_path or os.devnull, passphrase)
    if pair.cert is None:
        raise PKIError(pair.cert_problem or 'path %s does not exist' % path)
    info = certificate_summary(pair.cert)
    info.update(path=path, is_ca=is_ca(pair.cert), expired=not_after(pair.cert) <= utcnow())
    problems = []
    if privatekey_path:
        if pair.key is None:
            raise PKIError(pair.key_problem or 'privatekey_path %s does not exist' % privatekey_path)
        info['key_matches'] = pair.key_matches_cert()
        if not info['key_matches']:
            problems.append('privatekey_path %s does not match the certificate %s' % (privatekey_path, path))
    if ca_path:
        ca_bytes = read_bytes(ca_path)
        if ca_bytes is None:
            raise PKIError('ca_path %s does not exist' % ca_path)
        ca_cert = load_certificate(ca_bytes, 'ca_path %s' % ca_path)
        info['ca'] = certificate_summary(ca_cert)
        info['signed_by_ca'] = is_signed_by(pair.cert, ca_cert) or pair.cert.public_bytes(
            serialization.Encoding.DER) == ca_cert.public_bytes(serialization.Encoding.DER)
        if not info['signed_by_ca']:
            problems.append('the certificate %s is not signed by the CA ca_path %s' % (path, ca_path))
    if info['expired']:
        problems.append('the certificate %s expired on %s' % (path, info['not_after']))
    return info, problems


def run_tls_cert_info(module):
    p = module.params
    try:
        info, problems = cert_info(p['path'], p['privatekey_path'], p['privatekey_passphrase'], p['ca_path'])
    except (PKIError, OSError) as e:
        module.fail_json(msg=str(e))
    if problems and p['fail_on_mismatch']:
        module.fail_json(msg='; '.join(problems), problems=problems, **info)
    module.exit_json(changed=False, problems=problems, **info)
