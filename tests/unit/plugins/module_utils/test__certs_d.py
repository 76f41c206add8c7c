import base64
import hashlib

import pytest

from ansible_collections.berth.registry.plugins.module_utils._certs_d import (
    CertsDirError, ca_paths, certificates, dir_names, fingerprints, foreign_blocks,
)

DER = b'\x30\x03\x02\x01\x01'
DER2 = b'\x30\x03\x02\x01\x02'
PEM = '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % base64.b64encode(DER).decode()
PEM2 = '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % base64.b64encode(DER2).decode()
KEY_BODY = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKeyBytesThatMustNeverShow'
KEY = '-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n' % KEY_BODY


@pytest.mark.parametrize('host, port, dirs', [
    ('reg.test', None, ['reg.test:443', 'reg.test']),
    ('reg.test', 443, ['reg.test:443', 'reg.test']),
    ('reg.test', 5000, ['reg.test:5000']),
    ('192.0.2.1', 5000, ['192.0.2.1:5000']),
    ('2001:db8::1', 5000, ['[2001:db8::1]:5000']),
])
def test_dir_names(host, port, dirs):
    assert dir_names(host, port) == dirs


def test_ca_paths():
    assert ca_paths('/etc/docker/certs.d', 'r', 5000) == ['/etc/docker/certs.d/r:5000/ca.crt']


def test_certificates_are_canonical_and_a_bundle_is_a_list():
    assert certificates(PEM.replace('\n', '\r\n') + '\n\n') == [PEM]
    assert certificates('subject=CN = old\n' + PEM + '\nsubject=CN = next\n' + PEM2) == [PEM, PEM2]


@pytest.mark.parametrize('text', [PEM + KEY, KEY + PEM, KEY, PEM + KEY.replace('-----END PRIVATE KEY-----\n', ''),
                                  PEM + KEY.replace('PRIVATE KEY', 'EC PRIVATE KEY')])
def test_anything_but_certificates_is_refused_without_showing_it(text):
    with pytest.raises(CertsDirError, match=r'ca_content: PEM block \d is a (EC )?PRIVATE KEY, not a CERTIFICATE') as exc:
        certificates(text)
    assert KEY_BODY not in str(exc.value)
    assert all(KEY_BODY in block for block in foreign_blocks(text)) and foreign_blocks(text)


@pytest.mark.parametrize('text, message', [
    ('hello', 'needs complete'), ('', 'must be PEM text'), (None, 'must be PEM text'),
    ('-----BEGIN CERTIFICATE-----\nAAAA\n', 'needs complete'),
    ('-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n', 'not valid base64'),
    ('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'not a DER certificate'),
])
def test_bad_pem_is_refused_naming_the_option(text, message):
    with pytest.raises(CertsDirError, match='ca_content.*%s' % message):
        certificates(text)


def test_fingerprints_of_every_certificate():
    digest = hashlib.sha256(DER).hexdigest().upper()
    shown = fingerprints((PEM + PEM2).encode())
    assert shown.startswith('sha256 ' + ':'.join(digest[i:i + 2] for i in range(0, 64, 2)) + ', sha256 ')
    assert fingerprints(None) is None and fingerprints(b'junk') == '(no certificate)'
    assert foreign_blocks(PEM + PEM2) == [] and foreign_blocks(None) == []
