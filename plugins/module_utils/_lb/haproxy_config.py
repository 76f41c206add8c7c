# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""haproxy.cfg for a registry's replicas, rendered from an LbSpec. Pure: no I/O.

One ``listen`` section in TCP mode: the TLS connection of a client goes through untouched to a replica
(the replicas hold the certificate; HAProxy never sees a password or a blob). Health checks are HTTP
GETs of /v2/ over TLS (``check-ssl``) and count 200 (no auth) and 401 (auth) as healthy. A connection
that cannot reach its server is retried on another one (``option redispatch``), so a replica that goes
away between two checks costs a client nothing but a retry.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._names import is_ip_address

HEADER = '# Managed by berth.registry (registry_lb): changes here are replaced on the next run.\n'


def _ms(value):
    """HAProxy time value: whole seconds as 's', else milliseconds."""
    return '%ds' % (value // 1000) if value % 1000 == 0 else '%dms' % value


def _bind(spec):
    if spec.bind_address == '*':
        return ':%d' % spec.port
    return '%s:%d' % (spec.bind_address if ':' not in spec.bind_address else '[%s]' % spec.bind_address, spec.port)


def _server_address(server):
    return '%s:%d' % (server.address if ':' not in server.address else '[%s]' % server.address, server.port)


def check_lines(check):
    """The health-check lines of the listen section and the default-server options they need."""
    version = 'HTTP/1.1 hdr Host %s' % check.host if check.host else 'HTTP/1.0'
    send = 'http-check send meth GET uri %s ver %s' % (check.path, version)
    lines = ['option httpchk', send,
             'http-check expect status %s' % ','.join(str(c) for c in check.expect_status)]
    server = ['check', 'inter %s' % _ms(check.interval), 'rise %d' % check.rise, 'fall %d' % check.fall]
    if check.tls:
        server.append('check-ssl')
        if check.ca_file:
            server += ['verify required', 'ca-file %s' % check.ca_file]
            if check.host:
                server.append('verifyhost %s' % check.host)
        else:
            server.append('verify none')
        if check.host and not is_ip_address(check.host):
            server.append('check-sni %s' % check.host)
    return lines, server


def render(spec):
    """The whole haproxy.cfg text for spec (state=present)."""
    check_section, server_options = check_lines(spec.check)
    out = [HEADER.rstrip('\n'),
           'global',
           '    log /dev/log local0',
           '    chroot /var/lib/haproxy',
           '    stats socket %s mode 660 level admin expose-fd listeners' % spec.stats_socket,
           '    stats timeout 30s',
           '    user haproxy',
           '    group haproxy',
           '    maxconn %d' % spec.maxconn,
           '',
           'defaults',
           '    mode tcp',
           '    log global',
           '    option tcplog',
           '    option dontlognull',
           '    timeout connect %s' % _ms(spec.timeouts['connect']),
           '    timeout client %s' % _ms(spec.timeouts['client']),
           '    timeout server %s' % _ms(spec.timeouts['server']),
           '    timeout check %s' % _ms(spec.check.timeout),
           '    retries 3',
           '    option redispatch 1',
           '',
           'listen %s' % spec.name,
           '    bind %s' % _bind(spec),
           '    mode tcp',
           '    balance %s' % spec.balance]
    out += ['    ' + line for line in check_section]
    out.append('    default-server %s' % ' '.join(server_options))
    out += ['    server %s %s' % (s.name, _server_address(s)) for s in spec.servers]
    return '\n'.join(out) + '\n'
