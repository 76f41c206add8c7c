# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plain option values in, a plan out: validation names the option and the value, before anything is read."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._pki.options import (
    ca_plan, cert_plan, tls_ca_argument_spec, tls_cert_argument_spec,
)

CA = {'path': '/nonexistent/ca.crt', 'privatekey_path': '/nonexistent/ca.key', 'subject': {'CN': 'CA'}}
CERT = {'path': '/nonexistent/s.crt', 'privatekey_path': '/nonexistent/s.key', 'ca_path': '/nonexistent/ca.crt',
        'ca_privatekey_path': '/nonexistent/ca.key', 'dns_names': ['docker.gt.com']}


@pytest.mark.parametrize('args,message', [
    (dict(CA, key_type='dsa-1024'), "key_type: unknown key type 'dsa-1024'"),
    (dict(CA, validity_days=0), 'validity_days must be a positive number of days, got 0'),
    (dict(CA, subject={'CN': 'a\nb'}), 'subject.CN: .* control character'),
    (dict(CA, subject=None), 'subject.CN is required'),
    (dict(CA, regenerate='sometimes'), "regenerate: 'sometimes' is not one of fail, keep, on_change, always"),
    (dict(CERT, dns_names=['10.0.0.1']), "dns_names: '10.0.0.1' is an IP address"),
    (dict(CERT, dns_names=['reg-.example']), "dns_names: 'reg-.example' is not a valid DNS name"),
    (dict(CERT, ip_addresses=['fe80::1%eth0']), "ip_addresses: 'fe80::1%eth0' carries a zone"),
    (dict(CERT, dns_names=[], ip_addresses=[]), 'dns_names and ip_addresses are both empty'),
    (dict(CERT, renew_before_days=-1), 'renew_before_days must be 0 or more, got -1'),
    (dict(CERT, subject={'CN': 'c' * 65}), 'leave subject.CN out for a long host name'),
])
def test_bad_values_are_named(args, message):
    factory = ca_plan if 'ca_path' not in args else cert_plan
    with pytest.raises(BerthError, match=message):
        factory(**args)


def test_defaults_and_warnings():
    plan = cert_plan(**dict(CERT, ip_addresses=['127.0.0.1'], validity_days=20))
    assert plan.request.subject == {'CN': 'docker.gt.com'} and plan.request.ip_addresses == ['127.0.0.1']
    assert 'renewed on every run' in plan.warnings[0]
    ip_only = dict(CERT)
    ip_only.update(dns_names=[], ip_addresses=['::1'])
    assert cert_plan(**ip_only).request.subject == {'CN': '::1'}
    assert ca_plan(**CA).request.kind.path_length == 0


def test_the_factories_take_every_module_option():
    """A module calls them with **module.params: every option of the argument spec is a keyword."""
    ca_values = dict((k, v.get('default')) for k, v in tls_ca_argument_spec().items())
    ca_plan(**dict(ca_values, **CA))
    cert_values = dict((k, v.get('default')) for k, v in tls_cert_argument_spec().items())
    cert_plan(**dict(cert_values, **CERT))
