# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tls_ca / tls_cert through real playbooks, checked with openssl, curl and the real Distribution."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bed.playbook import run_playbook
from _bad_input_table import Case, check_table, run_table
from _secrets import assert_no_leaks, file_secrets, marker

PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks')
CA_PASSPHRASE = 'ca-Pass-4Qz9-wVx'
REGISTRY_PASSWORD = 'reg-Pw-8Hn2-kTq'


def playbook(target, name):
    return os.path.join(PLAYBOOKS, target, name)


def openssl(*args):
    return subprocess.run(['openssl'] + list(args), capture_output=True, text=True, check=False)


def run(target, name, workdir, check=False, diff=False, **extra):
    return run_playbook(playbook(target, name), extra_vars=dict(workdir=str(workdir), **extra),
                        check=check, diff=diff)


def test_ca_and_server_certificate_four_steps(tmp_path):
    extra = dict(ca_passphrase=CA_PASSPHRASE)
    check1 = run('tls_cert', 'main.yml', tmp_path, check=True, diff=True, **extra)
    assert check1.rc == 0, check1
    assert check1.changed('localhost') == 2
    assert os.listdir(tmp_path) == [], 'check mode wrote files'

    run1 = run('tls_cert', 'main.yml', tmp_path, diff=True, **extra)
    assert run1.rc == 0, run1
    assert run1.changed('localhost') == 2
    for secret in ('PRIVATE KEY', CA_PASSPHRASE):
        assert secret not in run1.stdout + check1.stdout
    snapshot = dict((p, (tmp_path / p).read_bytes()) for p in os.listdir(tmp_path))

    check2 = run('tls_cert', 'main.yml', tmp_path, check=True, **extra)
    assert check2.rc == 0 and check2.changed('localhost') == 0, check2
    run2 = run('tls_cert', 'main.yml', tmp_path, **extra)
    assert run2.rc == 0 and run2.changed('localhost') == 0, run2
    assert dict((p, (tmp_path / p).read_bytes()) for p in os.listdir(tmp_path)) == snapshot, 'rerun rewrote files'

    # verified from outside the modules
    assert sorted(os.listdir(tmp_path)) == ['ca.crt', 'ca.key', 'fullchain.crt', 'server.crt', 'server.key']
    assert (tmp_path / 'ca.key').stat().st_mode & 0o777 == 0o600
    assert (tmp_path / 'server.key').stat().st_mode & 0o777 == 0o600
    assert (tmp_path / 'server.crt').stat().st_mode & 0o777 == 0o644
    verify = openssl('verify', '-CAfile', str(tmp_path / 'ca.crt'), str(tmp_path / 'server.crt'))
    assert verify.returncode == 0 and ': OK' in verify.stdout, verify.stderr
    assert b'ENCRYPTED' in (tmp_path / 'ca.key').read_bytes()
    assert openssl('pkey', '-in', str(tmp_path / 'ca.key'), '-passin', 'pass:' + CA_PASSPHRASE,
                   '-noout').returncode == 0
    ca_text = openssl('x509', '-in', str(tmp_path / 'ca.crt'), '-noout', '-text').stdout
    assert 'Subject: C = CN, ST = Sichuan, L = Chengdu, O = GTDQ, CN = docker.gt.com CA' in ca_text
    assert 'X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0' in ca_text
    assert 'X509v3 Key Usage: critical\n                Non Repudiation, Certificate Sign, CRL Sign' in ca_text
    assert 'X509v3 Subject Key Identifier' in ca_text
    text = openssl('x509', '-in', str(tmp_path / 'server.crt'), '-noout', '-text').stdout
    assert 'Subject: C = CN, ST = Sichuan, L = Chengdu, O = GTDQ, CN = docker.gt.com' in text
    assert 'X509v3 Authority Key Identifier' in text
    assert 'X509v3 Basic Constraints: critical\n                CA:FALSE' in text
    assert 'X509v3 Extended Key Usage: \n                TLS Web Server Authentication' in text.replace(
        'Usage:\n', 'Usage: \n')
    assert 'X509v3 Key Usage: critical\n                Digital Signature\n' in text  # no keyEncipherment: EC
    assert 'DNS:docker.gt.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' in text
    assert 'X509v3 Subject Key Identifier' in text
    full = (tmp_path / 'fullchain.crt').read_bytes()
    assert full == (tmp_path / 'server.crt').read_bytes() + (tmp_path / 'ca.crt').read_bytes()


