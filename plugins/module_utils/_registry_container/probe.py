# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The readiness probe: after a (re)start, wait until the registry answers ``GET /`` with 200 and
``GET /v2/`` with 200 or 401. Settings are normalized here (pure); waiting uses urllib, no proxy.
"""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.request

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._names import host as host_name
from ansible_collections.berth.registry.plugins.module_utils._registry_container import validators
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ContainerInputError

DEFAULTS = {'enabled': True, 'scheme': 'https', 'port': None, 'host': None, 'timeout': 60, 'ca_path': None}
WILDCARD_ADDRESSES = ('', '0.0.0.0', '::')
SCHEMES = ('http', 'https')


def settings(probe, ports):
    """Probe settings with defaults filled: port from the first published port, host from its address.

    ``ports`` is the normalized ports list. Pure: whether ca_path exists is checked with the host's files.
    """
    if probe is not None and not isinstance(probe, dict):
        raise ContainerInputError('probe: must be a mapping (enabled, scheme, port, host, timeout, ca_path)')
    probe = dict(DEFAULTS, **dict((k, v) for k, v in (probe or {}).items() if v is not None))
    unknown = sorted(set(probe) - set(DEFAULTS))
    if unknown:
        raise ContainerInputError('probe: unknown setting(s) %s (allowed: %s)' % (', '.join(unknown), ', '.join(DEFAULTS)))
    if not probe['enabled']:
        return probe
    if probe['scheme'] not in SCHEMES:
        raise ContainerInputError('probe.scheme: %r is not allowed (allowed: http, https)' % (probe['scheme'],))
    if probe['port'] is None:
        if not ports:
            raise ContainerInputError('probe.port is needed when no port is published (ports is empty)')
        probe['port'] = ports[0]['host_port']
    validators.port(probe['port'], 'probe.port')
    validators.seconds(probe['timeout'], 'probe.timeout')
    if probe['host'] is None:
        first = ports[0]['bind_address'] if ports else ''
        probe['host'] = '127.0.0.1' if first in WILDCARD_ADDRESSES else first
    else:
        try:
            probe['host'] = host_name(probe['host'], 'probe.host')
        except BerthError as exc:
            raise ContainerInputError(str(exc))
    if probe['ca_path'] is not None:
        probe['ca_path'] = validators.absolute_path(probe['ca_path'], 'probe.ca_path')
    return probe


def url(probe):
    host = probe['host']
    if ':' in host:
        host = '[%s]' % host
    return '%s://%s:%d' % (probe['scheme'], host, probe['port'])


def ssl_context(probe):
    """None for http; for https a context that checks the chain against ca_path, or checks nothing.

    A ca_path that is not a PEM CA bundle is a ContainerInputError: build this before touching anything.
    """
    if probe['scheme'] != 'https':
        return None
    if probe['ca_path']:
        try:
            context = ssl.create_default_context(cafile=probe['ca_path'])
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ContainerInputError('probe.ca_path: %s cannot be used as a CA bundle: %s' % (probe['ca_path'], exc))
        context.check_hostname = False  # the probe dials an address; names are the role's business
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def opener(probe):
    """The urllib opener the probe uses: no proxy, the probe's TLS settings."""
    handlers = [urllib.request.ProxyHandler({})]
    context = ssl_context(probe)
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


def probe_once(opener, base_url, timeout):
    """None when GET / answers 200 and GET /v2/ answers 200 or 401; else what went wrong."""
    for path, accepted in (('/', (200,)), ('/v2/', (200, 401))):
        try:
            with opener.open(base_url + path, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except Exception as exc:  # connection refused, TLS handshake, timeout, ...
            return '%s%s: %s' % (base_url, path, getattr(exc, 'reason', exc))
        if status not in accepted:
            return '%s%s answered HTTP %d' % (base_url, path, status)
    return None


def wait_until_answering(probe, has_crashed, url_opener=None, clock=time.monotonic, sleep=time.sleep):
    """Poll until the registry answers; return None, or the last problem after the timeout or a crash.

    ``has_crashed()`` returns None or why the container is gone (checked after each failed try).
    """
    base_url = url(probe)
    url_opener = url_opener or opener(probe)
    deadline = clock() + probe['timeout']
    while True:
        remaining = deadline - clock()
        problem = probe_once(url_opener, base_url, max(1.0, min(5.0, remaining)))
        if problem is None:
            return None
        crash = has_crashed()
        if crash:
            return '%s; %s' % (crash, problem)
        if clock() >= deadline:
            return 'no answer within %d s: %s' % (probe['timeout'], problem)
        sleep(0.25)
