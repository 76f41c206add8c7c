# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One ``address hostname`` line in a hosts file; every other line kept byte for byte.

Pure text functions; reading and writing (in place for a bind-mounted /etc/hosts) go through
_files.py.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.berth.registry.plugins.module_utils._names import dns_name, ip_address


def validate_entry(hostname, address):
    """(hostname, address) normalized: a DNS name (lower case) and a plain IP address (no zone).

    Raises BerthError naming ``hosts_entry.hostname`` / ``hosts_entry.address``.
    """
    return dns_name(hostname, 'hosts_entry.hostname'), ip_address(address, 'hosts_entry.address')


def _split(line):
    """(address, names, comment) of a hosts line without its line ending; address None for blank/comment lines."""
    body, sep, comment = line.partition('#')
    fields = body.split()
    if not fields:
        return None, [], sep + comment
    return fields[0], fields[1:], sep + comment


def _same_address(a, b):
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def _eol(text):
    match = re.search(r'\r?\n', text)
    return match.group(0) if match else '\n'


def find_lines(text, hostname):
    """The lines (without endings) that name hostname; host names compare case-insensitively."""
    name = hostname.lower()
    return [line for line in text.splitlines() if name in [n.lower() for n in _split(line)[1]]]


def plan_hosts(text, hostname, address):
    """New hosts text with exactly one line mapping hostname -> address.

    The first line naming hostname (in any letter case) is kept if it has the address, else
    rewritten in place (another name on it keeps its old address on a line of its own); later lines
    lose the name (and vanish when no name is left). Without any, ``address hostname`` is appended.
    Lines that need no change keep their bytes, line endings (CRLF stays CRLF) and a missing final
    newline. Returns (new_text, first line naming hostname or None, the line after).
    """
    name = hostname.lower()
    eol = _eol(text)
    wanted = '%s %s' % (address, hostname)
    out = []
    before = None
    placed = None
    for raw in re.findall(r'[^\n]*\n|[^\n]+$', text):
        body = raw.rstrip('\r\n')
        ending = raw[len(body):] or eol
        addr, names, comment = _split(body)
        if name not in [n.lower() for n in names]:
            out.append(raw)
            continue
        if before is None:
            before = body.strip()
        if placed is None and _same_address(addr, address):
            placed = body
            out.append(raw)
            continue
        others = [n for n in names if n.lower() != name]
        rest = ' '.join([addr] + others) + (' ' + comment if comment else '') + ending if others else None
        if placed is None:
            placed = wanted
            out.extend(([rest] if rest else []) + [wanted + ending])
        elif rest:
            out.append(rest)
    if placed is None:
        placed = wanted
        if out and not out[-1].endswith('\n'):
            out[-1] += eol
        out.append(wanted + eol)
    return ''.join(out), before, placed.strip()


def remove_host(text, hostname):
    """hosts text without hostname: a line naming only it goes, a line naming others too loses just the name.
    Every other line keeps its bytes. Returns (new_text, the lines that named it joined, or None)."""
    name = hostname.lower()
    out, found = [], []
    for raw in re.findall(r'[^\n]*\n|[^\n]+$', text):
        body = raw.rstrip('\r\n')
        addr, names, comment = _split(body)
        if name not in [n.lower() for n in names]:
            out.append(raw)
            continue
        found.append(body.strip())
        others = [n for n in names if n.lower() != name]
        if others:
            out.append(' '.join([addr] + others) + (' ' + comment if comment else '') + raw[len(body):])
    return ''.join(out), '\n'.join(found) or None
