"""The containers unit (Podman, Buildah, Skopeo, CRI-O) on files in tmp_path with a fake host."""

import base64
import json
import tomllib

import pytest

from ansible_collections.berth.registry.plugins.module_utils._client.base import Desired, Registry
from ansible_collections.berth.registry.plugins.module_utils._client.containers import ContainersRuntime
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter

from client_fakes import PEM, FakeSystem, files, plan_apply

PASSWORD = 'Mk-8b41d7-PASSWORD-2c9e'
UNAUTHORIZED = (1, '', 'time="2026-11-28T13:28:11Z" level=fatal msg="Error parsing image name \\"docker://reg.test:5000/'
                       'berth/registry-client-check:absent\\": reading manifest absent in reg.test:5000/berth/registry-'
                       'client-check: unauthorized: authentication required"\n')
X509 = (1, '', 'time="..." level=fatal msg="Error parsing image name \\"docker://reg.test:5000/x\\": pinging container '
               'registry reg.test:5000: Get \\"https://reg.test:5000/v2/\\": x509: certificate signed by unknown '
               'authority"\n')


def desired(**kw):
    return Desired(Registry.parse(kw.pop('registry', 'reg.test:5000')), **kw)


class Host(object):
    def __init__(self, tmp_path, tools=('podman', 'skopeo'), answers=None, crio_pids=()):
        self.tmp = tmp_path
        self.system = FakeSystem(tools, dict({'skopeo inspect': UNAUTHORIZED}, **(answers or {})), crio_pids)

    def run(self, want, check_mode=False):
        t = self.tmp
        unit = ContainersRuntime(FileWriter(None), want, self.system, str(t / 'certs.d'), str(t / 'registries.conf.d'),
                                 str(t / 'root' / 'auth.json'), str(t / 'run' / 'auth.json'))
        return plan_apply(unit, check_mode)

    def files(self):
        return files(self.tmp)


def test_tls_registry_on_port_443_gets_its_ca_in_both_directories_and_no_drop_in(tmp_path):
    host = Host(tmp_path)
    unit, tracker = host.run(desired(registry='reg.test', ca_certificates=[PEM]), check_mode=True)
    assert len(tracker) == 2 and host.files() == []
    unit, tracker = host.run(desired(registry='reg.test', ca_certificates=[PEM]))
    assert host.files() == ['certs.d/reg.test/ca.crt', 'certs.d/reg.test:443/ca.crt']
    assert [t['path'] for t in unit.state()['trusted']] == [str(tmp_path / 'certs.d' / n / 'ca.crt')
                                                            for n in ('reg.test:443', 'reg.test')]
    assert host.system.hangups == []  # no drop-in changed: CRI-O reads certs.d per pull
    assert unit.check() == (True, 'reachable and trusted (skopeo: reading manifest absent in reg.test:5000/berth/'
                                  'registry-client-check: unauthorized: authentication required)')
    assert host.system.calls[-1]['argv'] == ['/usr/bin/skopeo', 'inspect', '--raw', '--no-creds',
                                             'docker://reg.test/berth/registry-client-check:absent']
    assert not host.run(desired(registry='reg.test', ca_certificates=[PEM]))[1]


def test_plain_http_gets_an_insecure_drop_in_that_goes_with_tls_and_crio_rereads_both(tmp_path):
    host = Host(tmp_path, crio_pids=[4242])
    dropin = tmp_path / 'registries.conf.d' / '50-berth-registry-reg.test_5000.conf'
    unit, tracker = host.run(desired(insecure=True))
    assert tomllib.loads(dropin.read_text()) == {'registry': [{'location': 'reg.test:5000', 'insecure': True}]}
    assert unit.facts()['containers']['reloaded'] == ['crio pid 4242']
    unit, tracker = host.run(desired(ca_certificates=[PEM]))
    assert not dropin.exists() and [d['after'] for d in tracker.as_list()][-1] is None
    assert host.system.hangups == ['crio', 'crio']


def test_mirrors_drop_in_follows_the_list(tmp_path):
    host = Host(tmp_path)
    path = tmp_path / 'registries.conf.d' / '50-berth-mirrors.conf'
    host.run(desired(ca_certificates=[PEM], mirrors=['https://m1.test', 'http://m2.test:5000']))
    mirrors = tomllib.loads(path.read_text())['registry'][0]['mirror']
    assert [m['location'] for m in mirrors] == ['m1.test', 'm2.test:5000']
    host.run(desired(ca_certificates=[PEM], mirrors=['http://m2.test:5000']))
    assert tomllib.loads(path.read_text())['registry'][0]['mirror'] == [{'location': 'm2.test:5000', 'insecure': True}]
    host.run(desired(ca_certificates=[PEM]))
    assert not path.exists()