def test_renewal_inside_window_keeps_the_ca(tmp_path):
    first = run('tls_cert', 'renew.yml', tmp_path, validity_days=10)
    assert first.rc == 0 and first.changed('localhost') == 2, first
    ca_bytes = (tmp_path / 'ca.crt').read_bytes()
    ca_key_bytes = (tmp_path / 'ca.key').read_bytes()
    old = json.loads((tmp_path / 'cert-result.json').read_text())

    second = run('tls_cert', 'renew.yml', tmp_path, validity_days=397)
    assert second.rc == 0 and second.changed('localhost') == 1, second
    new = json.loads((tmp_path / 'cert-result.json').read_text())
    assert new['changed'] and [d['field'] for d in new['differences']] == ['not_after']
    assert new['differences'][0]['before'] == old['not_after'] < new['differences'][0]['after'] == new['not_after']
    assert new['serial'] != old['serial'] and new['not_after'] > old['not_after']
    assert new['issuer_fingerprint_sha256'] == old['issuer_fingerprint_sha256']
    assert (tmp_path / 'ca.crt').read_bytes() == ca_bytes and (tmp_path / 'ca.key').read_bytes() == ca_key_bytes
    assert openssl('verify', '-CAfile', str(tmp_path / 'ca.crt'), str(tmp_path / 'server.crt')).returncode == 0

    third = run('tls_cert', 'renew.yml', tmp_path, validity_days=397)
    assert third.rc == 0 and third.changed('localhost') == 0, third
    assert json.loads((tmp_path / 'cert-result.json').read_text())['serial'] == new['serial']


# --- material made outside the modules (cryptography directly), planted as existing files ---------

def _new_key():
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key, passphrase=None):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _certificate(key, cn, issuer_key=None, issuer_name=None, ca=True, path_length=0, dns=(), days=3650):
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=True, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def plant_ca(directory, name='ca', cn='Planted CA', passphrase=None, path_length=0):
    """An existing CA pair (key encrypted when a passphrase is given); returns the key object."""
    key = _new_key()
    _write(directory, name + '.key', _key_pem(key, passphrase), 0o600)
    _write(directory, name + '.crt', _certificate(key, cn, path_length=path_length))
    return key


def plant_server(directory, ca_key, ca_cn='Planted CA', passphrase=None, dns=('docker.gt.com',)):
    key = _new_key()
    _write(directory, 'server.key', _key_pem(key, passphrase), 0o600)
    _write(directory, 'server.crt', _certificate(key, dns[0], ca_key, x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, ca_cn)]), ca=False, dns=dns, days=397))


def _write(directory, name, data, mode=0o644):
    path = os.path.join(directory, name)
    with open(path, 'wb') as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def _huge(directory, name):
    with open(os.path.join(directory, name), 'wb') as f:
        f.truncate(17 * 1024 * 1024)


def _truncated_key(directory, name='ca.key'):
    _write(directory, name, _key_pem(_new_key())[:120], 0o600)


WRONG = 'Mk-9d41aa-WRONG-PASSPHRASE-2c7e'
RIGHT = 'Mk-51c0e3-CA-PASSPHRASE-8b1f'


def _ca_with_passphrase(directory):
    plant_ca(directory, passphrase=RIGHT)


def _ca_and_server_with_passphrase(directory):
    ca_key = plant_ca(directory)
    plant_server(directory, ca_key, passphrase=RIGHT)


def _subdir(name):
    return lambda directory: os.mkdir(os.path.join(directory, name))


def _symlink(name, target):
    return lambda directory: os.symlink(target, os.path.join(directory, name))


def _both(*setups):
    def setup(directory):
        for s in setups:
            s(directory)
    return setup


