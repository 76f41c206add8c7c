import base64
import json

import pytest

from ansible_collections.berth.registry.plugins.module_utils._docker_auth import (
    DockerAuthError, check_no_helper, encode_auth, format_config, has_auth, parse_config, stored_username, with_auth,
)


def test_with_auth_keeps_other_keys_and_is_detected():
    config = {'auths': {'other:5000': {'auth': 'eDp5'}}, 'HttpHeaders': {'User-Agent': 'x'}}
    new = with_auth(config, 'reg:5000', 'alice', 'pw:with:colons')
    assert new['auths']['other:5000'] == {'auth': 'eDp5'} and new['HttpHeaders'] == {'User-Agent': 'x'}
    assert base64.b64decode(new['auths']['reg:5000']['auth']) == b'alice:pw:with:colons'
    assert has_auth(new, 'reg:5000', 'alice', 'pw:with:colons')
    assert not has_auth(new, 'reg:5000', 'alice', 'other')
    assert stored_username(new, 'reg:5000') == 'alice' and stored_username(config, 'reg:5000') is None
    assert 'reg:5000' not in config.get('auths')


def test_format_and_parse_round_trip():
    config = with_auth({}, 'r', 'u', 'p')
    assert parse_config(format_config(config).encode(), 'p') == config
    assert format_config(config).startswith('{\n\t"auths"')
    with pytest.raises(DockerAuthError, match='/c.json is not valid JSON'):
        parse_config(b'{', '/c.json')


def test_credential_helpers_refused():
    with pytest.raises(DockerAuthError, match='credsStore'):
        check_no_helper({'credsStore': 'pass'}, 'r', 'p')
    with pytest.raises(DockerAuthError, match='credential helper for r'):
        check_no_helper({'credHelpers': {'r': 'ecr'}}, 'r', 'p')
    check_no_helper({'credHelpers': {'other': 'ecr'}}, 'r', 'p')


def test_encode_auth():
    assert encode_auth('a', 'b') == base64.b64encode(b'a:b').decode() and json.dumps(encode_auth('a', 'b'))
