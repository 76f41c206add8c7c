# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Certificate revocation lists signed by our CA: build, load, dump, and how one differs from what it
should list. Pure (no files).

A verifier that is given a CRL (nginx ``ssl_crl``) refuses EVERY certificate of that CA once the CRL's
nextUpdate has passed, and refuses the CA's certificates when it has no CRL of that CA at all: the CRL is
therefore always there (empty when nothing is revoked) and is re-signed before its nextUpdate, like a
certificate before its expiry. It never outlives the CA that signs it.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import datetime
from collections import namedtuple

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import iso, load_pem, not_after, utcnow
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import (
    CLOCK_SKEW, authority_key_identifier, signature_hash,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.names import name_to_dict, subject_string

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # reported by _crypto_deps.require_cryptography()
    pass


class Revoked(namedtuple('Revoked', 'serial revoked_at')):
    """One revoked certificate: its serial number (int) and when it was revoked (aware datetime)."""


def serial_text(serial):
    """A serial number as certificate_summary shows it (upper-case hex)."""
    return '%X' % serial


def next_update_for(issuer_cert, now, validity_days):
    """When a CRL signed now should be replaced: ``validity_days`` ahead, never after the CA expires."""
    return min(now + datetime.timedelta(days=validity_days), not_after(issuer_cert))


def build_crl(issuer_cert, issuer_key, revoked, number, now=None, next_update=None, validity_days=397):
    """A CRL of ``issuer_cert`` listing ``revoked`` (Revoked), CRL number ``number``, signed with ``issuer_key``."""
    now = now or utcnow()
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(issuer_cert.subject)
               .last_update(now - CLOCK_SKEW)
               .next_update(next_update or next_update_for(issuer_cert, now, validity_days))
               .add_extension(x509.CRLNumber(number), critical=False)
               .add_extension(authority_key_identifier(issuer_cert), critical=False))
    for entry in sorted(revoked, key=lambda r: r.serial):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
            .add_extension(x509.CRLReason(x509.ReasonFlags.cessation_of_operation), critical=False)
            .build())
    return builder.sign(issuer_key, signature_hash(issuer_key))


def load_crl(data, label):
    """The PEM CRL in data; DamagedFile naming ``label`` when there is none."""
    return load_pem(x509.load_pem_x509_crl, data, label, 'CRL')


def dump_crl(crl):
    return crl.public_bytes(serialization.Encoding.PEM)


def crl_number(crl):
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def revoked_serials(crl):
    return sorted(entry.serial_number for entry in crl)


def next_update(crl):
    value = getattr(crl, 'next_update_utc', None)  # cryptography >= 42
    if value is None and crl.next_update is not None:
        value = crl.next_update.replace(tzinfo=datetime.timezone.utc)
    return value


def revocation_date(entry):
    value = getattr(entry, 'revocation_date_utc', None)  # cryptography >= 42
    return value if value is not None else entry.revocation_date.replace(tzinfo=datetime.timezone.utc)


def crl_signed_by(crl, issuer_cert):
    """True when the CRL names ``issuer_cert`` as issuer and its signature verifies with the CA's key."""
    if crl.issuer != issuer_cert.subject:
        return False
    try:
        return crl.is_signature_valid(issuer_cert.public_key())
    except (TypeError, ValueError):
        return False


def crl_differences(crl, issuer_cert, serials, renew_before_days=30, now=None, label='crl'):
    """How an existing CRL falls short of listing exactly ``serials`` for ``issuer_cert``, valid for more than
    ``renew_before_days``. Fields: ``<label> issuer``, ``<label> revoked`` (hex serials), ``<label> next_update``."""
    now = now or utcnow()
    found = Differences()
    if not crl_signed_by(crl, issuer_cert):
        found.add('%s issuer' % label, subject_string(name_to_dict(crl.issuer)) + ' (not signed by this CA)',
                  subject_string(name_to_dict(issuer_cert.subject)))
    current, wanted = revoked_serials(crl), sorted(serials)
    if current != wanted:
        found.add('%s revoked' % label, [serial_text(s) for s in current], [serial_text(s) for s in wanted])
    expires = next_update(crl)
    # within the renewal window, unless the CA itself ends sooner (a CRL never outlives its CA)
    if expires is None or (expires - now <= datetime.timedelta(days=renew_before_days)
                           and expires < not_after(issuer_cert)):
        found.add('%s next_update' % label, None if expires is None else iso(expires), 'renewed')
    return found
