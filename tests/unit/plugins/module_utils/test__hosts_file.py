import pytest

from ansible_collections.berth.registry.plugins.module_utils._hosts_file import (
    HostsFileError, plan_hosts, validate_entry, write_hosts,
)

BASE = '127.0.0.1 localhost\n# comment\n::1 localhost ip6-localhost\n'


def test_append_when_missing():
    new, before, after = plan_hosts(BASE, 'reg.test', '192.0.2.10')
    assert new == BASE + '192.0.2.10 reg.test\n' and before is None and after == '192.0.2.10 reg.test'


def test_unchanged_when_present():
    text = BASE + '192.0.2.10\treg.test   # registry\n'
    assert plan_hosts(text, 'reg.test', '192.0.2.10')[0] == text


def test_other_address_replaced_in_place():
    text = '127.0.0.1 localhost\n192.0.2.9 reg.test\n10.0.0.1 other\n'
    new, before, after = plan_hosts(text, 'reg.test', '192.0.2.10')
    assert new == '127.0.0.1 localhost\n192.0.2.10 reg.test\n10.0.0.1 other\n'
    assert before == '192.0.2.9 reg.test' and after == '192.0.2.10 reg.test'


def test_alias_keeps_old_address_and_duplicates_go():
    text = '192.0.2.9 reg.test alias # c\n10.0.0.1 x\n192.0.2.8 reg.test\n'
    new = plan_hosts(text, 'reg.test', '192.0.2.10')[0]
    assert new == '192.0.2.9 alias # c\n192.0.2.10 reg.test\n10.0.0.1 x\n'
    assert plan_hosts(new, 'reg.test', '192.0.2.10')[0] == new


def test_no_trailing_newline_and_empty_file():
    assert plan_hosts('127.0.0.1 localhost', 'r', '192.0.2.1')[0] == '127.0.0.1 localhost\n192.0.2.1 r\n'
    assert plan_hosts('', 'r', '192.0.2.1')[0] == '192.0.2.1 r\n'


def test_validation():
    with pytest.raises(HostsFileError, match='not a valid host name'):
        validate_entry('bad name', '192.0.2.1')
    with pytest.raises(HostsFileError, match='not an IPv4 or IPv6 address'):
        validate_entry('reg.test', '192.0.2')


def test_write_keeps_mode(tmp_path):
    path = tmp_path / 'hosts'
    path.write_text(BASE)
    path.chmod(0o600)
    assert write_hosts(str(path), b'x\n') == 'atomic'
    assert path.read_bytes() == b'x\n' and (path.stat().st_mode & 0o777) == 0o600
