"""Certificates for tests, made with cryptography: a CA, server certificates (also expired or for other names)."""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _name(cn, org=None):
    attrs = ([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []) + \
        [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    return x509.Name(attrs)


class Pair:
    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @property
    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self):
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()

    @property
    def fingerprint(self):
        return ':'.join('%02X' % b for b in self.cert.fingerprint(hashes.SHA256()))

    def write(self, directory, name):
        """name.crt and name.key in directory; returns (cert path, key path)."""
        cert, key = '%s/%s.crt' % (directory, name), '%s/%s.key' % (directory, name)
        with open(cert, 'w') as f:
            f.write(self.pem)
        with open(key, 'w') as f:
            f.write(self.key_pem)
        return cert, key


def make_ca(cn='Test CA', org='berth.test', days=3650):
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(_name(cn, org)).issuer_name(_name(cn, org))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return Pair(cert, key)


def make_server(ca, dns_names=('registry.berth.test',), ip_addresses=('127.0.0.1',), days=397, expired_days_ago=None,
                cn=None, not_before_days=-1):
    """A server certificate signed by ca; expired_days_ago=N makes one that ended N days ago."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    if expired_days_ago is not None:
        start, end = now - datetime.timedelta(days=expired_days_ago + 30), now - datetime.timedelta(days=expired_days_ago)
    else:
        start, end = now + datetime.timedelta(days=not_before_days), now + datetime.timedelta(days=days)
    san = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (x509.CertificateBuilder().subject_name(_name(cn or (dns_names[0] if dns_names else 'server')))
               .issuer_name(ca.cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return Pair(builder.sign(ca.key, hashes.SHA256()), key)


def make_client(ca, cn='client1', days=397):
    """A client certificate (EKU clientAuth, subject CN=cn) signed by ca, as the server role issues for mutual TLS."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca.key, hashes.SHA256()))
    return Pair(cert, key)
