import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._json_file import (
    MAX_BYTES, MAX_DEPTH, check_json_value, parse_json_object, read_json_object,
)


def test_parse_errors_name_the_path():
    with pytest.raises(BerthError, match=r'/x/daemon.json is not valid JSON: Expecting'):
        parse_json_object(b'{"a": ', '/x/daemon.json')
    with pytest.raises(BerthError, match=r'/x/daemon.json does not hold a JSON object but a list'):
        parse_json_object(b'[1]', '/x/daemon.json')
    assert parse_json_object(None, 'p') == {} and parse_json_object(b'  \n', 'p') == {}


@pytest.mark.parametrize('data, constant', [(b'{"a": NaN}', 'NaN'), (b'{"a": [Infinity]}', 'Infinity'),
                                            (b'{"a": -Infinity}', '-Infinity')])
def test_non_standard_constants_are_refused(data, constant):
    with pytest.raises(BerthError, match='/x.json is not valid JSON: %s is not standard JSON' % constant):
        parse_json_object(data, '/x.json')


@pytest.mark.parametrize('depth', [MAX_DEPTH + 1, 100000])
def test_deep_nesting_is_refused_without_a_recursion_error(depth):
    data = b'{"a": ' + b'[' * depth + b']' * depth + b'}'
    with pytest.raises(BerthError, match='/x.json is nested deeper than %d levels' % MAX_DEPTH):
        parse_json_object(data, '/x.json')


def test_not_utf8_names_the_file():
    with pytest.raises(BerthError, match='/x.json is not UTF-8 text'):
        parse_json_object(b'{"a": "caf\xe9"}', '/x.json')


def test_read_refuses_a_huge_file_and_a_directory(tmp_path):
    (tmp_path / 'big.json').write_bytes(b'{"a": "' + b'x' * MAX_BYTES + b'"}')
    with pytest.raises(BerthError, match='path: .*big.json is .* bytes, more than'):
        read_json_object(str(tmp_path / 'big.json'), 'path')
    with pytest.raises(BerthError, match='path: .* is a directory'):
        read_json_object(str(tmp_path), 'path')
    assert read_json_object(str(tmp_path / 'missing.json'), 'path') == ({}, False)


def test_check_json_value():
    assert check_json_value({'a': [1, 'b']}, 'settings.x') == {'a': [1, 'b']}
    with pytest.raises(BerthError, match='settings.x: .* NaN or Infinity'):
        check_json_value([float('nan')], 'settings.x')
