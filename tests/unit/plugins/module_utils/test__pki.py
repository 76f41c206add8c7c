# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime
import subprocess

import pytest
from cryptography import x509

from ansible_collections.berth.registry.plugins.module_utils import _pki as pki

HOWTO_SUBJECT = {'C': 'CN', 'ST': 'Sichuan', 'L': 'Chengdu', 'O': 'GTDQ', 'CN': 'docker.gt.com CA'}


@pytest.fixture(scope='module')
def ca():
    key = pki.generate_private_key('ecdsa-p256')
    return key, pki.build_ca_certificate(key, HOWTO_SUBJECT, 3650)


def write_pair(tmp_path, cert, key, passphrase=None, name='server'):
    (tmp_path / ('%s.crt' % name)).write_bytes(pki.dump_certificate(cert))
    (tmp_path / ('%s.key' % name)).write_bytes(pki.dump_private_key(key, passphrase))
    return pki.PairOnDisk(str(tmp_path / ('%s.crt' % name)), str(tmp_path / ('%s.key' % name)), passphrase)


def issue(ca, key=None, dns=('docker.gt.com',), ips=('127.0.0.1',), days=397, now=None):
    ca_key, ca_cert = ca
    key = key or pki.generate_private_key('ecdsa-p256')
    cert = pki.build_server_certificate(key, {'CN': dns[0]}, list(dns), list(ips), days, ca_cert, ca_key, now=now)
    return key, cert


@pytest.mark.parametrize('key_type', pki.KEY_TYPES[:3])
def test_generated_key_types_round_trip(key_type):
    key = pki.generate_private_key(key_type)
    assert pki.key_type_of(key) == key_type
    loaded = pki.load_private_key(pki.dump_private_key(key, None), None, 'k')
    assert pki.same_public_key(loaded.key, key) and not loaded.reencrypt


def test_unknown_key_type_is_named():
    with pytest.raises(pki.PKIError, match="'dsa-1024'"):
        pki.generate_private_key('dsa-1024')


def test_encrypted_key_needs_the_right_passphrase():
    key = pki.generate_private_key('ecdsa-p256')
    data = pki.dump_private_key(key, 'Corr3ct-Horse')
    assert pki.is_encrypted_pem(data)
    assert pki.same_public_key(pki.load_private_key(data, 'Corr3ct-Horse', 'k').key, key)
    with pytest.raises(pki.PKIError, match='cannot be decrypted'):
        pki.load_private_key(data, 'wrong-one', 'k')
    with pytest.raises(pki.PKIError, match='no passphrase'):
        pki.load_private_key(data, None, 'k')
    # a plain key with a passphrase requested is loaded and flagged for re-encryption
    assert pki.load_private_key(pki.dump_private_key(key, None), 'Corr3ct-Horse', 'k').reencrypt


def test_garbage_key_is_an_error_naming_the_label():
    with pytest.raises(pki.PKIError, match='ca_privatekey_path /x'):
        pki.load_private_key(b'not a key', None, 'ca_privatekey_path /x')


def test_ca_certificate_has_the_howto_extensions(ca, tmp_path):
    key, cert = ca
    path = tmp_path / 'ca.crt'
    path.write_bytes(pki.dump_certificate(cert))
    text = subprocess.run(['openssl', 'x509', '-in', str(path), '-noout', '-text'],
                          capture_output=True, text=True, check=True).stdout
    assert 'CA:TRUE, pathlen:1' in text
    assert 'Non Repudiation, Certificate Sign, CRL Sign' in text
    assert 'X509v3 Subject Key Identifier' in text
    assert pki.name_to_dict(cert.subject) == HOWTO_SUBJECT
    assert pki.subject_string(HOWTO_SUBJECT) == '/C=CN/ST=Sichuan/L=Chengdu/O=GTDQ/CN=docker.gt.com CA'
    openssl_fp = subprocess.run(['openssl', 'x509', '-in', str(path), '-noout', '-fingerprint', '-sha256'],
                                capture_output=True, text=True, check=True).stdout.strip().split('=', 1)[1]
    assert pki.fingerprint_sha256(cert) == openssl_fp


