"""The pull-through cache settings: the proxy section of config.yml and what each runtime can mirror."""

from __future__ import annotations

import re

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_cache import (
    image_major, mirror_support, parse_remoteurl, proxy_section,
)

PASSWORD = 'Mk-0c9d1a-UPSTREAMPASSWORD-4f2e'


def test_no_cache():
    assert proxy_section(None) == (None, [])
    assert proxy_section({}) == (None, [])


def test_a_cache_with_credentials_and_ttl_on_3():
    section, warnings = proxy_section({'remoteurl': 'https://Registry.Example:5000/', 'username': 'puller',
                                       'password': PASSWORD, 'ttl': '168h'}, 'registry:3')
    assert section == {'remoteurl': 'https://registry.example:5000', 'username': 'puller', 'password': PASSWORD,
                       'ttl': '168h'}
    assert warnings == []


def test_ttl_on_2_is_kept_with_a_warning():
    section, warnings = proxy_section({'remoteurl': 'https://registry-1.docker.io', 'ttl': '24h'}, 'registry:2')
    assert section['ttl'] == '24h' and 'Distribution 3.0 only' in warnings[0]


@pytest.mark.parametrize('cache, words', [
    ({'remoteurl': ''}, 'remoteurl is required'),
    ({'remoteurl': 'registry.example'}, 'must be http(s)://host[:port]'),
    ({'remoteurl': 'https://registry.example/v2/'}, 'no path'),
    ({'remoteurl': 'https://user:%s@registry.example' % PASSWORD}, 'not in the URL'),
    ({'remoteurl': 'https://registry.example', 'username': 'u'}, 'both username and password'),
    ({'remoteurl': 'https://registry.example', 'ttl': 'a week'}, "'a week' is not a duration"),
    ({'remoteurl': 'https://registry.example', 'cache': 'x'}, 'unknown key'),
    ({'remoteurl': 'https://registry.example\nx'}, 'control character'),
    ('https://registry.example', 'must be a mapping'),
])
def test_bad_settings_name_the_key_and_never_the_password(cache, words):
    with pytest.raises(BerthError, match=re.escape(words)) as info:
        proxy_section(cache)
    assert PASSWORD not in str(info.value)


def test_remoteurl_forms():
    assert parse_remoteurl('http://10.0.0.5:5000')[1:] == ('10.0.0.5', 5000, 'http://10.0.0.5:5000')
    assert parse_remoteurl('https://[fd00::5]:443')[3] == 'https://[fd00::5]:443'


@pytest.mark.parametrize('image, major', [('registry:2', 2), ('registry:3.0.0', 3), ('mirror.example/registry:2.8.3', 2),
                                          ('registry', None), ('registry:latest', None), ('registry@sha256:ab', None)])
def test_image_major(image, major):
    assert image_major(image) == major


def test_dockerd_mirrors_docker_hub_only():
    assert mirror_support('docker.io')['docker'][0]
    own = mirror_support('registry.berth.test')
    assert not own['docker'][0] and 'Docker Hub only' in own['docker'][1]
    assert own['containerd'][0] and own['containers'][0]
