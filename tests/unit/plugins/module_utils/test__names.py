import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._names import (
    check_text, dns_name, endpoint_text, ip_address, redact_userinfo, registry_endpoint, userinfo_secrets,
)


@pytest.mark.parametrize('value, expected', [
    ('Registry.Example.', 'registry.example'), ('a' * 63 + '.example', 'a' * 63 + '.example'), ('x', 'x')])
def test_dns_names_are_normalized(value, expected):
    assert dns_name(value, 'dns_names') == expected


@pytest.mark.parametrize('value', ['reg-.example', '-reg.example', '..', 'a..b', '10.0.0.1', 'a_b.example',
                                   'reg.example\nevil', 'a' * 64 + '.example', '*.example'])
def test_bad_dns_names_are_refused_naming_the_option(value):
    with pytest.raises(BerthError, match='dns_names'):
        dns_name(value, 'dns_names')


def test_wildcards_only_where_allowed():
    assert dns_name('*.reg.example', 'dns_names', wildcard=True) == '*.reg.example'


@pytest.mark.parametrize('value', ['fe80::1%eth0', 'fe80::1%eth0\n10.0.0.9 evil', '10.0.0.300', '10.0.0.1/24'])
def test_bad_addresses_are_refused(value):
    with pytest.raises(BerthError, match='address'):
        ip_address(value, 'hosts_entry.address')


@pytest.mark.parametrize('value, expected', [
    ('reg.example:5000', ('reg.example', 5000)), ('reg.example', ('reg.example', None)),
    ('[fd00::1]:443', ('fd00::1', 443)), ('10.0.0.1:5000', ('10.0.0.1', 5000))])
def test_registry_endpoints(value, expected):
    assert registry_endpoint(value) == expected
    assert endpoint_text(*expected) == value


@pytest.mark.parametrize('value', ['https://reg', '..', '../../etc', 'reg:0', 'reg:70000', 'reg/x', 'fd00::1', ''])
def test_bad_registry_endpoints_name_the_value(value):
    with pytest.raises(BerthError, match='registry'):
        registry_endpoint(value)


def test_control_characters_are_refused():
    with pytest.raises(BerthError, match='control character'):
        check_text('CA\x00name', 'subject.CN')


def test_userinfo_is_redacted_and_collected_for_no_log():
    text = 'https://alice:Mk-1-PW-2@mirror.example:5000 and http://tok3n-Mk-9@proxy.example/x'
    assert redact_userinfo(text) == 'https://***@mirror.example:5000 and http://***@proxy.example/x'
    assert redact_userinfo(5) == 5
    found = userinfo_secrets({'a': [text], 'b': 'no url here', 'c': 'mailto:x@y'})
    assert set(found) == {'alice:Mk-1-PW-2', 'Mk-1-PW-2', 'tok3n-Mk-9'}