CA_DEFAULTS = {'path': '{dir}/ca.crt', 'privatekey_path': '{dir}/ca.key', 'subject': {'CN': 'Planted CA'}}
CA_CASES = [
    Case('key_type_unknown', {'key_type': 'dsa-1024'}, ['key_type', 'dsa-1024', 'ecdsa-p256']),
    Case('validity_zero', {'validity_days': 0}, ['validity_days', '0', 'positive']),
    Case('validity_negative', {'validity_days': -1}, ['validity_days', '-1', 'positive']),
    Case('validity_huge', {'validity_days': 40000}, ['validity_days', '40000', '36500']),
    Case('cn_missing', {'subject': {'O': 'Acme'}}, ['subject.CN', 'required']),
    Case('cn_newline', {'subject': {'CN': 'Evil\nCA'}}, ['subject.CN', "'Evil\\nCA'", 'control character']),
    Case('cn_nul', {'subject': {'CN': 'Evil\x00CA'}}, ['subject.CN', 'control character']),
    Case('o_escape', {'subject': {'CN': 'CA', 'O': 'Acme\x1b[31m'}}, ['subject.O', 'control character']),
    Case('country_long', {'subject': {'CN': 'CA', 'C': 'China'}}, ['subject.C', "'China'", 'two-letter']),
    Case('cn_too_long', {'subject': {'CN': 'x' * 65}}, ['subject.CN', 'x' * 65, '64']),
    Case('mode_out_of_range', {'mode': '77777'}, ['mode', '77777', '7777']),
    Case('mode_garbage', {'mode': 'rw-r--r--'}, ['mode', 'rw-r--r--', 'octal']),
    Case('owner_unknown', {'owner': 'no-such-user-b3rth'}, ['owner', 'no-such-user-b3rth', 'does not exist']),
    Case('regenerate_unknown', {'regenerate': 'sometimes'}, ['regenerate', 'sometimes', 'on_change']),
    Case('directory_missing', {'path': '{dir}/missing/ca.crt'}, ['path', '{dir}/missing', 'does not exist']),
    Case('path_is_directory', {}, ['ca.crt', 'directory'], setup=_subdir('ca.crt')),
    Case('key_is_directory', {'regenerate': 'on_change'}, ['ca.key', 'directory'], setup=_subdir('ca.key')),
    Case('key_symlink_loop', {'regenerate': 'on_change'}, ['ca.key'], setup=_symlink('ca.key', 'ca.key')),
    Case('key_symlink_to_directory', {'regenerate': 'always'}, ['ca.key', 'directory'],
         setup=_both(_subdir('keys'), _symlink('ca.key', 'keys'))),
    Case('key_huge', {'regenerate': 'on_change'}, ['ca.key', 'bytes'], setup=lambda d: _huge(d, 'ca.key')),
    Case('cert_garbage', {}, ['ca.crt', 'not a readable PEM certificate', 'regenerate'],
         setup=lambda d: (plant_ca(d), _write(d, 'ca.crt', b'\xff\xfe not PEM \x00'))),
    Case('key_truncated', {}, ['ca.key', 'regenerate'], setup=lambda d: (plant_ca(d), _truncated_key(d))),
    Case('wrong_passphrase_fail', {'privatekey_passphrase': WRONG},
         ['privatekey_path', 'ca.key', 'passphrase'], setup=_ca_with_passphrase),
    Case('wrong_passphrase_on_change', {'privatekey_passphrase': WRONG, 'regenerate': 'on_change'},
         ['privatekey_path', 'ca.key', 'passphrase'], setup=_ca_with_passphrase),
    Case('wrong_passphrase_always', {'privatekey_passphrase': WRONG, 'regenerate': 'always'},
         ['privatekey_path', 'ca.key', 'passphrase'], setup=_ca_with_passphrase),
    Case('no_passphrase_on_change', {'regenerate': 'on_change'},
         ['privatekey_path', 'ca.key', 'encrypted', 'privatekey_passphrase'], setup=_ca_with_passphrase),
    Case('no_passphrase_keep', {'regenerate': 'keep'},
         ['privatekey_path', 'ca.key', 'encrypted', 'privatekey_passphrase'], setup=_ca_with_passphrase),
]


def test_tls_ca_bad_inputs(tmp_path):
    outcomes = run_table(playbook('tls_ca', 'bad_inputs.yml'), tmp_path, CA_CASES, CA_DEFAULTS)
    check_table(CA_CASES, outcomes)


def _with_ca(name, args, expect, setup=plant_ca):
    """A tls_cert case: a usable CA is planted unless the case plants something else."""
    return Case(name, args, expect, setup=setup)


CERT_DEFAULTS = {'path': '{dir}/server.crt', 'privatekey_path': '{dir}/server.key', 'ca_path': '{dir}/ca.crt',
                 'ca_privatekey_path': '{dir}/ca.key', 'dns_names': ['docker.gt.com']}
