import base64
import hashlib

import pytest

from ansible_collections.berth.registry.plugins.module_utils._certs_d import (
    CertsDirError, ca_paths, cert_dir_names, fingerprint, normalize_pem, split_registry,
)

DER = b'\x30\x03\x02\x01\x01'
PEM = '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----' % base64.b64encode(DER).decode()


@pytest.mark.parametrize('registry, dirs', [
    ('reg.test', ['reg.test:443', 'reg.test']),
    ('reg.test:443', ['reg.test:443', 'reg.test']),
    ('reg.test:5000', ['reg.test:5000']),
    ('192.0.2.1:5000', ['192.0.2.1:5000']),
    ('[2001:db8::1]:5000', ['[2001:db8::1]:5000']),
])
def test_cert_dir_names(registry, dirs):
    assert cert_dir_names(registry) == dirs


@pytest.mark.parametrize('bad', ['https://reg.test', 'reg.test/path', 'reg.test:0', 'reg.test:99999', '', 'a b'])
def test_bad_registry(bad):
    with pytest.raises(CertsDirError):
        split_registry(bad)


def test_pem_checks_and_fingerprint():
    assert normalize_pem(PEM + '\n\n') == PEM + '\n'
    with pytest.raises(CertsDirError, match='BEGIN CERTIFICATE'):
        normalize_pem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')
    with pytest.raises(CertsDirError, match='no complete'):
        normalize_pem('-----BEGIN CERTIFICATE-----\nAAAA\n')
    digest = hashlib.sha256(DER).hexdigest().upper()
    assert fingerprint(PEM).replace(':', '') == digest


def test_ca_paths():
    assert ca_paths('/etc/docker/certs.d', 'r:5000') == ['/etc/docker/certs.d/r:5000/ca.crt']
