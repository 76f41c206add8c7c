import pytest

from ansible_collections.berth.registry.plugins.module_utils._docker_engine import EngineClient, EngineError
from ansible_collections.berth.registry.plugins.module_utils._dockerd import (
    Dockerd, DockerdError, engine_differences, parse_exec_start,
)

INFO = {'RegistryConfig': {'InsecureRegistryCIDRs': ['127.0.0.0/8', '10.0.0.0/8'],
                           'IndexConfigs': {'docker.io': {'Secure': True}, 'reg:5000': {'Secure': False}},
                           'Mirrors': ['https://m.example/']}}


class FakeEngine(object):
    docker_host = 'unix:///run/fake.sock'

    def __init__(self, info):
        self._info = info

    def info(self):
        return self._info


def dockerd(engine=None, pid=None, argv=None, **kwargs):
    d = Dockerd(engine or FakeEngine(INFO), run_command=None, get_bin_path=lambda name: None, **kwargs)
    d._state = {'pid': pid, 'unit': None, 'systemd_managed': False}
    d.flag_sources = lambda: [('command line of dockerd pid %d' % pid, argv)] if argv else []
    return d


def test_parse_exec_start():
    value = ('{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock'
             ' ; ignore_errors=no ; start_time=[n/a] }')
    assert parse_exec_start(value) == ['/usr/bin/dockerd', '-H', 'fd://', '--containerd=/run/containerd/containerd.sock']
    assert parse_exec_start('') == []


def test_engine_differences_normalise():
    config = {'insecure-registries': ['reg:5000', '10.1.2.3/8'], 'registry-mirrors': ['https://m.example']}
    assert engine_differences(config, ['insecure-registries', 'registry-mirrors'], INFO) == {}
    diffs = engine_differences({'insecure-registries': []}, ['insecure-registries'], INFO)
    assert diffs == {'insecure-registries': {'file': [], 'engine': ['10.0.0.0/8', 'reg:5000']}}


def test_a_key_also_given_as_a_flag_is_refused():
    d = dockerd(pid=42, argv=['/usr/sbin/dockerd', '--registry-mirror=https://flag.example'])
    with pytest.raises(DockerdError, match=r'/etc/docker/daemon.json: registry-mirrors also given as dockerd '
                                           r'command-line flags \(registry-mirrors: command line of dockerd pid 42\)'):
        d.refuse_flag_conflicts(['registry-mirrors'], '/etc/docker/daemon.json')
    d.refuse_flag_conflicts(['debug'], '/etc/docker/daemon.json')


def test_take_without_a_running_daemon_warns_and_skips():
    d = dockerd()
    assert d.take(['insecure-registries'], {}, 'auto')['applied'] == 'skipped'
    assert 'no running dockerd found' in d.warnings[0]
    assert d.take(['insecure-registries'], {}, 'none') == {'applied': 'none', 'restarted': False, 'restart_reason': None}


def test_a_restart_without_a_way_to_do_it_fails_clearly():
    with pytest.raises(DockerdError, match='give restart_command'):
        dockerd(pid=4242, engine=FakeEngine(INFO)).take(['log-driver'], {'log-driver': 'local'}, 'auto')


def test_confirm_names_the_file_and_what_the_engine_shows():
    d = dockerd(verify_timeout=0)
    d.confirm({'registry-mirrors': ['https://m.example'], 'insecure-registries': ['reg:5000', '10.0.0.0/8']},
              ['insecure-registries', 'registry-mirrors', 'debug'])
    with pytest.raises(DockerdError, match=r'/d.json was written but the engine at unix:///run/fake.sock does not '
                                           r'show it .*"engine": \["10.0.0.0/8", "reg:5000"\]'):
        d.confirm({'insecure-registries': []}, ['insecure-registries'], '/d.json')


@pytest.mark.parametrize('docker_host', ['ssh://builder@h.example', 'h.example:2375', 'tcp://h.example',
                                         'tcp://h.example:99999', 'unix://relative.sock', 'npipe:////./pipe/docker'])
def test_unsupported_engine_addresses_are_refused_naming_the_option(docker_host):
    with pytest.raises(EngineError, match=r"docker_host: '%s' is not supported: use unix://" % docker_host):
        EngineClient(docker_host)


def test_supported_engine_addresses():
    EngineClient('unix:///var/run/docker.sock')
    EngineClient('tcp://127.0.0.1:2375')
    EngineClient('tcp://[::1]:2375/')