CERT_CASES = [
    _with_ca('dns_is_ip', {'dns_names': ['10.0.0.1']}, ['dns_names', '10.0.0.1', 'IP address']),
    _with_ca('dns_trailing_hyphen', {'dns_names': ['reg-.example']}, ['dns_names', 'reg-.example', 'DNS name']),
    _with_ca('dns_empty_label', {'dns_names': ['a..example']}, ['dns_names', 'a..example', 'DNS name']),
    _with_ca('dns_space', {'dns_names': ['bad name.example']}, ['dns_names', 'bad name.example']),
    _with_ca('dns_newline', {'dns_names': ['reg.example\nevil.example']}, ['dns_names', 'control character']),
    _with_ca('dns_too_long', {'dns_names': [('a' * 60 + '.') * 5 + 'example']}, ['dns_names', '253']),
    _with_ca('dns_dotdot', {'dns_names': ['..']}, ['dns_names', "'..'"]),
    _with_ca('dns_wildcard_tld', {'dns_names': ['*.com']}, ['dns_names', '*.com']),
    _with_ca('ip_invalid', {'ip_addresses': ['300.1.2.3']}, ['ip_addresses', '300.1.2.3', 'IPv4 or IPv6']),
    _with_ca('ip_zone', {'ip_addresses': ['fe80::1%eth0']}, ['ip_addresses', 'fe80::1%eth0', 'zone']),
    _with_ca('ip_prefix', {'ip_addresses': ['10.0.0.0/8']}, ['ip_addresses', '10.0.0.0/8']),
    _with_ca('no_san', {'dns_names': [], 'ip_addresses': []}, ['dns_names', 'ip_addresses']),
    _with_ca('validity_zero', {'validity_days': 0}, ['validity_days', '0', 'positive']),
    _with_ca('renew_negative', {'renew_before_days': -1}, ['renew_before_days', '-1']),
    _with_ca('cn_explicit_too_long', {'subject': {'CN': 'c' * 65}}, ['subject.CN', 'c' * 65, '64', 'subjectAltName']),
    _with_ca('cn_nul', {'subject': {'CN': 'a\x00b'}}, ['subject.CN', 'control character']),
    _with_ca('mode_out_of_range', {'mode': '77777'}, ['mode', '77777', '7777']),
    _with_ca('ca_missing', {}, ['ca_path', '{dir}/ca.crt', 'does not exist'], setup=None),
    _with_ca('ca_is_directory', {}, ['ca_path', 'ca.crt', 'directory'],
             setup=lambda d: (plant_ca(d), os.unlink(d + '/ca.crt'), os.mkdir(d + '/ca.crt'))),
    _with_ca('ca_garbage', {}, ['ca_path', 'not a readable PEM certificate'],
             setup=lambda d: (plant_ca(d), _write(d, 'ca.crt', b'-----BEGIN CERTIFICATE-----\nxx\n'))),
    _with_ca('ca_not_a_ca', {'ca_path': '{dir}/server.crt', 'ca_privatekey_path': '{dir}/server.key',
                             'path': '{dir}/new.crt', 'privatekey_path': '{dir}/new.key'}, ['ca_path', 'not a CA'],
             setup=lambda d: plant_server(d, plant_ca(d))),
    _with_ca('ca_key_garbage', {}, ['ca_privatekey_path', 'ca.key'],
             setup=lambda d: (plant_ca(d), _write(d, 'ca.key', b'this is not a key\n', 0o600))),
    _with_ca('ca_key_foreign', {'ca_privatekey_path': '{dir}/other.key'}, ['ca_privatekey_path', 'other.key', 'does not match'],
             setup=lambda d: (plant_ca(d), plant_ca(d, name='other'))),
    _with_ca('ca_key_wrong_passphrase', {'ca_privatekey_passphrase': WRONG},
             ['ca_privatekey_path', 'ca.key', 'passphrase'], setup=_ca_with_passphrase),
    _with_ca('ca_key_no_passphrase', {}, ['ca_privatekey_path', 'ca.key', 'encrypted'], setup=_ca_with_passphrase),
    _with_ca('key_wrong_passphrase_force', {'privatekey_passphrase': WRONG, 'force': True},
             ['privatekey_path', 'server.key', 'passphrase'], setup=_ca_and_server_with_passphrase),
    _with_ca('key_wrong_passphrase_new_name', {'privatekey_passphrase': WRONG, 'dns_names': ['other.gt.com']},
             ['privatekey_path', 'server.key', 'passphrase'], setup=_ca_and_server_with_passphrase),
    _with_ca('key_no_passphrase', {}, ['privatekey_path', 'server.key', 'encrypted'],
             setup=_ca_and_server_with_passphrase),
    _with_ca('key_is_directory', {}, ['server.key', 'directory'], setup=lambda d: (plant_ca(d), os.mkdir(d + '/server.key'))),
    _with_ca('fullchain_is_directory', {'fullchain_path': '{dir}/chain.crt'}, ['chain.crt', 'directory'],
             setup=lambda d: (plant_ca(d), os.mkdir(d + '/chain.crt'))),
    _with_ca('directory_missing', {'path': '{dir}/missing/server.crt'}, ['path', '{dir}/missing', 'does not exist'],
             setup=plant_ca),
]


