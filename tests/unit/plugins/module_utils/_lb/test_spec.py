"""LbSpec / CacheSpec: every value that reaches haproxy.cfg or the redis drop-in is checked, the option named."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._lb import spec as spec_module
from ansible_collections.berth.registry.plugins.module_utils._lb.errors import LbInputError
from ansible_collections.berth.registry.plugins.module_utils._lb.spec import LbSpec

PASSWORD = 'Mk-5e1a9c-CACHEPASSWORD-3b7f'
SERVERS = [{'name': 'registry1', 'address': '10.0.0.10', 'port': 443},
           {'name': 'registry2', 'address': 'registry2.example', 'port': 443}]


def params(**values):
    """The module's parameters as AnsibleModule hands them over (defaults filled in)."""
    base = {'port': 443, 'servers': SERVERS}
    base.update(values)
    result = ArgumentSpecValidator(spec_module.argument_spec(), required_if=spec_module.REQUIRED_IF).validate(base)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_defaults():
    spec = LbSpec(params())
    assert spec.name == 'registry' and spec.bind_address == '*' and spec.balance == 'leastconn'
    assert [(s.name, s.address, s.port) for s in spec.servers] == [('registry1', '10.0.0.10', 443),
                                                                   ('registry2', 'registry2.example', 443)]
    assert spec.check.path == '/v2/' and spec.check.expect_status == [200, 401] and spec.check.tls
    assert spec.check.settle_seconds() == 4.0
    assert spec.cache is None and spec.secrets == []


def test_cache_defaults_and_secret():
    spec = LbSpec(params(cache={'bind': ['10.0.0.5', '127.0.0.1', '10.0.0.5'], 'password': PASSWORD}))
    assert spec.cache.bind == ['10.0.0.5', '127.0.0.1'] and spec.cache.port == 6379
    assert spec.cache.maxmemory == '256mb' and spec.secrets == [PASSWORD]


def test_healthy_needs_only_wait_for():
    spec = LbSpec(params(state='healthy', port=None, servers=None, wait_for=['registry1']))
    assert spec.wait_for == ['registry1'] and spec.servers == []


@pytest.mark.parametrize('values, expected', [
    ({'servers': []}, 'servers must list at least one'),
    ({'servers': [dict(SERVERS[0], name='bad name')]}, "servers[0].name: 'bad name' is not an HAProxy name"),
    ({'servers': [dict(SERVERS[0], name='a\nserver evil 1.2.3.4:1')]}, 'control character'),
    ({'servers': [SERVERS[0], dict(SERVERS[1], name='registry1')]}, "servers[1].name: 'registry1' is given twice"),
    ({'servers': [dict(SERVERS[0], address='fe80::1%eth0')]}, 'zone'),
    ({'servers': [dict(SERVERS[0], address='-bad-.example')]}, 'servers[0].address'),
    ({'servers': [dict(SERVERS[0], port=0)]}, 'servers[0].port: 0 is not a port'),
    ({'port': 70000}, 'port: 70000 is not a port'),
    ({'bind_address': 'lb.example'}, "bind_address: 'lb.example' is not an IPv4 or IPv6 address"),
    ({'name': 'reg istry'}, "name: 'reg istry' is not an HAProxy name"),
    ({'check': {'path': 'v2/'}}, "check.path: 'v2/' must be an absolute URL path"),
    ({'check': {'path': '/v2/ HTTP/1.0\r\nX: y'}}, 'check.path'),
    ({'check': {'expect_status': [200, 999]}}, 'check.expect_status: 999'),
    ({'check': {'expect_status': []}}, 'check.expect_status must list'),
    ({'check': {'interval': 0}}, 'check.interval: 0 must be a whole number'),
    ({'check': {'tls': False, 'ca_file': '/etc/ca.crt'}}, 'check.tls is false'),
    ({'check': {'host': 'a b'}}, 'check.host'),
    ({'timeouts': {'connect': -1}}, 'timeouts.connect: -1'),
    ({'config_path': 'haproxy.cfg'}, "config_path: 'haproxy.cfg' must be an absolute path"),
    ({'stats_socket': '/run/../tmp/x.sock'}, 'stats_socket'),
    ({'wait_for': ['registry9']}, 'wait_for: registry9 not in servers'),
    ({'wait_timeout': 0}, 'wait_timeout: 0'),
    ({'cache': {'bind': []}}, 'cache.bind must list'),
    ({'cache': {'bind': ['localhost']}}, "cache.bind: 'localhost' is not an IPv4 or IPv6 address"),
    ({'cache': {'maxmemory': '1 tb'}}, "cache.maxmemory: '1 tb'"),
    ({'cache': {'port': 443}}, 'cache.port: 443 is also the load balancer port'),
    ({'cache': {'config_path': '/etc/redis/redis.conf'}}, 'is also cache.redis_config_path'),
])
def test_bad_values_name_the_option(values, expected):
    with pytest.raises(BerthError) as exc:
        LbSpec(params(**values))
    assert expected in str(exc.value)


@pytest.mark.parametrize('password', [PASSWORD + ' x', PASSWORD + '"', PASSWORD + '\\', PASSWORD + '\n', 'x' * 513])
def test_bad_cache_password_is_never_shown(password):
    with pytest.raises(LbInputError) as exc:
        LbSpec(params(cache={'password': password}))
    assert 'cache.password' in str(exc.value) and PASSWORD not in str(exc.value) and 'x' * 20 not in str(exc.value)


def test_healthy_without_wait_for_is_refused():
    with pytest.raises(LbInputError, match='wait_for must name'):
        LbSpec(params(state='healthy'))
