# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LbSpec and CacheSpec: what the load balancer (and its optional redis cache) must be, as validated plain
values, and the registry_lb module's argument spec. Pure: no I/O.

Every value that lands in haproxy.cfg or the redis drop-in is checked here, so no input can add a line or
a directive of its own (newlines, spaces, quotes, control characters are refused with the option named).
"""

from __future__ import annotations

import os
import re

from ansible_collections.berth.registry.plugins.module_utils import _names
from ansible_collections.berth.registry.plugins.module_utils._lb.errors import LbInputError

STATES = ['present', 'healthy']
BALANCE = ['leastconn', 'roundrobin', 'source']
DEFAULT_CONFIG = '/etc/haproxy/haproxy.cfg'
DEFAULT_SOCKET = '/run/haproxy/admin.sock'
DEFAULT_CACHE_CONFIG = '/etc/redis/berth-registry.conf'
DEFAULT_REDIS_CONFIG = '/etc/redis/redis.conf'

CHECK_OPTIONS = dict(
    path=dict(type='str', default='/v2/'),
    host=dict(type='str'),
    tls=dict(type='bool', default=True),
    ca_file=dict(type='path'),
    expect_status=dict(type='list', elements='int', default=[200, 401]),
    interval=dict(type='int', default=2000),
    timeout=dict(type='int', default=2000),
    rise=dict(type='int', default=2),
    fall=dict(type='int', default=2),
)
TIMEOUT_OPTIONS = dict(
    connect=dict(type='int', default=2000),
    client=dict(type='int', default=300000),
    server=dict(type='int', default=300000),
)
CACHE_OPTIONS = dict(
    bind=dict(type='list', elements='str', default=['127.0.0.1']),
    port=dict(type='int', default=6379),
    password=dict(type='str', no_log=True),
    maxmemory=dict(type='str', default='256mb'),
    config_path=dict(type='path', default=DEFAULT_CACHE_CONFIG),
    redis_config_path=dict(type='path', default=DEFAULT_REDIS_CONFIG),
)


def argument_spec():
    """The registry_lb module's options (documented in plugins/modules/registry_lb.py)."""
    return dict(
        state=dict(type='str', default='present', choices=STATES),
        name=dict(type='str', default='registry'),
        bind_address=dict(type='str', default='*'),
        port=dict(type='int'),
        servers=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            address=dict(type='str', required=True),
            port=dict(type='int', required=True),
        )),
        balance=dict(type='str', default='leastconn', choices=BALANCE),
        check=dict(type='dict', default={}, options=CHECK_OPTIONS),
        timeouts=dict(type='dict', default={}, options=TIMEOUT_OPTIONS),
        maxconn=dict(type='int', default=4096),
        config_path=dict(type='path', default=DEFAULT_CONFIG),
        stats_socket=dict(type='path', default=DEFAULT_SOCKET),
        cache=dict(type='dict', options=CACHE_OPTIONS),
        wait_for=dict(type='list', elements='str', default=[]),
        wait_timeout=dict(type='int', default=120),
        install_packages=dict(type='bool', default=True),
    )


REQUIRED_IF = [('state', 'present', ('port', 'servers'))]

# HAProxy identifiers (proxy and server names): letters, digits and - _ . : (configuration.txt 2.6, section 2.3)
_IDENTIFIER = re.compile(r'^[A-Za-z0-9_.:-]{1,100}$')
_PATH = re.compile(r'^/[A-Za-z0-9._~!$&\'()*+,;=:@%/?-]*$')
_MEMORY = re.compile(r'^[0-9]{1,12}(b|k|kb|m|mb|g|gb)?$', re.I)
# a redis password goes between double quotes in the drop-in: printable ASCII without space, quote or backslash
_PASSWORD = re.compile(r'^[!#-\[\]-~]{1,512}$')


def identifier(value, option):
    _names.check_text(value, option)
    if not _IDENTIFIER.fullmatch(value):
        raise LbInputError('%s: %r is not an HAProxy name; use 1..100 letters, digits and - _ . :' % (option, value))
    return value


def port(value, option):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise LbInputError('%s: %r is not a port; give 1..65535' % (option, value))
    return value


def positive(value, option, maximum=None):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (maximum and value > maximum):
        raise LbInputError('%s: %r must be a whole number from 1%s' % (option, value, ' to %d' % maximum if maximum else ''))
    return value


def bind_address(value, option):
    """'*' (every address) or one IP address."""
    text = _names.check_text(str(value).strip(), option)
    if text in ('*', '0.0.0.0'):
        return '*'
    return _names.ip_address(text, option)


def absolute_path(value, option):
    text = _names.check_text(str(value), option)
    if not os.path.isabs(text) or any(c.isspace() for c in text) or '#' in text:
        raise LbInputError('%s: %r must be an absolute path without spaces or #' % (option, value))
    if '..' in text.split('/'):
        raise LbInputError('%s: %r must not contain .. components' % (option, value))
    return os.path.normpath(text)


class Server(object):
    __slots__ = ('name', 'address', 'port')

    def __init__(self, name, address, port_):
        self.name, self.address, self.port = name, address, port_

    def endpoint(self):
        return _names.endpoint_text(self.address, self.port)

    def __repr__(self):
        return 'Server(%s %s)' % (self.name, self.endpoint())