def test_tls_cert_bad_inputs(tmp_path):
    outcomes = run_table(playbook('tls_cert', 'bad_inputs.yml'), tmp_path, CERT_CASES, CERT_DEFAULTS)
    check_table(CERT_CASES, outcomes)


def _ca_and_server(directory):
    plant_server(directory, plant_ca(directory))


INFO_DEFAULTS = {'path': '{dir}/server.crt'}
INFO_CASES = [
    Case('missing', {}, ['path', '{dir}/server.crt', 'does not exist']),
    Case('directory', {}, ['path', 'server.crt', 'directory'], setup=_subdir('server.crt')),
    Case('symlink_to_directory', {}, ['path', 'server.crt', 'directory'],
         setup=_both(_subdir('d'), _symlink('server.crt', 'd'))),
    Case('garbage', {}, ['path', 'server.crt', 'not a readable PEM certificate'],
         setup=lambda d: _write(d, 'server.crt', b'\x89PNG\r\n\x1a\n\x00\xff')),
    Case('huge', {}, ['path', 'server.crt', 'bytes'], setup=lambda d: _huge(d, 'server.crt')),
    Case('key_wrong_passphrase', {'privatekey_path': '{dir}/server.key', 'privatekey_passphrase': WRONG},
         ['privatekey_path', 'server.key', 'passphrase'], setup=_ca_and_server_with_passphrase),
    Case('key_no_passphrase', {'privatekey_path': '{dir}/server.key'},
         ['privatekey_path', 'server.key', 'encrypted'], setup=_ca_and_server_with_passphrase),
    Case('key_garbage', {'privatekey_path': '{dir}/garbage.key'}, ['privatekey_path', 'garbage.key'],
         setup=lambda d: (_ca_and_server(d), _write(d, 'garbage.key', b'garbage\n', 0o600))),
    Case('key_missing', {'privatekey_path': '{dir}/none.key'}, ['privatekey_path', 'none.key', 'does not exist'],
         setup=_ca_and_server),
    Case('ca_missing', {'ca_path': '{dir}/none.crt'}, ['ca_path', 'none.crt', 'does not exist'], setup=_ca_and_server),
    Case('ca_garbage', {'ca_path': '{dir}/ca.key'}, ['ca_path', 'ca.key', 'not a readable PEM certificate'],
         setup=_ca_and_server),
    Case('mismatch_fails', {'privatekey_path': '{dir}/ca.key', 'fail_on_mismatch': True},
         ['privatekey_path', 'ca.key', 'does not match'], setup=_ca_and_server),
]


def test_tls_cert_info_bad_inputs(tmp_path):
    outcomes = run_table(playbook('tls_cert_info', 'bad_inputs.yml'), tmp_path, INFO_CASES, INFO_DEFAULTS)
    check_table(INFO_CASES, outcomes)


def _ca_run(workdir, cn, key_type='ecdsa-p256', regenerate='fail'):
    result = run('tls_ca', 'regenerate.yml', workdir, ca_cn=cn, ca_key_type=key_type, regenerate=regenerate)
    report = None
    if result.rc == 0:
        report = json.loads((workdir / 'ca-result.json').read_text())
    return result, report


