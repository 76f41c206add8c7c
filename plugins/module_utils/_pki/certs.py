# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Certificates: load, dump, validity, fingerprint, signature check, metadata summary. Pure (no files).

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import datetime

from ansible_collections.berth.registry.plugins.module_utils._pki.errors import DamagedFile, PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import key_type_of
from ansible_collections.berth.registry.plugins.module_utils._pki.names import name_to_dict, san_of, subject_string

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
except ImportError:  # reported by _crypto_deps.require_cryptography()
    pass

MAX_VALIDITY_DAYS = 36500


def check_validity_days(days, option='validity_days'):
    if days is None or isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise PKIError('%s must be a positive number of days, got %r' % (option, days))
    if days > MAX_VALIDITY_DAYS:
        raise PKIError('%s: %r days is more than %d (100 years)' % (option, days, MAX_VALIDITY_DAYS))
    return days


def load_pem(loader, data, label, what):
    """``loader(data)`` (a cryptography PEM loader); DamagedFile naming ``label`` and ``what`` when it fails."""
    try:
        return loader(data)
    except Exception as exc:  # pylint: disable=broad-exception-caught  # cryptography raises several types
        raise DamagedFile('%s is not a readable PEM %s (%s)' % (label, what, str(exc).split('\n', maxsplit=1)[0]))


def load_certificate(data, label):
    """The first PEM certificate of data; DamagedFile naming ``label`` when there is none."""
    return load_pem(x509.load_pem_x509_certificate, data, label, 'certificate')


def dump_certificate(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def fingerprint_sha256(cert):
    return ':'.join('%02X' % b for b in bytearray(cert.fingerprint(hashes.SHA256())))


def not_before(cert):
    value = getattr(cert, 'not_valid_before_utc', None)  # cryptography >= 42
    return value if value is not None else cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(cert):
    value = getattr(cert, 'not_valid_after_utc', None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def extended_key_usages(cert):
    """The EKU OIDs of a certificate (empty when it has none)."""
    try:
        return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return []


def is_signed_by(cert, issuer_cert):
    """True when ``cert`` names ``issuer_cert`` as issuer and its signature verifies with the issuer's key."""
    if cert.issuer != issuer_cert.subject:
        return False
    public = issuer_cert.public_key()
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
