"""The line scanner behind TOML edits: headers, keys and one-line strings as TOML writes them."""

import tomllib

import pytest

from ansible_collections.berth.registry.plugins.module_utils._toml import (
    Document, header, key_line, key_text, read_string, string,
)


@pytest.mark.parametrize('line, expected', [
    ('[plugins."io.containerd.grpc.v1.cri".registry]\n',
     ('table', ('plugins', 'io.containerd.grpc.v1.cri', 'registry'))),
    ("  [ plugins . 'cri' ]  # comment\n", ('table', ('plugins', 'cri'))),
    ('[[registry.mirror]]\n', ('array', ('registry', 'mirror'))),
    ('[a."b\\"c"]\n', ('table', ('a', 'b"c'))),
    ('key = "[not a header]"\n', None),
    ('[a] trailing\n', None),
    ('[a\n', None),
])
def test_header(line, expected):
    assert header(line) == expected


def test_key_lines_and_strings():
    assert key_line('  config_path = "/x"  # c\n') == (('config_path',), 16)
    assert key_line('registry.config_path="/x"') == (('registry', 'config_path'), 21)
    assert key_line('# config_path = "/x"') is None
    assert read_string('"a\\tb\\u00e9" rest', 0) == ('a\tb\u00e9', 12)
    assert read_string("'C:\\path' rest", 0) == ('C:\\path', 9)
    assert read_string('"""multi', 0) == (None, 0)


@pytest.mark.parametrize('value', ['/etc/containerd/certs.d', 'quote " back \\ tab \t', 'caf\u00e9'])
def test_string_and_key_text_are_toml(value):
    assert tomllib.loads('%s = %s' % (key_text(['plugins', value]), string(value))) == {'plugins': {value: value}}


def test_headers_inside_multiline_strings_are_not_tables():
    doc = Document('a = """\n[not.a.table]\n"""\n[real]\nx = 1\n')
    assert [(i, parts) for i, dummy, parts in doc.headers] == [(3, ('real',))]
    assert doc.table(['real']) == (3, 5)