def test_ca_is_replaced_only_when_told(tmp_path):
    result, first = _ca_run(tmp_path, 'Policy CA')
    assert result.rc == 0 and first['changed']
    original = (tmp_path / 'ca.crt').read_bytes(), (tmp_path / 'ca.key').read_bytes()

    result, dummy = _ca_run(tmp_path, 'Renamed CA', key_type='rsa-4096')
    assert result.rc != 0
    assert '/CN=Policy CA -> /CN=Renamed CA' in result.stdout and 'ecdsa-p256 -> rsa-4096' in result.stdout
    assert ((tmp_path / 'ca.crt').read_bytes(), (tmp_path / 'ca.key').read_bytes()) == original

    result, kept = _ca_run(tmp_path, 'Renamed CA', key_type='rsa-4096', regenerate='keep')
    assert result.rc == 0 and not kept['changed'] and 'Keeping the existing CA' in result.stderr + result.stdout
    assert kept['fingerprint_sha256'] == first['fingerprint_sha256'] and kept['subject']['CN'] == 'Policy CA'

    result, replaced = _ca_run(tmp_path, 'Renamed CA', key_type='rsa-4096', regenerate='on_change')
    assert result.rc == 0 and replaced['changed'] and replaced['key_type'] == 'rsa-4096'
    assert replaced['fingerprint_sha256'] != first['fingerprint_sha256']
    assert 'CN = Renamed CA' in openssl('x509', '-in', str(tmp_path / 'ca.crt'), '-noout', '-subject').stdout

    result, again = _ca_run(tmp_path, 'Renamed CA', key_type='rsa-4096', regenerate='on_change')
    assert result.rc == 0 and not again['changed'] and again['fingerprint_sha256'] == replaced['fingerprint_sha256']

    result, always = _ca_run(tmp_path, 'Renamed CA', key_type='ecdsa-p256', regenerate='always')
    assert result.rc == 0 and always['changed'] and always['fingerprint_sha256'] != replaced['fingerprint_sha256']


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _curl(port, host, cacert, user=None, resolve=True):
    url = 'https://%s:%d/v2/' % (host, port)
    cmd = ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', '--cacert', cacert]
    if resolve:
        cmd += ['--resolve', '%s:%d:127.0.0.1' % (host, port)]
    if user:
        cmd += ['-u', user]
    return subprocess.run(cmd + [url], capture_output=True, text=True, check=False)


@pytest.mark.skipif(not os.path.exists('/usr/bin/docker-registry') or not shutil.which('curl'),
                    reason='needs Debian docker-registry and curl')
