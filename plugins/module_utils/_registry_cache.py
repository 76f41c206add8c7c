# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pull-through cache mode: the ``proxy`` section of config.yml from the user's input, and what each client
runtime can do with a cache. Pure: no files, no Ansible.

Distribution (2.8 and 3.0) becomes a cache of one upstream registry with ``proxy.remoteurl`` (optionally
``username``/``password`` for the upstream; 3.0 also reads ``ttl``, how long a cached manifest is trusted). A cache
accepts no pushes. It reaches the upstream with Go's TLS: for an upstream with a private CA, that CA goes into a
directory named by ``SSL_CERT_DIR`` in the container, read in addition to the image's own CA bundle.

Clients use a cache as a mirror: dockerd only for Docker Hub (``registry-mirrors``; any other upstream is pulled
from the cache by its own name); containerd (hosts.toml of the upstream's name with the cache as a pull/resolve
host) and containers/image (a ``[[registry.mirror]]`` of the upstream's ``[[registry]]``) for any upstream.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._names import check_text, endpoint_text, registry_endpoint

UPSTREAM_CA_DIR = 'upstream-ca'  # under the registry's config directory, mounted read-only in the container
DOCKER_HUB = ('docker.io', 'registry-1.docker.io', 'index.docker.io')
_DURATION = re.compile(r'^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$')
_KEYS = ('remoteurl', 'username', 'password', 'ttl')


class CacheError(BerthError):
    """The cache settings cannot make a working pull-through cache."""


def parse_remoteurl(value, option='registry_proxy.remoteurl'):
    """(scheme, host, port or None, normalized URL) of the upstream; refuses user:password in the URL and paths."""
    text = check_text(value if isinstance(value, str) else str(value), option).strip()
    match = re.match(r'^(https?)://([^/@\s]+)/?$', text)
    if not match:
        if re.match(r'^https?://[^/]*@', text):
            raise CacheError('%s: give the upstream credentials in username and password, not in the URL (the value is '
                             'not shown)' % option)
        raise CacheError('%s: %r must be http(s)://host[:port] of the upstream registry (no path)' % (option, text))
    host, port = registry_endpoint(match.group(2), option)
    return match.group(1), host, port, '%s://%s' % (match.group(1), endpoint_text(host, port))


def image_major(image):
    """The Distribution major version a registry image tag says (``registry:3`` -> 3, ``registry:2.8.3`` -> 2), or None."""
    tag = (image or '').rsplit('/', 1)[-1].partition('@')[0]
    name, sep, version = tag.partition(':')
    match = re.match(r'^v?([0-9]+)(\.|$|-)', version) if sep else None
    return int(match.group(1)) if match else None


def proxy_section(cache, image=None):
    """({'remoteurl', 'username', 'password', 'ttl'} subset for config.yml, warnings). ``cache`` is the user's
    ``registry_proxy`` mapping (None or {} = no cache)."""
    if not cache:
        return None, []
    if not isinstance(cache, dict):
        raise CacheError('registry_proxy must be a mapping with remoteurl (and optionally username, password, ttl)')
    unknown = sorted(set(cache) - set(_KEYS))
    if unknown:
        raise CacheError('registry_proxy: unknown key(s) %s (allowed: %s)' % (', '.join(unknown), ', '.join(_KEYS)))
    if not cache.get('remoteurl'):
        raise CacheError('registry_proxy.remoteurl is required: the upstream registry this one caches')
    warnings = []
    section = {'remoteurl': parse_remoteurl(cache['remoteurl'])[3]}
    username, password = cache.get('username'), cache.get('password')
    if bool(username) != bool(password):
        raise CacheError('registry_proxy: give both username and password for the upstream, or neither')
    if username:
        section['username'] = check_text(str(username), 'registry_proxy.username')
        if not isinstance(password, str) or '\n' in password or '\x00' in password:
            raise CacheError('registry_proxy.password must be one line of text (the value is not shown)')
        section['password'] = password
    ttl = cache.get('ttl')
    if ttl not in (None, ''):
        ttl = str(ttl).strip()
        if not _DURATION.match(ttl):
            raise CacheError('registry_proxy.ttl: %r is not a duration such as 168h or 30m' % ttl)
        if image_major(image) == 2:
            warnings.append('registry_proxy.ttl is read by Distribution 3.0 only; %s (2.x) ignores it and keeps '
                            'cached manifests for 7 days' % image)
        section['ttl'] = ttl
    return section, warnings


def mirror_support(upstream):
    """{runtime: (supported, how)} for a cache of ``upstream`` (host[:port] as clients type it)."""
    host = registry_endpoint(upstream, 'upstream')[0]
    hub = host in DOCKER_HUB
    docker = (True, 'registry-mirrors in daemon.json (Docker Hub only)') if hub else (
        False, 'dockerd mirrors Docker Hub only: pull from the cache by its own name instead')
    return {
        'docker': docker,
        'containerd': (True, 'hosts.toml of %s with the cache as a pull/resolve host' % upstream),
        'containers': (True, '[[registry.mirror]] of %s in registries.conf.d' % upstream),
    }
