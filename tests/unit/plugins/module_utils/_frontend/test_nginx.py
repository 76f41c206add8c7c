# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nginx site from structured input. nginx itself checks it on the bed (tests/integration/test_access.py)."""

from __future__ import annotations

import re

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._frontend.nginx import FrontendSpec, quote, render


def spec(**extra):
    args = dict(port=443, server_names=['Registry.Example', '10.0.0.5', '10.0.0.5'],
                tls_cert='/etc/docker/registry/ssl/registry.crt', tls_key='/etc/docker/registry/ssl/registry.key',
                users_file='/etc/docker/registry/frontend/users.htpasswd',
                push_file='/etc/docker/registry/frontend/push.htpasswd', upstream_port=5000)
    args.update(extra)
    return FrontendSpec(**args)


def block(text, opening):
    """The lines of the block that starts with ``opening`` (up to its closing brace)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == opening + ' {')
    depth, result = 0, []
    for line in lines[start:]:
        depth += line.count('{') - line.count('}')
        result.append(line.strip())
        if depth == 0:
            return result
    raise AssertionError('unclosed block %s' % opening)


def test_everyone_authenticates_writes_need_the_push_file():
    text = render(spec())
    v2 = block(text, 'location /v2/')
    assert 'auth_basic_user_file "/etc/docker/registry/frontend/users.htpasswd";' in v2
    assert block(text, 'limit_except GET HEAD') == [
        'limit_except GET HEAD {', 'auth_basic_user_file "/etc/docker/registry/frontend/push.htpasswd";', '}']
    assert 'error_page 401 = @berth_pull_only;' in v2 and 'recursive_error_pages on;' in v2
    pull_only = block(text, 'location @berth_pull_only')
    assert 'auth_basic_user_file "/etc/docker/registry/frontend/users.htpasswd";' in pull_only
    assert 'try_files /pull-only =403;' in pull_only and 'error_page 403 = @berth_denied;' in pull_only
    assert '"code":"DENIED"' in '\n'.join(block(text, 'location @berth_denied'))
    assert block(text, 'location /') == ['location / {', 'return 404;', '}']


def test_it_proxies_to_the_registry_on_loopback_the_way_distribution_wants():
    text = render(spec(upstream_port=5001))
    assert block(text, 'upstream berth_registry')[1] == 'server 127.0.0.1:5001;'
    v2 = block(text, 'location /v2/')
    for line in ('proxy_pass http://berth_registry;', 'proxy_set_header X-Forwarded-Proto $scheme;',
                 'proxy_set_header Host $http_host;', 'proxy_request_buffering off;', 'proxy_buffering off;',
                 'add_header Docker-Distribution-Api-Version $berth_registry_api_version always;'):
        assert line in v2
    assert 'client_max_body_size 0;' in text and 'chunked_transfer_encoding on;' in text


def test_tls_on_the_registry_port_with_ipv6_when_the_host_has_it():
    text = render(spec(port=5443))
    assert '    listen 5443 ssl;\n    listen [::]:5443 ssl;\n' in text
    assert '[::]' not in render(spec(port=5443, ipv6=False))
    assert 'server_name "registry.example" "10.0.0.5";' in text
    assert 'ssl_protocols TLSv1.2 TLSv1.3;' in text
    assert 'ssl_verify_client' not in text and 'ssl_crl' not in text and '@berth_client_certificate_refused' not in text


def test_mutual_tls_requires_a_certificate_of_the_ca_checked_against_the_crl():
    text = render(spec(client_ca='/etc/docker/registry/frontend/client-ca.crt',
                       crl='/etc/docker/registry/frontend/crl.pem'))
    server = block(text, 'server')
    for line in ('ssl_verify_client on;', 'ssl_client_certificate "/etc/docker/registry/frontend/client-ca.crt";',
                 'ssl_crl "/etc/docker/registry/frontend/crl.pem";', 'ssl_conf_command VerifyMode Require;',
                 'error_page 495 496 = @berth_client_certificate_refused;'):
        assert line in server
    assert '$ssl_client_verify' in '\n'.join(block(text, 'location @berth_client_certificate_refused'))


def test_no_user_name_is_ever_rendered():
    """Users live in the htpasswd files (a new one needs no reload): the site is the same for any users."""
    assert render(spec()) == render(spec())
    assert not re.search(r'\$remote_user', render(spec()))


def test_braces_balance_outside_strings():
    text = render(spec(client_ca='/a/ca.crt', crl='/a/crl.pem'))
    text = re.sub(r"'[^'\n]*'", "''", re.sub(r'(?m)^\s*#.*$', '', text))
    assert text.count('{') == text.count('}') == 9


@pytest.mark.parametrize('value', ['/a/$host', '/a/b\nserver {', '/a/\x00', '/a/\x7f'])
def test_quote_refuses_what_nginx_would_expand_or_split(value):
    with pytest.raises(BerthError, match='tls_cert: .* cannot go into the nginx configuration'):
        spec(tls_cert=value)


def test_quote_escapes_quotes_and_backslashes():
    assert quote('/a/"b";\\c', 'x') == '"/a/\\"b\\";\\\\c"'


@pytest.mark.parametrize('extra, message', [
    ({'port': 0}, r'port: 0 is not a port number'),
    ({'port': '443'}, r"port: '443' is not a port number"),
    ({'port': True}, r'port: True is not a port number'),
    ({'upstream_port': 70000}, r'upstream_port: 70000 is not a port number'),
    ({'upstream_port': 443}, r'upstream_port: 443 is the port the front end listens on'),
    ({'server_names': []}, r'server_names must name the registry'),
    ({'server_names': ['reg;evil']}, r"server_names\[0\]: 'reg;evil' is not a valid DNS name"),
    ({'server_names': ['fe80::1%eth0']}, r'server_names\[0\]: .* carries a zone'),
    ({'tls_key': 'relative/key'}, r"tls_key: 'relative/key' must be an absolute path"),
    ({'users_file': None}, r'users_file: None must be an absolute path'),
    ({'client_ca': '/a/ca.crt'}, r'client_ca and crl go together'),
    ({'crl': '/a/crl.pem'}, r'client_ca and crl go together'),
    ({'realm': 'a\nb'}, r'realm: .* control character'),
    ({'realm': 'x' * 201}, r'realm: .* longer than 200'),
])
def test_bad_input_names_the_field(extra, message):
    with pytest.raises(BerthError, match=message):
        spec(**extra)
