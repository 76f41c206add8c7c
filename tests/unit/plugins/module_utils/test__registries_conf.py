"""registries.conf.d drop-ins as this module writes them: v2 entries containers/image reads back."""

import tomllib

from ansible_collections.berth.registry.plugins.module_utils._registries_conf import (
    MARKER, MIRRORS_DROPIN, insecure_dropin, mirrors_dropin, registry_dropin_name,
)


def test_plain_http_registry_is_insecure():
    text = insecure_dropin('reg.example:5000')
    assert text.startswith(MARKER)
    assert tomllib.loads(text) == {'registry': [{'location': 'reg.example:5000', 'insecure': True}]}


def test_drop_in_names_are_conf_files_of_safe_characters():
    assert registry_dropin_name('reg.example:5000') == '50-berth-registry-reg.example_5000.conf'
    assert registry_dropin_name('[2001:db8::1]:5000') == '50-berth-registry-_2001_db8__1__5000.conf'
    assert MIRRORS_DROPIN.endswith('.conf')


def test_mirrors_of_docker_hub_keep_their_order_and_http_ones_are_insecure():
    assert tomllib.loads(mirrors_dropin(['https://m1.example/', 'http://m2.example:5000'])) == {'registry': [{
        'prefix': 'docker.io', 'location': 'docker.io',
        'mirror': [{'location': 'm1.example'}, {'location': 'm2.example:5000', 'insecure': True}]}]}


def test_the_registry_dropin_lists_its_caches_as_mirrors():
    from ansible_collections.berth.registry.plugins.module_utils._registries_conf import registry_dropin
    assert registry_dropin('reg.example', False) is None
    parsed = tomllib.loads(registry_dropin('reg.example', False, ['cache.example', 'c2.example:5000']))
    assert parsed == {'registry': [{'location': 'reg.example', 'mirror': [{'location': 'cache.example'},
                                                                          {'location': 'c2.example:5000'}]}]}
    both = tomllib.loads(registry_dropin('reg.example:5000', True, ['cache.example']))
    assert both['registry'][0]['insecure'] is True and both['registry'][0]['mirror'] == [{'location': 'cache.example'}]
