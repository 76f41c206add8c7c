"""config.yml built from data: owned keys refused, known values checked, a crafted value stays one value."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_server import config
from ansible_collections.berth.registry.plugins.module_utils._registry_server.config import ConfigError, ConfigRequest
from ansible_collections.berth.registry.plugins.module_utils._registry_server.layout import Layout

SECRET = 'Mk-0a0b0c-HTTPSECRET-1d1e'
CRAFTED = 'production\nproxy:\n  remoteurl: http://attacker.invalid\nstorage:\n  inmemory: {}'


def request(**kwargs):
    values = dict(layout=Layout(), port=443, tls=True, htpasswd=True, http_secret=SECRET, metrics_port=5001)
    values.update(kwargs)
    return ConfigRequest(**values)


class Tagged(str):
    """What a templating engine hands over: a str subclass."""


def test_built_sections_and_owned_keys():
    built = request(sections={'log': {'level': 'debug'}, 'health': {'storagedriver': {'interval': '10s'}},
                              'notifications': {'endpoints': []}}).build()
    assert list(built) == ['version', 'log', 'storage', 'auth', 'http', 'health', 'notifications']
    assert built['http']['addr'] == ':443' and built['http']['secret'] == SECRET
    assert built['http']['tls'] == {'certificate': '/etc/docker/registry/ssl/registry.crt',
                                    'key': '/etc/docker/registry/ssl/registry.key'}
    assert built['http']['debug'] == {'addr': ':5001', 'prometheus': {'enabled': True, 'path': '/metrics'}}
    assert built['auth'] == {'htpasswd': {'realm': 'basic-realm', 'path': '/etc/docker/registry/auth/htpasswd'}}
    assert built['storage'] == {'filesystem': {'rootdirectory': '/var/lib/registry'}, 'delete': {'enabled': False}}
    plain = request(tls=False, htpasswd=False, metrics_port=None).build()
    assert 'tls' not in plain['http'] and 'auth' not in plain and 'debug' not in plain['http']


def test_a_crafted_value_adds_no_key():
    built = request(sections={'log': {'fields': {'environment': Tagged(CRAFTED)}}}, realm=Tagged('realm"\nx: y')).build()
    text = config.render(built)
    parsed = yaml.safe_load(text)
    assert sorted(parsed) == ['auth', 'http', 'log', 'storage', 'version']
    assert parsed['log']['fields']['environment'] == CRAFTED
    assert parsed['auth']['htpasswd']['realm'] == 'realm"\nx: y'
    assert parsed['storage'] == built['storage']


@pytest.mark.parametrize('sections, words', [
    ({'http': {'addr': ':80'}}, ['config.http.addr', 'port option']),
    ({'http': {'secret': 'x' * 20}}, ['config.http.secret']),
    ({'http': {'debug': {'addr': ':1'}}}, ['config.http.debug']),
    ({'http': {'tls': {'key': '/k'}}}, ['config.http.tls.key']),
    ({'auth': {'token': {}}}, ['config.auth', 'users']),
    ({'version': 0.2}, ['config.version']),
    ({'storage': {'s3': {}}}, ['config.storage.s3', 'storage options']),
    ({'http': {'draintimeout': 8}}, ['config.http.draintimeout', 'not a duration']),
    ({'health': {'storagedriver': {'interval': '10s\nproxy:\n  remoteurl: http://attacker.invalid'}}},
     ['config.health.storagedriver.interval', 'not a duration']),
    ({'health': {'storagedriver': {'threshold': '3'}}}, ['threshold', 'whole number']),
    ({'storage': {'cache': {'blobdescriptor': 'inmemory\n  x: y'}}}, ['blobdescriptor', 'allowed: inmemory, redis']),
    ({'log': {'level': 'verbose'}}, ['config.log.level', "'verbose'"]),
    ({'log': {'accesslog': {'disabled': 'no'}}}, ['config.log.accesslog.disabled', 'boolean']),
    ({'http': {'tls': {'minimumtls': 'tls1.4'}}}, ['minimumtls']),
    ({'http': {'headers': {'X-A': 'nosniff'}}}, ['config.http.headers.X-A', 'list of one-line strings']),
    ({'http': {'headers': {'X-A': ['a\r\nSet-Cookie: x']}}}, ['list of one-line strings']),
    ({'http': {'host': 'registry.example'}}, ['config.http.host', 'not an http']),
    ({'log': {'fields': {'a': {'b': 1}}}}, ['config.log.fields.a']),
    ({1: 'x'}, ['key 1 is not a string']),
    ({'log': {'level': object()}}, ['config.log.level', 'cannot go into config.yml']),
])
def test_refused_naming_the_key(sections, words):
    with pytest.raises(ConfigError) as info:
        request(sections=sections).build()
    for word in words:
        assert word in str(info.value)


def test_tls_section_without_tls_and_other_refusals():
    with pytest.raises(ConfigError, match='TLS is off'):
        request(tls=False, sections={'http': {'tls': {'minimumtls': 'tls1.2'}}})
    with pytest.raises(ConfigError, match='at least 16 characters'):
        request(http_secret='short')
    with pytest.raises(ConfigError, match='config.storage.cache: also given in the storage option'):
        request(storage={'filesystem': {}, 'cache': {'blobdescriptor': 'redis'}},
                sections={'storage': {'cache': {'blobdescriptor': 'inmemory'}}}).build()


def test_secrets_and_redacted_rendering():
    req = request(storage={'s3': {'region': 'r', 'bucket': 'b', 'accesskey': 'Mk-AK-0001', 'secretkey': 'Mk-SK-0002'}})
    assert sorted(req.secrets()) == sorted(['Mk-AK-0001', 'Mk-SK-0002', SECRET])
    shown = config.render_redacted(req.build())
    assert 'Mk-' not in shown and 'secretkey: (secret)' in shown and shown.startswith(config.HEADER)
    assert 'redirect:\n    disable: true' in shown


def test_a_pull_through_cache_section_is_checked_and_its_password_masked():
    password = 'Mk-5e6f70-UPSTREAMPASS-8192'
    built = request(sections={'proxy': {'remoteurl': 'https://upstream.example:5000/', 'username': 'cache',
                                        'password': password, 'ttl': '168h'}}).build()
    assert built['proxy'] == {'remoteurl': 'https://upstream.example:5000', 'username': 'cache',
                              'password': password, 'ttl': '168h'}
    assert password not in config.render_redacted(built)
    for proxy, words in (({'remoteurl': 'https://u:p@upstream.example'}, 'remoteurl'),
                         ({'remoteurl': 'https://upstream.example', 'username': 'cache'}, 'both'),
                         ({'remoteurl': 'https://upstream.example', 'ttl': 'a week'}, 'ttl')):
        with pytest.raises(BerthError) as info:
            request(sections={'proxy': proxy})
        assert words in str(info.value)
