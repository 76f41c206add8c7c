# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""FrontendPlan on real files with a fake nginx service (the real one runs on the bed: test_access.py)."""

from __future__ import annotations

import grp
import os
import stat

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter
from ansible_collections.berth.registry.plugins.module_utils._frontend.host import FrontendPlan
from ansible_collections.berth.registry.plugins.module_utils._frontend.nginx import FrontendSpec
from ansible_collections.berth.registry.plugins.module_utils._htpasswd import password_matches

CA_PEM = (b'-----BEGIN CERTIFICATE-----\nMIIBhTCCASugAwIBAgIUYWJjZGVmZ2hpamtsbW5vcHFyc3QwCgYIKoZIzj0EAwIw\n'
          b'-----END CERTIFICATE-----\n')
CRL_PEM = b'-----BEGIN X509 CRL-----\nMIIBAAAA\n-----END X509 CRL-----\n'
USERS = [{'name': 'ci', 'password': 'Mk-7c1e-PULL-PASSWORD-2b9a', 'access': 'pull'},
         {'name': 'dev', 'password': 'Mk-3d8f-PUSH-PASSWORD-6e0c', 'access': 'push'}]


class FakeService(object):
    def __init__(self, installed=True, running=False, enabled=False, test_ok=True):
        self.binary = '/usr/sbin/nginx' if installed else None
        self._running, self._enabled, self.test_ok = running, enabled, test_ok
        self.calls = []

    def running(self):
        return self._running

    def enabled(self):
        return self._enabled

    def test(self):
        self.calls.append('test')
        return self.test_ok, 'nginx: [emerg] unexpected "}" in /etc/nginx/conf.d/berth-registry.conf:3'

    def enable(self):
        self.calls.append('enable')
        self._enabled = True

    def start(self):
        self.calls.append('start')
        self._running = True

    def reload(self):
        self.calls.append('reload')


@pytest.fixture
def host(tmp_path):
    (tmp_path / 'conf.d').mkdir()
    return tmp_path


def spec(host, mutual_tls=False):
    d = str(host / 'frontend')
    extra = dict(client_ca=d + '/client-ca.crt', crl=d + '/crl.pem') if mutual_tls else {}
    return FrontendSpec(443, ['registry.example'], str(host / 'registry.crt'), str(host / 'registry.key'),
                        d + '/users.htpasswd', d + '/push.htpasswd', 5000, **extra)


def plan(host, service, users=None, mutual_tls=False, check_mode=False, **extra):
    kwargs = dict(client_ca=CA_PEM, crl=CRL_PEM) if mutual_tls else {}
    kwargs.update(extra)
    frontend = FrontendPlan(spec(host, mutual_tls), USERS if users is None else users, site_path=str(host / 'conf.d' / 'berth-registry.conf'),
                            cost=4, writer=FileWriter(None), service=service, check_mode=check_mode, **kwargs)
    frontend.plan()
    frontend.apply()
    return frontend


def snapshot(directory):
    result = {}
    for root, dirs, files in os.walk(str(directory)):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            result[path] = (stat.S_IMODE(st.st_mode), st.st_gid,
                            open(path, 'rb').read() if stat.S_ISREG(st.st_mode) else None)
    return result


def users_in(path):
    return dict(line.split(':', 1) for line in open(path).read().splitlines())


def test_check_mode_then_first_run_then_nothing(host):
    service = FakeService(running=False)
    before = snapshot(host)
    checked = plan(host, service, mutual_tls=True, check_mode=True)
    assert snapshot(host) == before and service.calls == []
    fields = checked.differences.fields
    assert fields[0] == 'directory %s' % (host / 'frontend')
    assert 'users: user ci' in fields and 'users: user dev' in fields and 'push users: user dev' in fields
    assert 'push users: user ci' not in fields
    assert fields[-2:] == ['nginx enabled at boot', 'nginx']
    first = plan(host, service, mutual_tls=True)
    assert first.differences.fields == fields
    assert service.calls == ['test', 'enable', 'start']
    www = grp.getgrnam('www-data').gr_gid
    assert stat.S_IMODE(os.stat(str(host / 'frontend')).st_mode) == 0o750
    for name in ('users.htpasswd', 'push.htpasswd'):
        st = os.stat(str(host / 'frontend' / name))
        assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_gid == www
    everyone, push = users_in(str(host / 'frontend' / 'users.htpasswd')), users_in(str(host / 'frontend' / 'push.htpasswd'))
    assert sorted(everyone) == ['ci', 'dev'] and sorted(push) == ['dev']
    assert everyone['ci'].startswith('$2y$') and password_matches(USERS[0]['password'].encode(), everyone['ci'])
    assert (host / 'frontend' / 'crl.pem').read_bytes() == CRL_PEM
    assert 'ssl_crl' in (host / 'conf.d' / 'berth-registry.conf').read_text()
    converged = snapshot(host)
    for check_mode in (True, False):
        again = plan(host, service, mutual_tls=True, check_mode=check_mode)
        assert not again.differences, again.differences.as_list()
    assert snapshot(host) == converged and service.calls == ['test', 'enable', 'start']


def test_a_new_pull_user_needs_no_reload(host):
    service = FakeService()
    plan(host, service)
    service.calls = []
    more = plan(host, service, users=USERS + [{'name': 'ci2', 'password': 'Mk-5a2b-PULL2-PASSWORD-9f3d',
                                               'access': 'pull'}])
    assert more.differences.fields == ['users: user ci2'] and service.calls == []
    gone = plan(host, service, users=USERS[1:])
    assert gone.differences.fields == ['users: user ci', 'users: user ci2'] and service.calls == []