def test_login_is_verified_by_the_runtimes_own_login_then_stored_where_it_survives_a_reboot(tmp_path):
    host = Host(tmp_path)
    login = {'username': 'alice', 'password': PASSWORD}
    unit, tracker = host.run(desired(ca_certificates=[PEM], login=login))
    call = [c for c in host.system.calls if c['argv'][1] == 'login'][0]
    assert call['argv'][0] == '/usr/bin/skopeo' and '--password-stdin' in call['argv'] and PASSWORD not in call['argv']
    assert call['data'] == PASSWORD + '\n' and call['argv'][-1] == 'reg.test:5000'
    auth = tmp_path / 'root' / 'auth.json'
    assert json.loads(auth.read_text()) == {'auths': {'reg.test:5000': {
        'auth': base64.b64encode(('alice:' + PASSWORD).encode()).decode()}}}
    assert auth.stat().st_mode & 0o777 == 0o600 and auth.parent.stat().st_mode & 0o777 == 0o700
    assert unit.state()['login'] == {'user': 'alice', 'config_path': str(auth)}
    assert unit.facts()['containers']['login_verified_by'] == 'skopeo'
    calls = len(host.system.calls)
    assert not host.run(desired(ca_certificates=[PEM], login=login))[1] and len(host.system.calls) == calls


def test_a_refused_login_writes_no_credentials(tmp_path):
    refused = (125, '', 'Error: logging into "reg.test:5000": invalid username/password\n')
    host = Host(tmp_path, tools=('podman',), answers={'podman login': refused})
    with pytest.raises(BerthError, match='login to reg.test:5000 through podman login failed: logging into '
                                         '"reg.test:5000": invalid username/password'):
        host.run(desired(ca_certificates=[PEM], login={'username': 'alice', 'password': PASSWORD}))
    assert not (tmp_path / 'root').exists()


def test_a_login_in_the_tmpfs_auth_file_is_named_as_shadowing_ours(tmp_path):
    (tmp_path / 'run').mkdir()
    (tmp_path / 'run' / 'auth.json').write_text(json.dumps({'auths': {'reg.test:5000': {
        'auth': base64.b64encode(b'bob:other').decode()}}}))
    unit, dummy = Host(tmp_path).run(desired(login={'username': 'alice', 'password': PASSWORD}), check_mode=True)
    assert 'holds a login for reg.test:5000 as bob' in unit.warnings()[0]


def test_absent_removes_ca_drop_ins_and_login(tmp_path):
    host = Host(tmp_path)
    login = {'username': 'alice', 'password': PASSWORD}
    host.run(desired(insecure=True, ca_certificates=[PEM], login=login, mirrors=['https://m1.test']))
    auth = tmp_path / 'root' / 'auth.json'
    data = json.loads(auth.read_text())
    data['auths']['other:5000'] = {'auth': 'b3RoZXI6eA=='}
    auth.write_text(json.dumps(data))
    unit, tracker = host.run(desired(state='absent', mirrors=['https://m1.test']))
    assert host.files() == ['registries.conf.d/50-berth-mirrors.conf', 'root/auth.json']  # other registries' mirrors
    assert json.loads(auth.read_text()) == {'auths': {'other:5000': {'auth': 'b3RoZXI6eA=='}}}
    assert unit.check() is None and unit.state() == {'trusted': [], 'login': None}


def test_check_through_podman_is_anonymous_and_names_the_failure(tmp_path):
    host = Host(tmp_path, tools=('podman',), answers={'podman manifest': (125, '', 'Error: reading image "docker://'
                                                                               'reg.test:5000/x": x509: certificate '
                                                                               'signed by unknown authority\n')})
    unit, dummy = host.run(desired(ca_certificates=[PEM]))
    passed, text = unit.check()
    assert passed is False and text == ('podman manifest inspect reg.test:5000/berth/registry-client-check:absent: '
                                        'reading image "docker://reg.test:5000/x": x509: certificate signed by '
                                        'unknown authority')
    assert host.system.calls[-1]['env']['REGISTRY_AUTH_FILE'].endswith('auth.json')
    host.system.tools.clear()
    assert unit.check() == (None, 'containers: not checked (no skopeo or podman)')


def test_check_through_skopeo_fails_on_x509(tmp_path):
    unit, dummy = Host(tmp_path, answers={'skopeo inspect': X509}).run(desired(ca_certificates=[PEM]))
    passed, text = unit.check()
    assert passed is False and text.endswith('x509: certificate signed by unknown authority')


def test_tls_removes_the_plain_http_drop_in_of_the_same_host_on_another_port(tmp_path):
    host = Host(tmp_path)
    host.run(desired(registry='reg.test:5000', insecure=True))
    host.run(desired(registry='other.test:5000', insecure=True))
    host.run(desired(registry='reg.test', ca_certificates=[PEM]))
    assert sorted(p.name for p in (tmp_path / 'registries.conf.d').iterdir()) == [
        '50-berth-registry-other.test_5000.conf']
