# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kinds of certificates: what each carries, how an existing one differs from its kind, issuing one.

Pure (no files). A ``Request`` says what to issue (kind, subject, SANs, key type, validity);
``issue()`` builds and signs it. The decisions and the plan work on any ``Kind``:

* a client certificate for mutual TLS is ``ClientCertificate`` (a ``LeafCertificate`` with the usage
  clientAuth);
* the next CA of a rollover is a ``RootCA`` request issued with ``signer=`` the current CA
  (cross-signed), or self-signed and trusted next to the current one until the switch.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import datetime

from ansible_collections.berth.registry.plugins.module_utils._pki.certs import (
    extended_key_usages, is_ca, utcnow,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.names import build_name, general_names

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID
except ImportError:  # reported by _crypto_deps.require_cryptography()
    pass

CLOCK_SKEW = datetime.timedelta(minutes=5)


class Request(object):
    """What to issue. ``dns_names``/``ip_addresses`` None: the kind carries no SANs (a CA)."""

    def __init__(self, kind, subject, key_type, validity_days, dns_names=None, ip_addresses=None):
        self.kind = kind
        self.subject = subject
        self.key_type = key_type
        self.validity_days = validity_days
        self.dns_names = dns_names
        self.ip_addresses = ip_addresses


class Kind(object):
    """One kind of certificate. Subclasses say which extensions it carries and which of them matter
    when an existing certificate is compared with a request."""

    name = 'certificate'
    is_ca = False

    def extensions(self, request, public_key, issuer_cert):
        """[(extension, critical)] beyond subject, issuer, validity and serial."""
        raise NotImplementedError

    def differences(self, cert):
        """[(field, before, after)]: how an existing certificate falls short of this kind."""
        raise NotImplementedError


class RootCA(Kind):
    """The how-to's ``root_ca``: basicConstraints critical CA:TRUE with a path length; keyUsage critical
    nonRepudiation, cRLSign, keyCertSign; subjectKeyIdentifier hash.

    The path length defaults to 0: this CA signs leaf certificates only. Berth made CAs with pathlen:1 (the
    how-to's value) before; the path length is not compared, so such a CA is kept as it is.
    """

    name = 'CA certificate'
    is_ca = True

    def __init__(self, path_length=0):
        self.path_length = path_length

    def extensions(self, request, public_key, issuer_cert):
        result = [
            (x509.BasicConstraints(ca=True, path_length=self.path_length), True),
            (x509.KeyUsage(digital_signature=False, content_commitment=True, key_encipherment=False,
                           data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                           encipher_only=False, decipher_only=False), True),
            (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
        ]
        if issuer_cert is not None:
            result.append((authority_key_identifier(issuer_cert), False))
        return result

    def differences(self, cert):
        if not is_ca(cert):
            return [('basic_constraints', 'CA:FALSE', 'CA:TRUE')]
        return []


class LeafCertificate(Kind):
    """A certificate signed by the CA for an end entity: basicConstraints critical CA:FALSE, keyUsage
    critical digitalSignature (plus keyEncipherment for RSA keys), the kind's extendedKeyUsage, AKI/SKI
    and the subjectAltName (critical when the subject is empty, RFC 5280 4.2.1.6)."""

    usages = ()

    def extensions(self, request, public_key, issuer_cert):
        result = [
            (authority_key_identifier(issuer_cert), False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.ExtendedKeyUsage(list(self.usages)), False),
            (x509.KeyUsage(digital_signature=True, content_commitment=False,
                           key_encipherment=isinstance(public_key, rsa.RSAPublicKey), data_encipherment=False,
                           key_agreement=False, key_cert_sign=False, crl_sign=False,
                           encipher_only=False, decipher_only=False), True),
            (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
        ]
        san = general_names(request.dns_names, request.ip_addresses)
        if san:
            result.append((x509.SubjectAlternativeName(san), not request.subject))
        return result

    def differences(self, cert):
        result = []
        if is_ca(cert):
            result.append(('basic_constraints', 'CA:TRUE', 'CA:FALSE'))
        present = extended_key_usages(cert)
        if any(usage not in present for usage in self.usages):
            result.append(('extended_key_usage', sorted(_usage_name(u) for u in present),
                           sorted(_usage_name(u) for u in self.usages)))
        return result


class ServerCertificate(LeafCertificate):
    """A TLS server (the registry): extendedKeyUsage serverAuth."""

    name = 'server certificate'

    @property
    def usages(self):
        return (ExtendedKeyUsageOID.SERVER_AUTH,)


class ClientCertificate(LeafCertificate):
    """A TLS client (a node presenting itself to the registry's front end for mutual TLS): extendedKeyUsage
    clientAuth. Its subject names the node; it carries no subjectAltName (nothing matches a client by name)."""

    name = 'client certificate'

    @property
    def usages(self):
        return (ExtendedKeyUsageOID.CLIENT_AUTH,)


def issue(request, key, signer_key=None, issuer_cert=None, now=None):
    """Build and sign the certificate of ``request`` for ``key`` (a private or public key).

    Self-signed when ``issuer_cert`` is None (then ``signer_key`` defaults to ``key``).
    """
    now = now or utcnow()
    public_key = key.public_key() if hasattr(key, 'public_key') else key
    signer_key = signer_key if signer_key is not None else key
    name = build_name(request.subject)
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(issuer_cert.subject if issuer_cert is not None else name)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - CLOCK_SKEW)
               .not_valid_after(now + datetime.timedelta(days=request.validity_days)))
    for extension, critical in request.kind.extensions(request, public_key, issuer_cert):
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer_key, signature_hash(signer_key))


def signature_hash(signing_key):
    if isinstance(signing_key, ec.EllipticCurvePrivateKey) and signing_key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def authority_key_identifier(issuer_cert):
    try:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key())


def _usage_name(oid):
    return getattr(oid, '_name', None) or oid.dotted_string
