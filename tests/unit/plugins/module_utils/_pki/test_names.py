# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._pki import names

LONG_NAME = 'registry-with-a-rather-long-name.build-cluster-07.eu-west.corp.example'


def test_subject_normalisation():
    assert names.normalize_subject({'CN': None, 'O': ''}, default_cn='a.example') == {'CN': 'a.example'}
    assert list(names.normalize_subject({'CN': 'x', 'C': 'DE', 'O': 'Acme'})) == ['C', 'O', 'CN']
    with pytest.raises(BerthError, match="subject.C must be a two-letter country code such as DE, got 'China'"):
        names.normalize_subject({'C': 'China', 'CN': 'x'})
    with pytest.raises(BerthError, match='subject.CN is required'):
        names.normalize_subject({'O': 'x'})
    with pytest.raises(BerthError, match='unknown field'):
        names.normalize_subject({'CN': 'x', 'emailAddress': 'a@b'})


@pytest.mark.parametrize('field', names.SUBJECT_FIELDS[1:])
@pytest.mark.parametrize('bad', ['a\nb', 'a\x00b', 'a\rb', 'a\x1b[31mb', 'a\x7fb'])
def test_control_characters_in_any_subject_field_are_refused(field, bad):
    """Issue 9: a newline or NUL in a CA common name (any subject field) was written into the certificate."""
    with pytest.raises(BerthError, match=r'subject\.%s: .* control character' % field):
        names.normalize_subject({'CN': 'ok', field: bad} if field != 'CN' else {'CN': bad})


def test_x509_length_bounds():
    assert names.normalize_subject({'CN': 'x', 'L': 'l' * 128})['L'] == 'l' * 128
    with pytest.raises(BerthError, match='subject.O: .* longer than 64 characters'):
        names.normalize_subject({'CN': 'x', 'O': 'o' * 65})


def test_a_long_host_name_leaves_the_cn_out():
    """Issue 9: a host name over 64 characters was refused because the CN is capped; the SAN is what matters."""
    assert names.normalize_subject(None, default_cn=LONG_NAME, cn_required=False) == {}
    assert names.normalize_subject({'O': 'Acme'}, default_cn=LONG_NAME, cn_required=False) == {'O': 'Acme'}
    with pytest.raises(BerthError, match='leave subject.CN out for a long host name: clients match the subjectAltName'):
        names.normalize_subject({'CN': LONG_NAME}, cn_required=False)
    assert names.subject_string({}) == '/'


def test_dns_names():
    assert names.normalize_dns_names(['Docker.GT.com', '*.gt.com', 'docker.gt.com.']) == ['docker.gt.com', '*.gt.com']
    assert names.normalize_dns_names([LONG_NAME]) == [LONG_NAME]


@pytest.mark.parametrize('value,says', [
    ('10.0.0.1', 'is an IP address, not a DNS name'),  # issue 9
    ('::1', 'is an IP address, not a DNS name'),
    ('reg-.example', 'is not a valid DNS name'),  # issue 9
    ('-reg.example', 'is not a valid DNS name'),
    ('a..example', 'is not a valid DNS name'),
    ('bad name.example', 'is not a valid DNS name'),
    ('reg.example\nevil', 'control character'),
    ('*.com', 'is not a valid DNS name'),
    ('a.*.example', 'is not a valid DNS name'),
    ('x' * 64 + '.example', 'is not a valid DNS name'),
])
def test_bad_dns_names_are_named(value, says):
    with pytest.raises(BerthError, match='dns_names: .*%s' % says):
        names.normalize_dns_names(['ok.example', value])


def test_ip_addresses():
    assert names.normalize_ip_addresses(['127.0.0.1', '2001:DB8::0001', '127.0.0.1']) == ['127.0.0.1', '2001:db8::1']
    with pytest.raises(BerthError, match="ip_addresses: '300.1.2.3' is not an IPv4 or IPv6 address"):
        names.normalize_ip_addresses(['300.1.2.3'])
    with pytest.raises(BerthError, match="ip_addresses: '10.0.0.0/8' is not an IPv4 or IPv6 address"):
        names.normalize_ip_addresses(['10.0.0.0/8'])


def test_a_scoped_ipv6_address_is_refused():
    """Issue 9: fe80::1%eth0 was accepted; the certificate holds fe80::1, so every run re-issued it."""
    with pytest.raises(BerthError, match=r"ip_addresses: 'fe80::1%eth0' carries a zone .* without a zone"):
        names.normalize_ip_addresses(['fe80::1%eth0'])
