import base64
import json

import pytest

from ansible_collections.berth.registry.plugins.module_utils._docker_auth import (
    DockerAuthError, check_no_helper, encode_auth, format_config, has_auth, parse_config, stored_username,
    validate_login, with_auth,
)
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError


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


@pytest.mark.parametrize('data, message', [
    (b'{"auths": []}', 'auths is a list, expected an object'),
    (b'{"auths": "x"}', 'auths is a string, expected an object'),
    (b'{"credHelpers": ["r"]}', 'credHelpers is a list, expected an object'),
    (b'{"credsStore": 5}', 'credsStore is a number, expected a string'),
])
def test_parts_of_the_wrong_type_are_refused_naming_the_file(data, message):
    with pytest.raises(DockerAuthError, match='/c.json: %s' % message):
        parse_config(data, '/c.json')


@pytest.mark.parametrize('config, message', [
    ({'auths': {'r': 'x'}}, r"auths\['r'\] is a string, expected an object"),
    ({'auths': {'r': {'auth': 5}}}, r"auths\['r'\].auth is a number, expected a base64 string"),
    ({'auths': {'r': {'auth': ['x']}}}, r"auths\['r'\].auth is a list"),
])
def test_a_malformed_entry_of_the_registry_is_refused(config, message):
    for call in (lambda: has_auth(config, 'r', 'u', 'p', '/c.json'), lambda: with_auth(config, 'r', 'u', 'p', '/c.json'),
                 lambda: stored_username(config, 'r', '/c.json')):
        with pytest.raises(DockerAuthError, match='/c.json: ' + message):
            call()
    assert not has_auth(config, 'other', 'u', 'p')  # other registries' entries are not ours to judge


def test_auths_null_is_like_missing():
    assert with_auth({'auths': None}, 'r', 'u', 'p')['auths']['r']['auth'] == encode_auth('u', 'p')


@pytest.mark.parametrize('username, password, message', [
    ('ali:ce', 'pw', "login.username: 'ali:ce' contains ':'"),
    ('ali\nce', 'pw', 'login.username: .* control character'),
    ('', 'pw', 'login.username must not be empty'),
    ('alice', '', 'login.password must not be empty'),
])
def test_bad_logins_are_refused(username, password, message):
    with pytest.raises(BerthError, match=message):
        validate_login(username, password)
