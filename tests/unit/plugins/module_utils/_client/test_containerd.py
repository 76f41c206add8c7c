"""The containerd unit on files in tmp_path with a fake host: hosts.toml + CA, mirrors, config_path, one restart."""

import tomllib

import pytest

from ansible_collections.berth.registry.plugins.module_utils._client.base import Desired, Registry
from ansible_collections.berth.registry.plugins.module_utils._client.containerd import ContainerdRuntime
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter

from client_fakes import PEM, FakeSystem, files, plan_apply

NOT_FOUND = (1, '', 'time="..." level=info msg="trying next host"\nctr: reg.test:5000/berth/registry-client-check:absent: '
                    'not found\n')
X509 = (1, '', 'ctr: failed to do request: Head "https://reg.test:5000/v2/berth/registry-client-check/manifests/'
               'absent": x509: certificate signed by unknown authority\n')


def desired(**kw):
    return Desired(Registry.parse(kw.pop('registry', 'reg.test:5000')), **kw)


class Host(object):
    """A containerd host in tmp_path: config.toml, certs.d, a socket that answers when running."""

    def __init__(self, tmp_path, listening, running=True, config=None, tools=('containerd', 'ctr'), answers=None):
        self.tmp = tmp_path
        self.config = tmp_path / 'etc' / 'config.toml'
        self.certs = tmp_path / 'certs.d'
        self.socket = str(tmp_path / 'containerd.sock')
        if running:
            listening(self.socket)
        if config is not None:
            self.config.parent.mkdir(parents=True, exist_ok=True)
            self.config.write_text(config + '\n[grpc]\n  address = "%s"\n' % self.socket)
        self.system = FakeSystem(tools, dict({'ctr content': NOT_FOUND}, **(answers or {})))

    def unit(self, want, **kw):
        return ContainerdRuntime(FileWriter(None), want, self.system, str(self.config), kw.pop('hosts_dir', str(self.certs)),
                                 **kw)

    def run(self, want, check_mode=False, **kw):
        unit = self.unit(want, **kw)
        return plan_apply(unit, check_mode)

    def files(self):
        return files(self.tmp, '.sock')


VERSION2 = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"\n'


def test_fresh_tls_host_check_mode_then_run_then_nothing(tmp_path, listening):
    host = Host(tmp_path, listening, config=VERSION2)
    want = desired(ca_certificates=[PEM])
    unit, tracker = host.run(want, check_mode=True)
    assert [d['field'] for d in tracker.as_list()] == [
        'containerd config %s' % host.config, 'containerd CA %s/reg.test:5000/ca.crt' % host.certs,
        'containerd hosts.toml %s/reg.test:5000/hosts.toml' % host.certs]
    assert tracker.as_list()[0]['before'] == {'config_path': None}
    assert unit.facts()['containerd']['restart'] == 'needed' and host.files() == ['etc/config.toml']
    unit, tracker = host.run(want)
    assert host.system.restarts == [('containerd', host.socket)] and unit.facts()['containerd']['restarted']
    ca = '%s/reg.test:5000/ca.crt' % host.certs
    assert tomllib.loads((host.certs / 'reg.test:5000' / 'hosts.toml').read_text()) == {
        'server': 'https://reg.test:5000', 'ca': ca, 'host': {'https://reg.test:5000': {
            'capabilities': ['pull', 'resolve', 'push'], 'ca': ca}}}
    assert (host.certs / 'reg.test:5000' / 'ca.crt').read_text() == PEM
    assert (host.certs / 'reg.test:5000' / 'ca.crt').stat().st_mode & 0o777 == 0o644
    config = tomllib.loads(host.config.read_text())
    assert config['plugins']['io.containerd.grpc.v1.cri'] == {'cni': {'bin_dir': '/usr/lib/cni'},
                                                              'registry': {'config_path': str(host.certs)}}
    assert unit.state()['trusted'][0]['path'] == '%s/reg.test:5000/ca.crt' % host.certs
    assert unit.check() == (True, 'reachable and trusted through %s (ctr: reg.test:5000/berth/registry-client-check:'
                                  'absent: not found)' % host.certs)
    argv = host.system.calls[-1]['argv']
    assert argv == ['/usr/bin/ctr', 'content', 'fetch-object', '--hosts-dir', str(host.certs),
                    'reg.test:5000/berth/registry-client-check:absent']
    unit, tracker = host.run(want)
    assert not tracker and len(host.system.restarts) == 1 and unit.facts()['containerd']['restart'] == 'not needed'