def test_distribution_accepts_the_pair_and_htpasswd(tmp_path):
    result = run('tls_cert', 'registry.yml', tmp_path, registry_password=REGISTRY_PASSWORD)
    assert result.rc == 0 and result.changed('localhost') == 3, result
    port = _free_port()
    (tmp_path / 'data').mkdir()
    (tmp_path / 'config.yml').write_text(json.dumps({
        'version': 0.1,
        'log': {'level': 'error', 'accesslog': {'disabled': True}},
        'storage': {'filesystem': {'rootdirectory': str(tmp_path / 'data')}},
        'auth': {'htpasswd': {'realm': 'basic-realm', 'path': str(tmp_path / 'htpasswd')}},
        'http': {'addr': '127.0.0.1:%d' % port,
                 'tls': {'certificate': str(tmp_path / 'server.crt'), 'key': str(tmp_path / 'server.key')}},
    }))
    log = open(tmp_path / 'registry.log', 'wb')
    proc = subprocess.Popen(['/usr/bin/docker-registry', 'serve', str(tmp_path / 'config.yml')],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        cacert = str(tmp_path / 'ca.crt')
        for dummy in range(100):
            if _curl(port, 'docker.gt.com', cacert).stdout in ('200', '401'):
                break
            assert proc.poll() is None, (tmp_path / 'registry.log').read_text()
            time.sleep(0.1)
        user = 'registryuser:' + REGISTRY_PASSWORD
        assert _curl(port, 'docker.gt.com', cacert, user).stdout == '200'
        assert _curl(port, '127.0.0.1', cacert, user, resolve=False).stdout == '200'
        assert _curl(port, 'docker.gt.com', cacert, 'registryuser:wrong-Password-1').stdout == '401'
        assert _curl(port, 'docker.gt.com', cacert).stdout == '401'
        # a name that is not in the SAN is refused by the TLS client
        bad = _curl(port, 'other.gt.com', cacert, user)
        assert bad.returncode != 0 and bad.stdout == '000'
    finally:
        proc.kill()
        proc.wait()
        log.close()


def test_an_existing_pathlen_1_ca_is_kept(tmp_path):
    """New CAs get pathlen:0; a CA made with the old default pathlen:1 does not count as differing."""
    plant_ca(str(tmp_path), cn='Policy CA', path_length=1)
    before = (tmp_path / 'ca.crt').read_bytes(), (tmp_path / 'ca.key').read_bytes()
    result, report = _ca_run(tmp_path, 'Policy CA')
    assert result.rc == 0 and not report['changed'] and report['differences'] == [], result
    assert ((tmp_path / 'ca.crt').read_bytes(), (tmp_path / 'ca.key').read_bytes()) == before


def test_a_host_name_longer_than_a_common_name_gets_a_certificate(tmp_path):
    """The CN is capped at 64 characters by X.509; the SAN is what clients match, so the CN is left out."""
    name = 'registry-with-a-rather-long-name.build-cluster-07.eu-west.corp.example'
    assert len(name) > 64
    first = run('tls_cert', 'renew.yml', tmp_path, validity_days=397, dns_names=[name])
    assert first.rc == 0 and first.changed('localhost') == 2, first
    verify = openssl('verify', '-CAfile', str(tmp_path / 'ca.crt'), '-verify_hostname', name,
                     str(tmp_path / 'server.crt'))
    assert verify.returncode == 0 and ': OK' in verify.stdout, verify.stdout + verify.stderr
    text = openssl('x509', '-in', str(tmp_path / 'server.crt'), '-noout', '-text').stdout
    assert 'DNS:' + name in text and 'CN' not in text.split('Subject:', 1)[1].split('\n', 1)[0]
    again = run('tls_cert', 'renew.yml', tmp_path, validity_days=397, dns_names=[name])
    assert again.rc == 0 and again.changed('localhost') == 0, again


def test_symlinked_files_are_followed(tmp_path):
    """A content write and a mode fix both act on the link's target; the link stays a link."""
    store = tmp_path / 'store'
    store.mkdir()
    os.symlink(str(store / 'server.crt'), str(tmp_path / 'server.crt'))
    first = run('tls_cert', 'renew.yml', tmp_path, validity_days=10)
    assert first.rc == 0 and first.changed('localhost') == 2, first
    assert os.path.islink(str(tmp_path / 'server.crt')) and (store / 'server.crt').stat().st_mode & 0o777 == 0o644
    renewed = run('tls_cert', 'renew.yml', tmp_path, validity_days=397, cert_mode='0640')
    assert renewed.rc == 0 and renewed.changed('localhost') == 1, renewed
    assert os.path.islink(str(tmp_path / 'server.crt')), 'the link was replaced by a file'
    assert (store / 'server.crt').stat().st_mode & 0o777 == 0o640
    os.chmod(str(store / 'server.crt'), 0o600)
    fixed = run('tls_cert', 'renew.yml', tmp_path, validity_days=397, cert_mode='0640')
    assert fixed.rc == 0 and fixed.changed('localhost') == 1, fixed
    assert os.path.islink(str(tmp_path / 'server.crt')) and (store / 'server.crt').stat().st_mode & 0o777 == 0o640
    assert openssl('verify', '-CAfile', str(tmp_path / 'ca.crt'), str(tmp_path / 'server.crt')).returncode == 0


def test_no_secret_in_any_output(tmp_path):
    """-vvv --diff, check mode and real, first run, rerun and a forced re-issue: no passphrase, no key bytes."""
    secrets = {'CA passphrase': marker('ca passphrase'), 'key passphrase': marker('key passphrase')}
    extra = dict(ca_passphrase=secrets['CA passphrase'], key_passphrase=secrets['key passphrase'])
    verbose = dict(diff=True, args=('-vvv',))
    runs = [run_playbook(playbook('tls_cert', 'secrets.yml'), extra_vars=dict(workdir=str(tmp_path), **extra),
                         check=check, **verbose) for check in (True, False, True, False)]
    assert [r.rc for r in runs] == [0, 0, 0, 0], runs
    assert [r.changed('localhost') for r in runs] == [3, 3, 0, 0], runs
    for name in ('ca.key', 'server.key', 'plain.key'):
        secrets.update(file_secrets(str(tmp_path / name)))
    forced = run_playbook(playbook('tls_cert', 'secrets.yml'), check=False, extra_vars=dict(
        workdir=str(tmp_path), force=True, regenerate='always', **extra), **verbose)
    assert forced.rc == 0 and forced.changed('localhost') == 3, forced
    for name in ('ca.key', 'server.key', 'plain.key'):
        secrets.update(file_secrets(str(tmp_path / name), 'new key bytes'))
    assert_no_leaks(runs + [forced], secrets)
    assert b'ENCRYPTED' in (tmp_path / 'server.key').read_bytes()
