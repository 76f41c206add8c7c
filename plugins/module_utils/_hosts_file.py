# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One ``address hostname`` line in a hosts file, other lines untouched."""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import stat

from ansible_collections.berth.registry.plugins.module_utils._atomic_file import write_atomic

_HOSTNAME = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$')


class HostsFileError(Exception):
    pass


def validate_entry(hostname, address):
    if not hostname or not _HOSTNAME.match(hostname):
        raise HostsFileError('hosts_entry.hostname %r is not a valid host name' % hostname)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise HostsFileError('hosts_entry.address %r is not an IPv4 or IPv6 address' % address)


def _split(line):
    """(address, names, comment) of a hosts line; address None for blank/comment lines."""
    body, sep, comment = line.partition('#')
    fields = body.split()
    if not fields:
        return None, [], sep + comment
    return fields[0], fields[1:], sep + comment


def find_lines(text, hostname):
    return [line for line in text.splitlines() if hostname in _split(line)[1]]


def plan_hosts(text, hostname, address):
    """New hosts text with exactly one line mapping hostname -> address.

    The first line naming hostname is kept if it has the address, else rewritten in place
    (another name on it keeps its old address on a line of its own); later lines lose the
    name (and vanish when no name is left). Without any, ``address hostname`` is appended.
    Returns (new_text, line_before or None, line_after).
    """
    wanted = '%s %s' % (address, hostname)
    out = []
    before = None
    placed = None
    for line in text.splitlines():
        addr, names, comment = _split(line)
        if hostname not in names:
            out.append(line)
            continue
        if before is None:
            before = line.strip()
        if placed is None and addr == address:
            placed = line
            out.append(line)
            continue
        others = [n for n in names if n != hostname]
        if placed is None:
            placed = wanted
            if others:
                out.append(' '.join([addr] + others) + (' ' + comment if comment else ''))
            out.append(wanted)
        elif others:
            out.append(' '.join([addr] + others) + (' ' + comment if comment else ''))
    if placed is None:
        placed = wanted
        out.append(wanted)
    new = '\n'.join(out) + '\n'
    return new, before, placed.strip()


def _is_mount_point(path):
    real = os.path.realpath(path)
    try:
        with open('/proc/self/mountinfo') as f:
            return any(line.split()[4] == real for line in f if len(line.split()) > 4)
    except OSError:
        return False


def write_hosts(path, data):
    """Write the hosts file, keeping its mode (0644 when new).

    In a container /etc/hosts is a bind mount: renaming a temp file over it fails with
    EBUSY, and replacing the inode would detach it from the runtime's copy anyway. Such a
    file is rewritten in place (truncate + write + fsync); any other file atomically.
    """
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o644
    if not _is_mount_point(path):
        try:
            write_atomic(path, data, mode)
            return 'atomic'
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
    with open(path, 'r+b') as f:
        f.seek(0)
        f.write(data)
        f.truncate()
        f.flush()
        os.fsync(f.fileno())
    return 'in-place'
