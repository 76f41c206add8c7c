# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The redis blob-descriptor cache's settings: a drop-in file that Debian's redis.conf includes last, so
its directives win over the package's. Pure: no I/O.

The registry replicas ask redis which blobs exist and how big they are instead of asking the object
store each time; a cache that is gone or empty costs only those store round trips (Distribution falls
back to the store), so it is a cache in the strict sense: no persistence, least-recently-used eviction.
"""

from __future__ import annotations

HEADER = '# Managed by berth.registry (registry_lb): the registry replicas\' blob-descriptor cache.\n'
# directive -> how its value shows in differences (the password never does)
SHOWN = ('bind', 'port', 'protected-mode', 'maxmemory', 'maxmemory-policy', 'save', 'appendonly')
SECRET = 'requirepass'


def directives(cache):
    """The drop-in's directives in order: [(name, value text)]."""
    items = [('bind', ' '.join(cache.bind)), ('port', str(cache.port)),
             # without a password redis refuses every non-loopback client unless protected mode is off
             ('protected-mode', 'yes' if cache.password else 'no')]
    if cache.password:
        items.append((SECRET, '"%s"' % cache.password))
    items += [('maxmemory', cache.maxmemory), ('maxmemory-policy', 'allkeys-lru'), ('save', '""'),
              ('appendonly', 'no')]
    return items


def render(cache):
    return HEADER + ''.join('%s %s\n' % item for item in directives(cache))


def parse(text):
    """{directive: value text} of a drop-in (comments and blank lines skipped; the last occurrence wins)."""
    found = {}
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        name, dummy, value = line.partition(' ')
        found[name.lower()] = value.strip()
    return found


def include_line(path):
    return 'include %s' % path


def has_include(main_text, path):
    """Whether redis.conf includes path (an active, uncommented ``include`` line)."""
    wanted = include_line(path)
    return any(line.strip() == wanted for line in (main_text or '').splitlines())


def with_include(main_text, path):
    """redis.conf with the include line appended at the end (where it overrides the package's directives)."""
    text = main_text or ''
    if text and not text.endswith('\n'):
        text += '\n'
    return text + '# berth.registry: the registry cache settings, last so that they win\n' + include_line(path) + '\n'
