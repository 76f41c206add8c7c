import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._hosts_file import find_lines, plan_hosts, validate_entry

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


def test_names_compare_case_insensitively():
    """An old REG.test line must not shadow ours (resolvers compare names case-insensitively)."""
    text = '127.0.0.1 localhost\n192.0.2.9 REG.Test\n'
    new, before, after = plan_hosts(text, 'reg.test', '192.0.2.10')
    assert new == '127.0.0.1 localhost\n192.0.2.10 reg.test\n' and before == '192.0.2.9 REG.Test'
    same = '192.0.2.10 REG.test\n'
    assert plan_hosts(same, 'reg.test', '192.0.2.10')[0] == same
    assert find_lines(text, 'Reg.TEST') == ['192.0.2.9 REG.Test']


def test_crlf_and_missing_final_newline_are_kept_when_our_line_is_there():
    for text in ('127.0.0.1 localhost\r\n192.0.2.10 reg.test\r\n', '127.0.0.1 localhost\n192.0.2.10 reg.test',
                 '192.0.2.10 reg.test\r\n127.0.0.1 localhost'):
        assert plan_hosts(text, 'reg.test', '192.0.2.10')[0] == text


def test_crlf_files_get_crlf_lines():
    assert plan_hosts('127.0.0.1 localhost\r\n', 'r.test', '192.0.2.1')[0] == '127.0.0.1 localhost\r\n192.0.2.1 r.test\r\n'
    assert plan_hosts('192.0.2.9 r.test\r\n::1 x', 'r.test', '192.0.2.1')[0] == '192.0.2.1 r.test\r\n::1 x'


def test_no_trailing_newline_and_empty_file():
    assert plan_hosts('127.0.0.1 localhost', 'r', '192.0.2.1')[0] == '127.0.0.1 localhost\n192.0.2.1 r\n'
    assert plan_hosts('', 'r', '192.0.2.1')[0] == '192.0.2.1 r\n'


def test_ipv6_addresses_compare_as_addresses():
    text = '2001:DB8::0:1 reg.test\n'
    assert plan_hosts(text, 'reg.test', '2001:db8::1')[0] == text


def test_validation_normalizes_and_names_the_option():
    assert validate_entry('Reg.Test', ' 2001:DB8::1 ') == ('reg.test', '2001:db8::1')
    with pytest.raises(BerthError, match='hosts_entry.hostname'):
        validate_entry('bad name', '192.0.2.1')
    with pytest.raises(BerthError, match="hosts_entry.address: '192.0.2' is not an IPv4 or IPv6 address"):
        validate_entry('reg.test', '192.0.2')


@pytest.mark.parametrize('address, message', [
    ('fe80::1%eth0\n203.0.113.66 evil.example', 'control character'),
    ('fe80::1%eth0', 'zone'),
    ('fe80::1%eth0 evil', 'zone'),
])
def test_zones_and_hidden_lines_are_refused(address, message):
    """Python's ipaddress accepts a %zone carrying anything, a newline and a second hosts line included."""
    with pytest.raises(BerthError, match='hosts_entry.address: .*%s' % message):
        validate_entry('reg.test', address)
