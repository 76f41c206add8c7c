# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the registry host's files live, on the host and as the container sees them, and their modes. Pure.

The configuration directory is mounted read-only at /etc/docker/registry:

    <config_dir>/            0755
      config.yml             0600  (holds http.secret and storage keys)   read at start
      ssl/                   0700
        registry.key         0600  written before the certificate         read at start
        registry.crt         0644  the server certificate (or full chain) read at start
        ca.crt               0644  the CA clients trust (for client CAs / checks)
      auth/                  0750
        htpasswd             0640  re-read by Distribution when it changes: no restart
      <extra files>                e.g. a front end's configuration (issue 14)

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os
import posixpath

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

CONTAINER_CONFIG_DIR = '/etc/docker/registry'
CONTAINER_DATA_DIR = '/var/lib/registry'
DEFAULT_CONFIG_DIR = '/etc/docker/registry'


class Layout(object):
    """The files under one configuration directory. Paths are host paths; ``in_container`` maps them."""

    DIRECTORIES = (('', 0o755), ('ssl', 0o700), ('auth', 0o750))
    FILES = {
        'config': ('config.yml', 0o600),
        'tls_key': ('ssl/registry.key', 0o600),
        'tls_cert': ('ssl/registry.crt', 0o644),
        'ca_cert': ('ssl/ca.crt', 0o644),
        'htpasswd': ('auth/htpasswd', 0o640),
    }

    def __init__(self, config_dir=DEFAULT_CONFIG_DIR):
        if not config_dir or not os.path.isabs(config_dir):
            raise BerthError('config_dir: %r must be an absolute path' % (config_dir,))
        self.config_dir = os.path.normpath(config_dir)

    def path(self, which):
        return os.path.join(self.config_dir, self.FILES[which][0])

    def mode(self, which):
        return self.FILES[which][1]

    def directories(self):
        """[(host path, mode)] in creation order."""
        return [(os.path.join(self.config_dir, name) if name else self.config_dir, mode) for name, mode in self.DIRECTORIES]

    def in_container(self, which):
        """The path the registry sees inside its container (the configuration directory is mounted there)."""
        return posixpath.join(CONTAINER_CONFIG_DIR, self.FILES[which][0])

    def restart_files(self, tls):
        """The files Distribution reads only at start: a change to one of them needs a new container."""
        return [self.path('config')] + ([self.path('tls_cert'), self.path('tls_key')] if tls else [])

    def extra_path(self, relative, option='extra_files'):
        """The host path of an extra file given relative to the configuration directory (never outside it)."""
        if not isinstance(relative, str) or not relative or os.path.isabs(relative):
            raise BerthError('%s: path %r must be relative to config_dir %s' % (option, relative, self.config_dir))
        parts = relative.split('/')
        if any(part in ('', '.', '..') for part in parts) or any(c in relative for c in '\0\n\r'):
            raise BerthError('%s: path %r must name a file inside config_dir (no "..", ".", empty parts or control '
                             'characters)' % (option, relative))
        reserved = set(p for p, dummy in self.FILES.values()) | set(n for n, dummy in self.DIRECTORIES if n)
        if relative in reserved:
            raise BerthError('%s: %s is managed by this module itself; choose another name' % (option, relative))
        return os.path.join(self.config_dir, *parts)
