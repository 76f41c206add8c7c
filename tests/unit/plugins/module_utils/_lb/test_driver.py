"""LbDriver through AnsibleModule (run_driver): the decision, haproxy -c before the write, reload never restart,
missing packages, waiting, the redis cache, check mode and secrets. Fake haproxy binary, services and socket."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.berth.registry.plugins.module_utils._lb import driver as driver_module
from ansible_collections.berth.registry.plugins.module_utils._lb.driver import LbDriver
from ansible_collections.berth.registry.plugins.module_utils._lb.spec import argument_spec

from .fakes import Clock, FakeService, StatsSocket
from .test_spec import PASSWORD, SERVERS

FAKE_HAPROXY = """#!/bin/sh
# fake haproxy: -c -f FILE refuses when a file named `refuse` lies next to this script
if [ -e "$(dirname "$0")/refuse" ]; then echo "[ALERT] config : parsing [$3:12] : unknown keyword 'bogus'" >&2; exit 1; fi
exit 0
"""


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A host in tmp_path: /etc/haproxy, /etc/redis/redis.conf, bin/ with haproxy and redis-server on PATH."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('haproxy', FAKE_HAPROXY), ('redis-server', '#!/bin/sh\nexit 0\n')):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv('PATH', '%s:/usr/bin:/bin' % bin_dir)
    monkeypatch.setattr(driver_module, 'CACHE_GROUP', 'root')
    monkeypatch.setattr(LbDriver, '_wait_port', lambda self, cache: None)
    (tmp_path / 'haproxy').mkdir()
    (tmp_path / 'redis').mkdir()
    (tmp_path / 'redis' / 'redis.conf').write_text('bind 127.0.0.1 -::1\nport 6379\n')
    sock = StatsSocket(str(tmp_path / 'admin.sock'), {'registry1': 'UP', 'registry2': 'UP'})
    services = {'haproxy': FakeService('haproxy', running=False), 'redis-server': FakeService('redis-server', running=False)}
    clock = Clock()

    class Host(object):
        path = tmp_path
        config = tmp_path / 'haproxy' / 'haproxy.cfg'
        dropin = tmp_path / 'redis' / 'berth-registry.conf'
        redis_conf = tmp_path / 'redis' / 'redis.conf'
        socket = sock

        def args(self, **values):
            base = dict(port=443, servers=SERVERS, config_path=str(self.config), stats_socket=sock.path)
            if 'cache' in values:
                values['cache'] = dict(dict(config_path=str(self.dropin), redis_config_path=str(self.redis_conf)),
                                       **values['cache'])
            base.update(values)
            return base

        def driver(self, module):
            return LbDriver(module, service_factory=lambda name: services[name], clock=clock, sleep=clock.sleep)
    Host.services = services
    Host.bin = bin_dir
    yield Host()
    sock.close()


def fields(result):
    return [d['field'] for d in result['differences']]


def test_fresh_host_four_steps(host, run_driver):
    result, dummy = run_driver(argument_spec(), host.driver, host.args(), check_mode=True)
    assert result['changed'] and fields(result) == ['haproxy.cfg', 'haproxy'] and result['service'] == 'skipped'
    assert not host.config.exists() and host.services['haproxy'].actions == []
    result, dummy = run_driver(argument_spec(), host.driver, host.args())
    assert result['changed'] and result['service'] == 'started'
    assert host.services['haproxy'].actions == ['start']
    assert stat.S_IMODE(os.stat(str(host.config)).st_mode) == 0o644
    assert 'server registry2 registry2.example:443' in host.config.read_text()
    assert result['servers']['registry1']['status'] == 'UP'
    for check_mode in (True, False):
        result, dummy = run_driver(argument_spec(), host.driver, host.args(), check_mode=check_mode)
        assert not result['changed'] and result['differences'] == [] and result['service'] == 'none'
    assert host.services['haproxy'].actions == ['start']
    assert not [n for n in os.listdir(str(host.path / 'haproxy')) if n != 'haproxy.cfg']  # no staged file left


def test_a_change_reloads_never_restarts(host, run_driver):
    host.services['haproxy'].is_running = True
    run_driver(argument_spec(), host.driver, host.args())
    result, dummy = run_driver(argument_spec(), host.driver, host.args(servers=SERVERS[:1]))
    assert result['changed'] and result['service'] == 'reloaded' and fields(result) == ['haproxy.cfg']
    assert host.services['haproxy'].actions == ['reload', 'reload']
    assert result['diff']['before_header'] == 'haproxy.cfg' and '-    server registry2' in ''.join(
        '-' + line for line in result['diff']['before'].splitlines() if 'registry2' in line)


def test_mode_of_an_existing_file_is_a_difference(host, run_driver):
    host.services['haproxy'].is_running = True
    run_driver(argument_spec(), host.driver, host.args())
    os.chmod(str(host.config), 0o600)
    result, dummy = run_driver(argument_spec(), host.driver, host.args())
    assert fields(result) == ['haproxy.cfg mode'] and result['service'] == 'none'
    assert stat.S_IMODE(os.stat(str(host.config)).st_mode) == 0o644


def test_haproxy_c_refusal_writes_nothing(host, run_driver):
    host.services['haproxy'].is_running = True
    host.config.write_text('old\n')
    (host.bin / 'refuse').write_text('')
    result, dummy = run_driver(argument_spec(), host.driver, host.args())
    assert result['failed'] and 'haproxy -c refused the new %s' % host.config in result['msg']
    assert "parsing [%s:12] : unknown keyword 'bogus'" % host.config in result['msg']  # the stage's name is not shown
    assert host.config.read_text() == 'old\n' and host.services['haproxy'].actions == []
    assert os.listdir(str(host.path / 'haproxy')) == ['haproxy.cfg']


def test_missing_haproxy_is_reported_before_anything_changes(host, run_driver):
    os.unlink(str(host.bin / 'haproxy'))
    result, dummy = run_driver(argument_spec(), host.driver, host.args())
    assert result['failed'] and result['missing_packages'] == ['haproxy']
    assert 'haproxy not installed on this host (Debian package haproxy)' in result['msg']
    assert not host.config.exists()
    result, dummy = run_driver(argument_spec(), host.driver, host.args(), check_mode=True)
    assert not result.get('failed') and result['missing_packages'] == ['haproxy'] and result['changed']
    assert {'field': 'haproxy', 'before': 'absent', 'after': 'running'} in result['differences']


def test_wait_for_after_the_change(host, run_driver):
    result, dummy = run_driver(argument_spec(), host.driver, host.args(wait_for=['registry1', 'registry2']))
    assert result['changed'] and result['servers']['registry2']['status'] == 'UP'
    host.socket.servers['registry2'] = 'DOWN'
    result, dummy = run_driver(argument_spec(), host.driver, host.args(wait_for=['registry2'], wait_timeout=5))
    assert result['failed'] and 'registry2: DOWN (check L7OK 401)' in result['msg']
    assert result['servers']['registry2']['status'] == 'DOWN'


def test_healthy_waits_and_check_mode_only_reads(host, run_driver):
    args = dict(state='healthy', wait_for=['registry2'], stats_socket=host.socket.path)
    result, dummy = run_driver(argument_spec(), host.driver, args)
    assert not result['changed'] and result['servers']['registry2']['status'] == 'UP'
    host.socket.servers['registry2'] = 'DOWN'
    result, dummy = run_driver(argument_spec(), host.driver, args, check_mode=True)
    assert not result.get('failed') and 'registry2: DOWN' in str(result['warnings'])
    assert not host.config.exists() and host.services['haproxy'].actions == []


def test_cache_four_steps_and_password_never_shown(host, run_driver):
    host.services['haproxy'].is_running = True
    args = host.args(cache={'bind': ['127.0.0.1'], 'password': PASSWORD})
    result, out = run_driver(argument_spec(), host.driver, args, check_mode=True)
    assert result['changed'] and 'cache password' in fields(result) and 'redis.conf include' in fields(result)
    assert not host.dropin.exists() and PASSWORD not in out
    result, out = run_driver(argument_spec(), host.driver, args)
    assert result['cache'] == {'config_path': str(host.dropin), 'service': 'started'} and PASSWORD not in out
    assert stat.S_IMODE(os.stat(str(host.dropin)).st_mode) == 0o640
    assert 'requirepass "%s"' % PASSWORD in host.dropin.read_text()
    assert host.redis_conf.read_text() == ('bind 127.0.0.1 -::1\nport 6379\n# berth.registry: the registry cache '
                                           'settings, last so that they win\ninclude %s\n' % host.dropin)
    for check_mode in (True, False):
        result, out = run_driver(argument_spec(), host.driver, args, check_mode=check_mode)
        assert not result['changed'] and result['cache']['service'] == 'none'
    new = PASSWORD.replace('5e1a9c', '77aa11')
    result, out = run_driver(argument_spec(), host.driver, host.args(cache={'bind': ['127.0.0.1'], 'password': new}))
    assert result['differences'] == [{'field': 'cache password', 'before': '(secret)', 'after': '(secret, changed)'}]
    assert result['cache']['service'] == 'restarted' and host.services['redis-server'].actions == ['start', 'restart']
    assert PASSWORD not in out and new not in out


def test_bad_redis_conf_fails_naming_it(host, run_driver):
    host.redis_conf.write_bytes(b'bind caf\xe9\n')
    result, dummy = run_driver(argument_spec(), host.driver, host.args(cache={}))
    assert result['failed'] and str(host.redis_conf) in result['msg'] and 'UTF-8' in result['msg']
    assert not host.dropin.exists() and not host.config.exists()


def test_config_path_is_a_directory(host, run_driver):
    host.config.mkdir()
    result, dummy = run_driver(argument_spec(), host.driver, host.args())
    assert result['failed'] and 'config_path: %s is a directory' % host.config in result['msg']