def test_port_443_gets_both_directory_names(tmp_path, listening):
    host = Host(tmp_path, listening, config=VERSION2)
    host.run(desired(registry='reg.test', ca_certificates=[PEM]))
    assert [f for f in host.files() if f.startswith('certs.d')] == [
        'certs.d/reg.test/ca.crt', 'certs.d/reg.test/hosts.toml', 'certs.d/reg.test:443/ca.crt',
        'certs.d/reg.test:443/hosts.toml']


def test_no_config_file_gets_one_for_the_installed_version(tmp_path, listening):
    host = Host(tmp_path, listening, answers={'containerd': (0, 'containerd github.com/containerd/containerd/v2 '
                                                                'v2.1.0 abc\n', '')})
    unit, tracker = host.run(desired(insecure=True))
    assert tomllib.loads(host.config.read_text())['version'] == 3
    assert tracker.as_list()[0]['before'] is None and host.config.stat().st_mode & 0o777 == 0o644


def test_a_stopped_containerd_is_not_started_and_a_forbidden_restart_is_a_warning(tmp_path, listening):
    host = Host(tmp_path, listening, running=False, config=VERSION2)
    unit, dummy = host.run(desired(insecure=True))
    assert unit.facts()['containerd']['restart'] == 'not running' and host.system.restarts == []
    other = Host(tmp_path / 'b', listening, config=VERSION2) if (tmp_path / 'b').mkdir() is None else None
    unit, dummy = other.run(desired(insecure=True), restart=False)
    assert unit.facts()['containerd']['restart'] == 'pending' and other.system.restarts == []
    assert 'restart containerd for its CRI to read hosts.toml' in unit.warnings()[0]


def test_plain_http_then_tls_rewrites_hosts_toml(tmp_path, listening):
    host = Host(tmp_path, listening, config=VERSION2)
    host.run(desired(insecure=True))
    path = host.certs / 'reg.test:5000' / 'hosts.toml'
    assert tomllib.loads(path.read_text())['host'] == {'http://reg.test:5000': {
        'capabilities': ['pull', 'resolve', 'push']}}
    unit, tracker = host.run(desired(ca_certificates=[PEM]))
    assert tomllib.loads(path.read_text())['server'] == 'https://reg.test:5000'
    assert len(host.system.restarts) == 1  # config_path was already there: hosts.toml needs no restart


def test_mirrors_come_and_go_and_a_foreign_docker_io_file_is_refused(tmp_path, listening):
    host = Host(tmp_path, listening, config=VERSION2)
    hub = host.certs / 'docker.io' / 'hosts.toml'
    host.run(desired(insecure=True, mirrors=['https://m1.test', 'https://m2.test']))
    assert list(tomllib.loads(hub.read_text())['host']) == ['https://m1.test', 'https://m2.test']
    unit, tracker = host.run(desired(insecure=True, mirrors=['https://m2.test']))
    assert list(tomllib.loads(hub.read_text())['host']) == ['https://m2.test']
    host.run(desired(insecure=True))
    assert not hub.parent.exists()
    hub.parent.mkdir()
    hub.write_text('server = "https://registry-1.docker.io"\n')
    with pytest.raises(BerthError, match='docker.io/hosts.toml exists and was not written by berth.registry'):
        host.run(desired(insecure=True, mirrors=['https://m1.test']))
    host.run(desired(insecure=True))
    assert hub.exists()  # not ours: never removed


def test_the_registry_as_its_own_mirror_is_trusted_with_its_ca(tmp_path, listening):
    host = Host(tmp_path, listening, config=VERSION2)
    host.run(desired(registry='reg.test', ca_certificates=[PEM], mirrors=['https://reg.test/']))
    hub = tomllib.loads((host.certs / 'docker.io' / 'hosts.toml').read_text())
    assert hub['host']['https://reg.test'] == {'capabilities': ['pull', 'resolve'],
                                               'ca': '%s/reg.test:443/ca.crt' % host.certs}


def test_absent_removes_what_it_wrote_and_keeps_the_rest(tmp_path, listening):
    host = Host(tmp_path, listening, config=VERSION2)
    host.run(desired(registry='reg.test', ca_certificates=[PEM]))
    (host.certs / 'other:5000').mkdir()
    (host.certs / 'other:5000' / 'hosts.toml').write_text('server = "http://other:5000"\n')
    config = host.config.read_text()
    unit, tracker = host.run(desired(registry='reg.test', state='absent'))
    assert [d['after'] for d in tracker.as_list()] == [None] * 4
    assert [f for f in host.files() if f.startswith('certs.d')] == ['certs.d/other:5000/hosts.toml']
    assert host.config.read_text() == config and len(host.system.restarts) == 1
    assert unit.check() is None and unit.state() == {'trusted': []}