def test_server_certificate_extensions_depend_on_key_type(ca):
    for key_type, encipherment in (('ecdsa-p256', False), ('rsa-2048', True)):
        key, cert = issue(ca, key=pki.generate_private_key(key_type), ips=('127.0.0.1', '::1'))
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.digital_signature
        assert usage.value.key_encipherment is encipherment
        assert pki.san_of(cert) == (['docker.gt.com'], ['127.0.0.1', '::1'])
        assert pki.is_signed_by(cert, ca[1])


def test_subject_validation():
    assert pki.normalize_subject({'CN': None, 'O': ''}, default_cn='a.example') == {'CN': 'a.example'}
    with pytest.raises(pki.PKIError, match="'China'"):
        pki.normalize_subject({'C': 'China', 'CN': 'x'})
    with pytest.raises(pki.PKIError, match='CN is required'):
        pki.normalize_subject({'O': 'x'})


def test_san_normalisation_and_bad_values():
    assert pki.normalize_ip_addresses(['127.0.0.1', '2001:DB8::0001', '127.0.0.1']) == ['127.0.0.1', '2001:db8::1']
    assert pki.normalize_dns_names(['Docker.GT.com', '*.gt.com']) == ['docker.gt.com', '*.gt.com']
    with pytest.raises(pki.PKIError, match="'300.1.2.3'"):
        pki.normalize_ip_addresses(['300.1.2.3'])
    with pytest.raises(pki.PKIError, match="'bad name'"):
        pki.normalize_dns_names(['bad name'])


@pytest.mark.parametrize('days', [0, -5, None])
def test_validity_must_be_positive(days):
    with pytest.raises(pki.PKIError, match='validity_days'):
        pki.check_validity_days(days)


def test_fresh_certificate_needs_nothing(ca, tmp_path):
    key, cert = issue(ca)
    pair = write_pair(tmp_path, cert, key)
    assert pki.cert_reasons(pair, ca[1], {'CN': 'docker.gt.com'}, ['docker.gt.com'], ['127.0.0.1'],
                            'ecdsa-p256', 30) == []


def test_reasons_for_reissue(ca, tmp_path):
    key, cert = issue(ca)
    pair = write_pair(tmp_path, cert, key)
    subject = {'CN': 'docker.gt.com'}
    reasons = pki.cert_reasons(pair, ca[1], subject, ['docker.gt.com', 'other.gt.com'], ['::1'], 'rsa-2048', 30)
    text = ' | '.join(reasons)
    assert 'DNS names differ' in text and 'IP addresses differ' in text and 'key type differs' in text
    other_ca_key = pki.generate_private_key('ecdsa-p256')
    other_ca = pki.build_ca_certificate(other_ca_key, HOWTO_SUBJECT, 10)  # same subject, other key
    assert pki.cert_reasons(pair, other_ca, subject, ['docker.gt.com'], ['127.0.0.1'], 'ecdsa-p256', 30) == [
        'not signed by the given CA']
    assert pki.cert_reasons(pair, ca[1], subject, ['docker.gt.com'], ['127.0.0.1'], 'ecdsa-p256', 30,
                            force=True) == ['force']


def test_renewal_window(ca, tmp_path):
    key, cert = issue(ca, days=10)
    pair = write_pair(tmp_path, cert, key)
    reasons = pki.cert_reasons(pair, ca[1], {'CN': 'docker.gt.com'}, ['docker.gt.com'], ['127.0.0.1'],
                               'ecdsa-p256', 30)
    assert len(reasons) == 1 and reasons[0].startswith('expires within 30 days')
    assert pki.cert_reasons(pair, ca[1], {'CN': 'docker.gt.com'}, ['docker.gt.com'], ['127.0.0.1'],
                            'ecdsa-p256', 5) == []


