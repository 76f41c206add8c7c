"""containerd hosts.toml files as this module writes them: what containerd's parser reads back."""

import tomllib

from ansible_collections.berth.registry.plugins.module_utils._hosts_toml import (
    MARKER, is_ours, mirrors_hosts_toml, registry_hosts_toml,
)


def test_tls_registry_is_a_host_table_and_the_server_both_trusting_the_ca():
    """containerd 1.6 ignores a hosts.toml without a [host] table (and falls back to https://host)."""
    ca = '/etc/containerd/certs.d/reg.example:5000/ca.crt'
    text = registry_hosts_toml('reg.example:5000', False, ca)
    assert text.startswith(MARKER) and is_ours(text.encode())
    assert tomllib.loads(text) == {'server': 'https://reg.example:5000', 'ca': ca, 'host': {
        'https://reg.example:5000': {'capabilities': ['pull', 'resolve', 'push'], 'ca': ca}}}


def test_plain_http_registry_has_an_http_host_and_server_and_no_ca():
    assert tomllib.loads(registry_hosts_toml('reg.example:5000', True, '/x/ca.crt')) == {
        'server': 'http://reg.example:5000', 'host': {'http://reg.example:5000': {
            'capabilities': ['pull', 'resolve', 'push']}}}
    assert tomllib.loads(registry_hosts_toml('[2001:db8::1]:5000', False))['server'] == 'https://[2001:db8::1]:5000'


def test_mirrors_are_pull_hosts_in_order_before_docker_hub():
    text = mirrors_hosts_toml(['https://m1.example/', 'http://m2.example:5000', 'https://reg.example'],
                              {'https://reg.example': '/certs.d/reg.example/ca.crt'})
    assert tomllib.loads(text) == {'server': 'https://registry-1.docker.io', 'host': {
        'https://m1.example': {'capabilities': ['pull', 'resolve']},
        'http://m2.example:5000': {'capabilities': ['pull', 'resolve']},
        'https://reg.example': {'capabilities': ['pull', 'resolve'], 'ca': '/certs.d/reg.example/ca.crt'}}}
    assert list(tomllib.loads(text)['host']) == ['https://m1.example', 'http://m2.example:5000', 'https://reg.example']


def test_a_file_without_the_marker_is_not_ours():
    assert not is_ours(None) and not is_ours(b'server = "https://registry-1.docker.io"\n')


def test_pull_through_caches_come_before_the_registry():
    text = registry_hosts_toml('reg.example', False, '/etc/containerd/certs.d/reg.example/ca.crt',
                               [('cache.example', '/etc/containerd/certs.d/cache.example/ca.crt'), ('c2.example:5000', None)])
    parsed = tomllib.loads(text)
    assert list(parsed['host']) == ['https://cache.example', 'https://c2.example:5000', 'https://reg.example']
    cache = {'capabilities': ['pull', 'resolve'], 'ca': '/etc/containerd/certs.d/cache.example/ca.crt'}
    assert parsed['host']['https://cache.example'] == cache
    assert parsed['host']['https://c2.example:5000'] == {'capabilities': ['pull', 'resolve']}
    assert parsed['server'] == 'https://reg.example'
