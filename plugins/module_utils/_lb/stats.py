# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What HAProxy thinks of its servers: ``show stat`` over the admin socket, parsed, and waiting until
servers are UP.

``status`` is HAProxy's own word: ``UP``, ``DOWN``, ``MAINT``, ``DRAIN``, ``no check``, or a transition
such as ``UP 1/2`` (up, one failed check: going down) and ``DOWN 1/2`` (down, one good check: coming
up). Only a plain ``UP`` counts as healthy.

A server HAProxy never saw go down (a replica swapped between two checks) still shows ``UP`` from before:
so the wait asks for UP seen without a break for one check interval plus the check timeout, a window in
which at least one check ran and passed (a failed one would show as ``UP 1/2`` or ``DOWN``).
"""

from __future__ import annotations

import csv
import io
import socket
import time

from ansible_collections.berth.registry.plugins.module_utils._lb.errors import NotHealthy, ServiceError

MAX_REPLY = 4 * 1024 * 1024
SUMMARY_FIELDS = ('status', 'check_status', 'check_code', 'lastchg', 'addr', 'scur')


def parse_show_stat(text):
    """Rows of ``show stat`` as dicts keyed by the header's column names (``# pxname,svname,...``)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith('# '):
        raise ValueError('not the output of show stat (no "# pxname,..." header): %r' % text[:200])
    header = next(csv.reader([lines[0][2:]]))
    rows = []
    for values in csv.reader(io.StringIO('\n'.join(lines[1:]))):
        rows.append(dict(zip(header, values)))
    return rows


def servers_of(rows, proxy):
    """{server name: summary dict} of one proxy (listen/backend section), without FRONTEND/BACKEND rows."""
    found = {}
    for row in rows:
        if row.get('pxname') == proxy and row.get('svname') not in ('FRONTEND', 'BACKEND'):
            found[row['svname']] = dict((k, row.get(k, '')) for k in SUMMARY_FIELDS)
    return found


def is_up(summary):
    return bool(summary) and summary.get('status') == 'UP'


def query(path, command, timeout=5.0):
    """Send one command to HAProxy's stats/admin socket and return its whole reply (text)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        sock.sendall(command.encode('ascii') + b'\n')
        chunks, size = [], 0
        while size <= MAX_REPLY:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        sock.close()
    return b''.join(chunks).decode('utf-8', 'replace')


def read_servers(path, proxy, timeout=5.0):
    """{server: summary} of proxy from the socket at path. Raises ServiceError when the socket does not answer."""
    try:
        text = query(path, 'show stat', timeout)
    except (OSError, socket.timeout) as exc:
        raise ServiceError('HAProxy stats socket %s does not answer: %s' % (path, exc))
    try:
        return servers_of(parse_show_stat(text), proxy)
    except ValueError as exc:
        raise ServiceError('HAProxy stats socket %s: %s' % (path, exc))


def describe(servers, names):
    return ', '.join('%s: %s' % (n, _shown(servers.get(n))) for n in names)


def _shown(summary):
    if not summary:
        return 'not in HAProxy'
    text = summary.get('status') or '?'
    if summary.get('check_status'):
        text += ' (check %s%s)' % (summary['check_status'], ' ' + summary['check_code'] if summary.get('check_code') else '')
    return text


def wait_until_up(read, names, timeout, settle, clock=time.monotonic, sleep=time.sleep, interval=0.25):
    """Poll ``read()`` ({server: summary}) until every server in names has been UP without a break for
    ``settle`` seconds. Returns the last reading; raises NotHealthy after ``timeout`` seconds, naming each
    server's last status. A socket that does not answer (a reload under way) counts as not up yet."""
    start = clock()
    up_since = {}
    servers, problem = {}, None
    while True:
        now = clock()
        try:
            servers, problem = read(), None
        except ServiceError as exc:
            servers, problem = {}, str(exc)
        for name in names:
            if is_up(servers.get(name)):
                up_since.setdefault(name, now)
            else:
                up_since.pop(name, None)
        if all(name in up_since and now - up_since[name] >= settle for name in names):
            return servers
        if now - start >= timeout:
            raise NotHealthy('not UP in HAProxy after %ds: %s' % (timeout, problem or describe(servers, [
                n for n in names if not (n in up_since and now - up_since[n] >= settle)])),
                servers=servers)
        sleep(interval)