def test_absent_keeps_a_hosts_toml_that_is_not_ours(tmp_path, listening):
    host = Host(tmp_path, listening, config=VERSION2)
    (host.certs / 'reg.test:5000').mkdir(parents=True)
    (host.certs / 'reg.test:5000' / 'hosts.toml').write_text('server = "https://reg.test:5000"\n')
    unit, tracker = host.run(desired(state='absent'))
    assert not tracker


LEGACY = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
          '  endpoint = ["https://m.test"]\n')


def test_legacy_mirrors_fail_naming_them_and_write_nothing(tmp_path, listening):
    host = Host(tmp_path, listening, config=LEGACY)
    before = host.config.read_text()
    with pytest.raises(BerthError, match=r'legacy registry settings .* mirrors."docker.io"'):
        host.run(desired(insecure=True))
    assert host.config.read_text() == before and host.files() == ['etc/config.toml']


def test_migrate_moves_them_and_restarts_once(tmp_path, listening):
    host = Host(tmp_path, listening, config=LEGACY)
    unit, tracker = host.run(desired(insecure=True), migrate=True)
    assert tomllib.loads((host.certs / 'docker.io' / 'hosts.toml').read_text())['host'] == {
        'https://m.test': {'capabilities': ['pull', 'resolve']}}
    assert 'mirrors' not in tomllib.loads(host.config.read_text())['plugins']['io.containerd.grpc.v1.cri']['registry']
    assert tracker.as_list()[0]['before'] == {'config_path': None, 'legacy': ['mirrors."docker.io"']}
    assert len(host.system.restarts) == 1
    unit, tracker = host.run(desired(insecure=True), migrate=True)
    assert not tracker and len(host.system.restarts) == 1


def test_migrated_docker_hub_mirrors_collide_with_ours(tmp_path, listening):
    host = Host(tmp_path, listening, config=LEGACY)
    with pytest.raises(BerthError, match='give them in mirrors instead'):
        host.run(desired(insecure=True, mirrors=['https://m2.test']), migrate=True)


def test_a_cri_plugin_that_does_not_load_after_the_restart_fails_the_host(tmp_path, listening):
    plugins = ('TYPE                            ID     PLATFORMS      STATUS\n'
               'io.containerd.grpc.v1           cri    linux/amd64    error\n')
    host = Host(tmp_path, listening, config=VERSION2, answers={'ctr plugins': (0, plugins, '')})
    with pytest.raises(BerthError, match=r'CRI plugin did not load \(io.containerd.grpc.v1 cri linux/amd64 error\): '
                                         'see journalctl -u containerd'):
        host.run(desired(insecure=True))


def test_check_fails_with_the_tools_message(tmp_path, listening):
    host = Host(tmp_path, listening, config=VERSION2, answers={'ctr content': X509})
    unit, dummy = host.run(desired(ca_certificates=[PEM]))
    passed, text = unit.check()
    assert not passed and text.endswith('x509: certificate signed by unknown authority')
    assert text.startswith('ctr content fetch-object --hosts-dir %s: failed to do request' % host.certs)
    host.system.tools.discard('ctr')
    assert unit.check() == (None, 'containerd: not checked (no ctr)')


def test_tls_removes_our_plain_http_hosts_toml_of_the_same_host_on_another_port(tmp_path, listening):
    host = Host(tmp_path, listening, config=VERSION2)
    host.run(desired(registry='reg.test:5000', insecure=True))
    host.run(desired(registry='other.test:5000', insecure=True))
    (host.certs / 'reg.test:6000').mkdir()
    (host.certs / 'reg.test:6000' / 'hosts.toml').write_text('server = "http://reg.test:6000"\n')  # not ours
    unit, tracker = host.run(desired(registry='reg.test', ca_certificates=[PEM]))
    assert 'containerd hosts.toml %s/reg.test:5000/hosts.toml' % host.certs in [d['field'] for d in tracker.as_list()]
    assert sorted(p.name for p in host.certs.iterdir()) == ['other.test:5000', 'reg.test', 'reg.test:443',
                                                            'reg.test:6000']
