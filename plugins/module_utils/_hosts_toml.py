# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""containerd's hosts.toml files (docs/hosts.md) for one registry and for Docker Hub mirrors. Pure functions.

containerd looks up ``<config_path>/<host:port>/hosts.toml`` (also ``host_port_``, then ``_default``)
on every pull: the registry's file names its scheme and the CA file to trust; Docker Hub mirrors go
to ``docker.io/hosts.toml`` as pull/resolve hosts tried before the upstream. Every file starts with
MARKER: a file without it is not ours.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._containerd_config import (
    DOCKER_HUB, DOCKER_HUB_SERVER,
)
from ansible_collections.berth.registry.plugins.module_utils._toml import string

MARKER = '# Managed by berth.registry (registry_client)'
HOSTS_FILE = 'hosts.toml'


def is_ours(data):
    """Whether hosts.toml bytes (None: no file) were written by this module."""
    return data is not None and data.startswith(MARKER.encode())


def registry_hosts_toml(endpoint, insecure, ca_path=None, client_pair=None, caches=()):
    """The registry's hosts.toml: plain HTTP or HTTPS trusting the CA file at ca_path (None: the system roots),
    presenting the client certificate ``client_pair`` = (cert path, key path) when given (mutual TLS).

    containerd 1.6 refuses a hosts.toml without a ``[host]`` table ("invalid `host` tree") and then falls
    back to plain https://host, so the registry is a ``[host."<url>"]`` with every capability, and ``server``
    (tried after the hosts) is the same URL with the same CA: the last answer ctr and the CRI report is
    the registry's own, never an HTTPS attempt on a plain-HTTP port.

    caches: [(endpoint, CA file or None)] of pull-through caches of this registry, tried in order before it
    for pulls (``pull``, ``resolve``); a cache that does not answer is skipped.
    """
    url = '%s://%s' % ('http' if insecure else 'https', endpoint)
    ca = ['ca = %s' % string(ca_path)] if ca_path and not insecure else []
    if client_pair and not insecure:
        ca.append('client = [[%s, %s]]' % (string(client_pair[0]), string(client_pair[1])))
    lines = ['%s: how containerd reaches %s. Rewritten on every run.' % (MARKER, endpoint),
             'server = %s' % string(url)] + ca
    for cache, cache_ca in caches:
        lines.extend(['', '[host.%s]' % string('https://%s' % cache), '  capabilities = ["pull", "resolve"]'])
        if cache_ca:
            lines.append('  ca = %s' % string(cache_ca))
    lines.extend([
        '',
        '[host.%s]' % string(url),
        '  capabilities = ["pull", "resolve", "push"]'] + ['  ' + line for line in ca])
    return '\n'.join(lines) + '\n'


def mirror_url(url):
    return url.rstrip('/')


def mirrors_hosts_toml(mirrors, ca_paths=None):
    """docker.io/hosts.toml with each mirror URL as a pull/resolve host before Docker Hub itself.

    ca_paths: {mirror URL: CA file} for mirrors served with our CA (the registry as a pull-through cache).
    """
    ca_paths = ca_paths or {}
    lines = ['%s: Docker Hub mirrors for containerd, tried in order before %s. Rewritten on every run.'
             % (MARKER, DOCKER_HUB), 'server = %s' % string(DOCKER_HUB_SERVER)]
    for url in mirrors:
        lines.extend(['', '[host.%s]' % string(mirror_url(url)), '  capabilities = ["pull", "resolve"]'])
        if ca_paths.get(url):
            lines.append('  ca = %s' % string(ca_paths[url]))
    return '\n'.join(lines) + '\n'
