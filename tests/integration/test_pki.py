# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tls_ca / tls_cert through real playbooks, checked with openssl, curl and the real Distribution."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from bed.playbook import run_playbook

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
    assert 'X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:1' in ca_text
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
    assert new['changed'] and new['reasons'] == ['expires within 30 days (not_after %s)' % old['not_after']]
    assert new['serial'] != old['serial'] and new['not_after'] > old['not_after']
    assert new['issuer_fingerprint_sha256'] == old['issuer_fingerprint_sha256']
    assert (tmp_path / 'ca.crt').read_bytes() == ca_bytes and (tmp_path / 'ca.key').read_bytes() == ca_key_bytes
    assert openssl('verify', '-CAfile', str(tmp_path / 'ca.crt'), str(tmp_path / 'server.crt')).returncode == 0

    third = run('tls_cert', 'renew.yml', tmp_path, validity_days=397)
    assert third.rc == 0 and third.changed('localhost') == 0, third
    assert json.loads((tmp_path / 'cert-result.json').read_text())['serial'] == new['serial']


def test_bad_inputs_fail_clearly_and_write_nothing(tmp_path):
    (tmp_path / 'out').mkdir()
    result = run('tls_cert', 'bad_inputs.yml', tmp_path)
    assert result.rc == 0, result
    assert os.listdir(tmp_path / 'out') == []


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
