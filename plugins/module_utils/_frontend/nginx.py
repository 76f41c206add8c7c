# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The front end's nginx site, rendered from structured input. Pure.

What the site does (Distribution's nginx recipe, plus rights and mutual TLS):

* terminates TLS on the registry port with the registry's own certificate (TLS 1.2 and 1.3);
* mutual TLS (optional): a client certificate signed by the registry's CA and not in its CRL. A client
  without one fails the TLS handshake (``ssl_conf_command VerifyMode Require``: OpenSSL requires the
  certificate; nginx alone would complete the handshake and answer 400). Docker, containerd and Podman do not
  even send a certificate of another CA (the server names its CA), so theirs fail the same way; a client that
  forces one, or a revoked one, gets Distribution's 403 DENIED naming the reason;
* basic auth for every request under /v2/ against the ``users`` file (everyone), and for writes (every method
  but GET and HEAD) against the ``push`` file; a pull user's write ends as 403 DENIED ("denied: requested access
  to the resource is denied" in ``docker push``), anonymous requests as 401;
* proxies to the registry on 127.0.0.1 (plain HTTP, ``X-Forwarded-Proto``), unbuffered and without a body size
  limit, adding the ``Docker-Distribution-Api-Version`` header where the registry did not.

User names never appear here (they live in the htpasswd files, which nginx reads on every request: a new user
needs no reload). Every string rendered is validated and quoted; ``$`` is refused (nginx would expand it).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os
import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._names import check_text, host

SITE_PATH = '/etc/nginx/conf.d/berth-registry.conf'
UPSTREAM_HOST = '127.0.0.1'
DENIED = ('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied",'
          '"detail":"this user may pull only"}]}')
CERT_REFUSED = ('{"errors":[{"code":"DENIED","message":"client certificate refused: $ssl_client_verify",'
                '"detail":"a certificate issued to this node by the registry CA is required"}]}')
_UNSAFE = re.compile(r'[$\x00-\x1f\x7f]')


def quote(value, option):
    """``value`` as an nginx double-quoted string; control characters and ``$`` are refused."""
    if not isinstance(value, str) or _UNSAFE.search(value):
        raise BerthError('%s: %r cannot go into the nginx configuration: no "$" and no control characters '
                         '(newline, NUL, ...) are allowed' % (option, value))
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


def _port(value, option):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise BerthError('%s: %r is not a port number (1..65535)' % (option, value))
    return value


def _path(value, option):
    if not isinstance(value, str) or not os.path.isabs(value):
        raise BerthError('%s: %r must be an absolute path' % (option, value))
    quote(value, option)
    return value


class FrontendSpec(object):
    """What the site says, validated. Paths are host paths nginx reads.

    port: where nginx listens (the registry port clients use); server_names: names and addresses clients type;
    tls_cert/tls_key: the server pair; users_file/push_file: the htpasswd files (rights.py); upstream_port: the
    registry on 127.0.0.1; client_ca/crl: mutual TLS (both or neither); ipv6: listen on [::] too.
    """

    def __init__(self, port, server_names, tls_cert, tls_key, users_file, push_file, upstream_port,
                 client_ca=None, crl=None, ipv6=True, realm=None):
        self.port = _port(port, 'port')
        self.upstream_port = _port(upstream_port, 'upstream_port')
        if self.port == self.upstream_port:
            raise BerthError('upstream_port: %d is the port the front end listens on; the registry needs another '
                             'port on 127.0.0.1' % self.upstream_port)
        if not server_names:
            raise BerthError('server_names must name the registry (its host name or address)')
        self.server_names = []
        for index, name in enumerate(server_names):
            name = host(name, 'server_names[%d]' % index)
            if name not in self.server_names:
                self.server_names.append(name)
        self.tls_cert = _path(tls_cert, 'tls_cert')
        self.tls_key = _path(tls_key, 'tls_key')
        self.users_file = _path(users_file, 'users_file')
        self.push_file = _path(push_file, 'push_file')
        if (client_ca is None) != (crl is None):
            raise BerthError('client_ca and crl go together: mutual TLS needs the CA that signs the clients and its '
                             'CRL (nginx refuses every client of a CA it has no CRL of)')
        self.client_ca = _path(client_ca, 'client_ca') if client_ca is not None else None
        self.crl = _path(crl, 'crl') if crl is not None else None
        self.ipv6 = bool(ipv6)
        self.realm = check_text(realm or 'berth registry %s' % self.server_names[0], 'realm', max_length=200)
        quote(self.realm, 'realm')

    @property
    def mutual_tls(self):
        return self.client_ca is not None


def render(spec):
    """The site's text (for /etc/nginx/conf.d/, inside nginx's http block)."""
    realm = quote(spec.realm, 'realm')
    users, push = quote(spec.users_file, 'users_file'), quote(spec.push_file, 'push_file')
    lines = [
        '# Managed by berth.registry: the registry\'s access-control front end. Rewritten on every run.',
        '# nginx terminates TLS on port %d and enforces rights; the registry listens on %s:%d only.'
        % (spec.port, UPSTREAM_HOST, spec.upstream_port),
        '',
        'map $upstream_http_docker_distribution_api_version $berth_registry_api_version {',
        "    '' 'registry/2.0';",
        '}',
        '',
        'upstream berth_registry {',
        '    server %s:%d;' % (UPSTREAM_HOST, spec.upstream_port),
        '    keepalive 16;',
        '}',
        '',
        'server {',
        '    listen %d ssl;' % spec.port,
    ]
    if spec.ipv6:
        lines.append('    listen [::]:%d ssl;' % spec.port)
    lines += [
        '    server_name %s;' % ' '.join(quote(n, 'server_names') for n in spec.server_names),
        '    server_tokens off;',
        '',
        '    ssl_certificate %s;' % quote(spec.tls_cert, 'tls_cert'),
        '    ssl_certificate_key %s;' % quote(spec.tls_key, 'tls_key'),
        '    ssl_protocols TLSv1.2 TLSv1.3;',
    ]
    if spec.mutual_tls:
        lines += [
            '',
            '    # mutual TLS: a certificate the registry CA issued to this node, not revoked',
            '    ssl_verify_client on;',
            '    ssl_client_certificate %s;' % quote(spec.client_ca, 'client_ca'),
            '    ssl_crl %s;' % quote(spec.crl, 'crl'),
            '    # no certificate: the handshake fails (nginx alone would answer 400 after it)',
            '    ssl_conf_command VerifyMode Require;',
            '    error_page 495 496 = @berth_client_certificate_refused;',
        ]
    lines += [
        '',
        '    client_max_body_size 0;',
        '    chunked_transfer_encoding on;',
        '',
        '    location /v2/ {',
        '        auth_basic %s;' % realm,
        '        auth_basic_user_file %s;' % users,
        '        limit_except GET HEAD {',
        '            auth_basic_user_file %s;' % push,
        '        }',
        '        # a pull user who writes gets 403 DENIED, which docker shows, instead of a 401 loop',
        '        error_page 401 = @berth_pull_only;',
        '        recursive_error_pages on;',
        '',
        '        add_header Docker-Distribution-Api-Version $berth_registry_api_version always;',
        '        proxy_pass http://berth_registry;',
        '        proxy_http_version 1.1;',
        '        proxy_set_header Connection "";',
        '        proxy_set_header Host $http_host;',
        '        proxy_set_header X-Real-IP $remote_addr;',
        '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
        '        proxy_set_header X-Forwarded-Proto $scheme;',
        '        proxy_read_timeout 900s;',
        '        proxy_send_timeout 900s;',
        '        proxy_request_buffering off;',
        '        proxy_buffering off;',
        '    }',
        '',
        '    # the write was refused by the push file: 401 again for unknown users, 403 for pull users',
        '    location @berth_pull_only {',
        '        auth_basic %s;' % realm,
        '        auth_basic_user_file %s;' % users,
        '        root /nonexistent/berth-registry;',
        '        error_page 403 = @berth_denied;',
        '        try_files /pull-only =403;',
        '    }',
        '',
        '    location @berth_denied {',
        '        default_type application/json;',
        '        add_header Docker-Distribution-Api-Version registry/2.0 always;',
        "        return 403 '%s\\n';" % DENIED,
        '    }',
    ]
    if spec.mutual_tls:
        lines += [
            '',
            '    location @berth_client_certificate_refused {',
            '        default_type application/json;',
            '        add_header Docker-Distribution-Api-Version registry/2.0 always;',
            "        return 403 '%s\\n';" % CERT_REFUSED,
            '    }',
        ]
    lines += [
        '',
        '    location / {',
        '        return 404;',
        '    }',
        '}',
    ]
    return '\n'.join(lines) + '\n'