def test_missing_mismatched_and_unreadable_files(ca, tmp_path):
    key, cert = issue(ca)
    pair = write_pair(tmp_path, cert, pki.generate_private_key('ecdsa-p256'))
    args = (ca[1], {'CN': 'docker.gt.com'}, ['docker.gt.com'], ['127.0.0.1'], 'ecdsa-p256', 30)
    assert pki.cert_reasons(pair, *args) == ['private key does not match the certificate']
    (tmp_path / 'server.crt').write_bytes(b'garbage')
    pair = pki.PairOnDisk(str(tmp_path / 'server.crt'), str(tmp_path / 'none.key'), None)
    reasons = pki.cert_reasons(pair, *args)
    assert 'not a readable PEM certificate' in reasons[0] and reasons[1] == 'private key missing'


def test_ca_differences(ca, tmp_path):
    key, cert = ca
    pair = write_pair(tmp_path, cert, key, name='ca')
    assert pki.ca_differences(pair, HOWTO_SUBJECT, 'ecdsa-p256') == []
    diffs = pki.ca_differences(pair, dict(HOWTO_SUBJECT, CN='other CA'), 'rsa-4096')
    assert diffs == ['subject: /C=CN/ST=Sichuan/L=Chengdu/O=GTDQ/CN=docker.gt.com CA -> '
                     '/C=CN/ST=Sichuan/L=Chengdu/O=GTDQ/CN=other CA', 'key type: ecdsa-p256 -> rsa-4096']
    later = pki.utcnow() + datetime.timedelta(days=4000)
    assert any('expired' in d for d in pki.ca_differences(pair, HOWTO_SUBJECT, 'ecdsa-p256', now=later))
    (tmp_path / 'ca.key').unlink()
    assert pki.ca_differences(pki.PairOnDisk(pair.cert_path, pair.key_path, None), HOWTO_SUBJECT,
                              'ecdsa-p256') == ['private key %s is missing' % pair.key_path]
    nothing = pki.PairOnDisk(str(tmp_path / 'new.crt'), str(tmp_path / 'new.key'), None)
    assert pki.ca_differences(nothing, HOWTO_SUBJECT, 'ecdsa-p256') == [] and not nothing.cert_exists


def test_load_ca_rejects_a_key_of_another_ca(ca, tmp_path):
    key, cert = ca
    (tmp_path / 'ca.crt').write_bytes(pki.dump_certificate(cert))
    (tmp_path / 'other.key').write_bytes(pki.dump_private_key(pki.generate_private_key('ecdsa-p256'), None))
    with pytest.raises(pki.PKIError, match='does not match the CA certificate'):
        pki.load_ca(str(tmp_path / 'ca.crt'), str(tmp_path / 'other.key'), None)
    with pytest.raises(pki.PKIError, match='does not exist'):
        pki.load_ca(str(tmp_path / 'ca.crt'), str(tmp_path / 'missing.key'), None)


def test_mode_parsing():
    assert pki.parse_mode('0644') == 0o644 and pki.parse_mode(0o600) == 0o600
    with pytest.raises(pki.PKIError, match="'rw-r--r--'"):
        pki.parse_mode('rw-r--r--')


def test_write_together_leaves_nothing_on_failure(tmp_path):
    with pytest.raises(OSError):
        pki._write_together([(str(tmp_path / 'k'), b'key', 0o600),
                             (str(tmp_path / 'no-such-dir' / 'c'), b'cert', 0o644)], None, None)
    assert list(tmp_path.iterdir()) == []
    pki._write_together([(str(tmp_path / 'k'), b'key', 0o600), (str(tmp_path / 'c'), b'cert', 0o644)], None, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['c', 'k']
    assert (tmp_path / 'k').stat().st_mode & 0o777 == 0o600