class Check(object):
    """The health check HAProxy runs against every server: an HTTP GET of ``path`` (over TLS unless tls=false)."""

    def __init__(self, params):
        params = dict((k, v['default']) for k, v in CHECK_OPTIONS.items() if 'default' in v) if params is None else params
        self.path = params['path']
        _names.check_text(self.path, 'check.path')
        if not _PATH.fullmatch(self.path):
            raise LbInputError('check.path: %r must be an absolute URL path such as /v2/ (no spaces, no scheme)'
                               % self.path)
        self.host = None if params.get('host') in (None, '') else _names.host(params['host'], 'check.host')
        self.tls = bool(params['tls'])
        self.ca_file = None if params.get('ca_file') in (None, '') else absolute_path(params['ca_file'], 'check.ca_file')
        if self.ca_file and not self.tls:
            raise LbInputError('check.ca_file: %r is set but check.tls is false; a CA only verifies a TLS check'
                               % self.ca_file)
        statuses = params['expect_status'] or []
        if not statuses:
            raise LbInputError('check.expect_status must list at least one HTTP status code, such as [200, 401]')
        for code in statuses:
            if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
                raise LbInputError('check.expect_status: %r is not an HTTP status code (100..599)' % (code,))
        self.expect_status = sorted(set(statuses))
        self.interval = positive(params['interval'], 'check.interval', 3600000)
        self.timeout = positive(params['timeout'], 'check.timeout', 3600000)
        self.rise = positive(params['rise'], 'check.rise', 100)
        self.fall = positive(params['fall'], 'check.fall', 100)

    def settle_seconds(self):
        """How long a server must be seen UP, without a failed check, to know a check passed meanwhile."""
        return (self.interval + self.timeout) / 1000.0


class CacheSpec(object):
    """The redis blob-descriptor cache on this host: a drop-in included by Debian's redis.conf."""

    def __init__(self, params):
        binds = params['bind'] or []
        if not binds:
            raise LbInputError('cache.bind must list at least one address redis listens on, such as [127.0.0.1]')
        self.bind = []
        for item in binds:
            address = _names.ip_address(item, 'cache.bind')
            if address not in self.bind:
                self.bind.append(address)
        self.port = port(params['port'], 'cache.port')
        password = params.get('password')
        if password in (None, ''):
            self.password = None
        else:
            if not isinstance(password, str) or not _PASSWORD.fullmatch(password):
                # never the value: it is a secret
                raise LbInputError('cache.password: the value is not allowed; use 1..512 printable ASCII characters '
                                   'without spaces, double quotes or backslashes')
            self.password = password
        maxmemory = _names.check_text(str(params['maxmemory']).strip(), 'cache.maxmemory')
        if not _MEMORY.fullmatch(maxmemory):
            raise LbInputError('cache.maxmemory: %r is not a redis memory size such as 256mb, 1gb or 0 (no limit)'
                               % params['maxmemory'])
        self.maxmemory = maxmemory.lower()
        self.config_path = absolute_path(params['config_path'], 'cache.config_path')
        self.redis_config_path = absolute_path(params['redis_config_path'], 'cache.redis_config_path')
        if self.config_path == self.redis_config_path:
            raise LbInputError('cache.config_path: %r is also cache.redis_config_path; the drop-in is a file of its own'
                               % self.config_path)

    @property
    def secrets(self):
        return [self.password] if self.password else []


class LbSpec(object):
    """The desired load balancer, checked at once: a bad value is an LbInputError naming the option, before
    anything on the host is read or written."""

    def __init__(self, params):
        self.state = params['state']
        self.name = identifier(params['name'], 'name')
        self.config_path = absolute_path(params['config_path'], 'config_path')
        self.stats_socket = absolute_path(params['stats_socket'], 'stats_socket')
        self.check = Check(params.get('check'))
        self.wait_timeout = positive(params['wait_timeout'], 'wait_timeout', 86400)
        self.wait_for = [identifier(n, 'wait_for') for n in params.get('wait_for') or []]
        self.install_packages = bool(params.get('install_packages', True))
        self.servers = []
        self.cache = None
        if self.state == 'healthy':
            if not self.wait_for:
                raise LbInputError('wait_for must name at least one server when state=healthy')
            return
        self.port = port(params['port'], 'port')
        self.bind_address = bind_address(params['bind_address'], 'bind_address')
        self.balance = params['balance']
        self.maxconn = positive(params['maxconn'], 'maxconn', 1000000)
        timeouts = params.get('timeouts') or dict((k, v['default']) for k, v in TIMEOUT_OPTIONS.items())
        self.timeouts = dict((k, positive(timeouts[k], 'timeouts.%s' % k, 86400000)) for k in ('connect', 'client', 'server'))
        if not params['servers']:
            raise LbInputError('servers must list at least one registry replica ({name, address, port})')
        for index, item in enumerate(params['servers']):
            where = 'servers[%d]' % index
            name = identifier(item['name'], where + '.name')
            if any(s.name == name for s in self.servers):
                raise LbInputError('%s.name: %r is given twice; every server needs a name of its own' % (where, name))
            self.servers.append(Server(name, _names.host(item['address'], where + '.address'), port(item['port'], where + '.port')))
        unknown = [n for n in self.wait_for if n not in [s.name for s in self.servers]]
        if unknown:
            raise LbInputError('wait_for: %s not in servers (%s)' % (', '.join(unknown), ', '.join(s.name for s in self.servers)))
        if params.get('cache') is not None:
            self.cache = CacheSpec(params['cache'])
            if self.cache.port == self.port:
                raise LbInputError('cache.port: %d is also the load balancer port' % self.cache.port)

    @property
    def secrets(self):
        return self.cache.secrets if self.cache else []
