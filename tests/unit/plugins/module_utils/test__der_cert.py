"""The stdlib DER reader against cryptography's view of the same certificates."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

import certfactory
from ansible_collections.berth.registry.plugins.module_utils import _der_cert


def _utc(value):
    return getattr(value, 'not_valid_after_utc', None)


@pytest.fixture(scope='module')
def ca():
    return certfactory.make_ca('Doctor CA', 'berth, test "quoted"')


def test_server_certificate_fields_match_cryptography(ca):
    server = certfactory.make_server(ca, dns_names=('registry.berth.test', '*.apps.berth.test'),
                                     ip_addresses=('172.29.77.10', '2001:db8::1'))
    info = _der_cert.parse_certificate(server.der)
    cert = server.cert
    assert info['subject'] == cert.subject.rfc4514_string()
    assert info['issuer'] == cert.issuer.rfc4514_string() == ca.cert.subject.rfc4514_string()
    assert info['not_after'] == cert.not_valid_after_utc
    assert info['not_before'] == cert.not_valid_before_utc
    assert info['dns_names'] == ['registry.berth.test', '*.apps.berth.test']
    assert info['ip_addresses'] == ['172.29.77.10', '2001:db8::1']
    assert info['is_ca'] is False
    assert info['key_type'] == 'EC'
    assert info['serial'] == '%X' % cert.serial_number
    assert info['fingerprint_sha256'] == server.fingerprint
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert info['authority_key_id'] == aki.hex()


def test_ca_fields_and_issuer_match(ca):
    info = _der_cert.parse_certificate(ca.der)
    assert info['is_ca'] is True
    assert info['subject'] == ca.cert.subject.rfc4514_string()
    assert ',' in ca.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    server = _der_cert.parse_certificate(certfactory.make_server(ca).der)
    other = _der_cert.parse_certificate(certfactory.make_ca('Doctor CA', 'berth, test "quoted"').der)
    assert _der_cert.issued_by(server, info)
    # same name, another key: the key identifiers tell them apart
    assert not _der_cert.issued_by(server, other)
    assert not _der_cert.issued_by(server, _der_cert.parse_certificate(certfactory.make_ca('Other CA').der))


def test_pem_blocks_roundtrip_and_skip_garbage(ca):
    text = 'junk\n' + ca.pem + '-----BEGIN CERTIFICATE-----\n!!!notbase64\n-----END CERTIFICATE-----\n'
    blocks = _der_cert.pem_blocks(text)
    assert blocks == [ca.der]
    assert _der_cert.pem_blocks(_der_cert.der_to_pem(ca.der)) == [ca.der]
    assert _der_cert.pem_blocks(None) == []


@pytest.mark.parametrize('data', [b'', b'\x30', b'\x30\x82\xff\xff', b'\x04\x00', b'\x30\x03\x02\x01\x01'])
def test_garbage_is_a_certificate_error(data):
    with pytest.raises(_der_cert.CertificateError):
        _der_cert.parse_certificate(data)


def test_days_left_and_summary(ca):
    expired = certfactory.make_server(ca, expired_days_ago=3)
    info = _der_cert.parse_certificate(expired.der)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert _der_cert.days_left(info['not_after'], now) in (-4, -3)
    summary = _der_cert.summary(info, now)
    assert summary['not_after'].endswith('Z') and summary['fingerprint_sha256'] == expired.fingerprint
    assert _der_cert.short_fingerprint(summary['fingerprint_sha256']).endswith('..')
