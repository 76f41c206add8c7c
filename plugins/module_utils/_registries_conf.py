# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drop-ins of our own in containers-registries.conf.d(5) for Podman, Buildah, Skopeo and CRI-O. Pure functions.

containers/image reads ``registries.conf`` and then every ``registries.conf.d/*.conf`` in
alphanumeric order (v2 format only); an entry for the same prefix in a later file replaces the
earlier one. This module owns two kinds of files there, each starting with MARKER:
``50-berth-registry-<host_port>.conf`` (plain HTTP: ``insecure = true`` for the registry, and its
pull-through caches as mirrors; removed when it needs neither) and ``50-berth-mirrors.conf`` (Docker Hub mirrors; removed when there are none).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import re

from ansible_collections.berth.registry.plugins.module_utils._toml import string

MARKER = '# Managed by berth.registry (registry_client)'
MIRRORS_DROPIN = '50-berth-mirrors.conf'


def registry_dropin_name(endpoint):
    """The registry's drop-in file name: host:port with every character but letters, digits, '.' and '-' as '_'."""
    return '50-berth-registry-%s.conf' % re.sub(r'[^A-Za-z0-9.-]', '_', endpoint)


def insecure_dropin(endpoint):
    """``insecure = true`` for the registry: containers/image then speaks plain HTTP to it (and skips TLS checks)."""
    return registry_dropin(endpoint, True)


def registry_dropin(endpoint, insecure=False, caches=()):
    """The registry's own drop-in, or None when it needs none: ``insecure = true`` for plain HTTP, and each
    pull-through cache of it (host[:port]) as a ``[[registry.mirror]]`` tried in order before it (pulls only)."""
    if not insecure and not caches:
        return None
    why = []
    if insecure:
        why.append('%s serves plain HTTP' % endpoint)
    if caches:
        why.append('pulls go through %s first' % ', '.join(caches))
    lines = ['%s: %s. Removed when neither holds.' % (MARKER, '; '.join(why)),
             '[[registry]]',
             'location = %s' % string(endpoint)]
    if insecure:
        lines.append('insecure = true')
    for cache in caches:
        lines.extend(['', '[[registry.mirror]]', 'location = %s' % string(cache)])
    return '\n'.join(lines) + '\n'


def mirror_location(url):
    """(location, insecure) of a mirror URL: host[:port] without the scheme; http:// is insecure."""
    insecure = url.startswith('http://')
    return re.sub(r'^https?://', '', url).rstrip('/'), insecure


def mirrors_dropin(mirrors):
    """Docker Hub's entry with each mirror tried in order before docker.io itself (pulls only)."""
    lines = ['%s: Docker Hub mirrors, tried in order before docker.io. Rewritten on every run.' % MARKER,
             '[[registry]]', 'prefix = "docker.io"', 'location = "docker.io"']
    for url in mirrors:
        location, insecure = mirror_location(url)
        lines.extend(['', '[[registry.mirror]]', 'location = %s' % string(location)])
        if insecure:
            lines.append('insecure = true')
    return '\n'.join(lines) + '\n'