def test_a_user_who_gets_push_rights_needs_no_reload_either(host):
    service = FakeService()
    plan(host, service)
    service.calls = []
    promoted = plan(host, service, users=[dict(USERS[0], access='push'), USERS[1]])
    assert promoted.differences.fields == ['push users: user ci'] and service.calls == []


def test_what_nginx_reads_at_reload_reloads_it_gracefully(host):
    service = FakeService()
    plan(host, service, mutual_tls=True)
    service.calls = []
    new_crl = CRL_PEM.replace(b'MIIBAAAA', b'MIIBBBBB')
    changed = plan(host, service, mutual_tls=True, crl=new_crl, crl_summary='CRL #2, 1 revoked')
    assert changed.differences.as_list()[-2:] == [
        {'field': 'CRL %s' % (host / 'frontend' / 'crl.pem'), 'before': changed.differences.as_list()[-2]['before'],
         'after': 'CRL #2, 1 revoked'},
        {'field': 'nginx', 'before': 'running', 'after': 'reloaded (crl.pem)'}]
    assert service.calls == ['reload']  # the site did not change: no nginx -t needed
    service.calls = []
    tls = plan(host, service, mutual_tls=True, crl=new_crl, tls_changed=True)
    assert tls.differences.as_list() == [{'field': 'nginx', 'before': 'running', 'after': 'reloaded (TLS pair)'}]
    assert service.calls == ['reload']


def test_a_site_nginx_refuses_is_put_back_and_nothing_is_reloaded(host):
    service = FakeService()
    plan(host, service)
    site = (host / 'conf.d' / 'berth-registry.conf').read_bytes()
    service.calls, service.test_ok = [], False
    with pytest.raises(BerthError, match=r'nginx -t refused .* put back as it was .*unexpected "\}"'):
        plan(host, service, mutual_tls=True)
    assert (host / 'conf.d' / 'berth-registry.conf').read_bytes() == site and service.calls == ['test']


def test_a_new_site_nginx_refuses_is_removed(host):
    service = FakeService(test_ok=False)
    with pytest.raises(BerthError, match='nginx -t refused'):
        plan(host, service)
    assert not (host / 'conf.d' / 'berth-registry.conf').exists() and service.calls == ['test']


def test_nginx_missing_fails_a_real_run_and_is_predicted_in_check_mode(host):
    checked = plan(host, FakeService(installed=False), check_mode=True)
    assert checked.differences.as_list()[-1] == {'field': 'nginx', 'before': 'not installed', 'after': 'running'}
    with pytest.raises(BerthError, match='nginx is not installed on the registry host'):
        plan(host, FakeService(installed=False))


def test_absent_removes_the_site_and_files_and_reloads(host):
    service = FakeService()
    plan(host, service, mutual_tls=True)
    service.calls = []
    frontend = FrontendPlan(spec(host, True), site_path=str(host / 'conf.d' / 'berth-registry.conf'), present=False,
                            writer=FileWriter(None), service=service)
    frontend.plan()
    assert frontend.differences.fields[0] == 'site %s' % (host / 'conf.d' / 'berth-registry.conf')
    assert frontend.differences.fields[-1] == 'nginx'
    frontend.apply()
    assert service.calls == ['reload'] and not (host / 'conf.d' / 'berth-registry.conf').exists()
    assert os.listdir(str(host / 'frontend')) == []
    again = FrontendPlan(spec(host, True), site_path=str(host / 'conf.d' / 'berth-registry.conf'), present=False,
                         writer=FileWriter(None), service=FakeService(installed=False))
    assert not again.plan()


def test_mutual_tls_without_the_ca_or_crl_is_refused(host):
    with pytest.raises(BerthError, match='client_ca and crl: mutual TLS needs'):
        FrontendPlan(spec(host, True), USERS, client_ca=CA_PEM, writer=FileWriter(None), service=FakeService())


def test_no_secret_in_differences(host):
    service = FakeService()
    text = repr(plan(host, service, mutual_tls=True, check_mode=False).differences.as_list())
    changed = plan(host, service, users=[dict(USERS[0], password='Mk-0e4d-NEW-PASSWORD-1c7b'), USERS[1]])
    text += repr(changed.differences.as_list()) + repr(changed.differences.diff())
    hashes = users_in(str(host / 'frontend' / 'users.htpasswd')).values()
    for secret in [u['password'] for u in USERS] + ['Mk-0e4d-NEW-PASSWORD-1c7b'] + list(hashes):
        assert secret not in text


def test_mutual_tls_switched_off_retires_the_client_ca_and_crl(host):
    service = FakeService()
    plan(host, service, mutual_tls=True)
    service.calls = []
    off = plan(host, service)
    fields = off.differences.fields
    assert 'file %s' % (host / 'frontend' / 'client-ca.crt') in fields and 'file %s' % (host / 'frontend' / 'crl.pem') in fields
    assert off.differences.as_list()[-1] == {'field': 'nginx', 'before': 'running', 'after': 'reloaded (berth-registry.conf)'}
    assert sorted(os.listdir(str(host / 'frontend'))) == ['push.htpasswd', 'users.htpasswd']
    assert service.calls == ['test', 'reload'] and not plan(host, service).differences
