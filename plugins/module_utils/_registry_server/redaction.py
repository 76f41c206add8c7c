# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which config.yml values are secret, and the config without them. Pure (no YAML library: the registry
host runs this too).

A key is secret when its name says so (``secretkey``, ``accesskey``, ``password``, ``sessiontoken``,
``accountkey``, ``credentials``, ``http.secret``, an ``Authorization`` header, ...): its whole value
(a scalar or a subtree) is masked. ``masked()`` works on the structure (the controller's rendering for
diffs); ``redact_text()`` on the lines of a YAML file (what is on the host now, which may not be ours);
for what this collection renders both give the same text.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import re

MASK = '(secret)'
SECRET_KEY = re.compile(r'secret|(?<!ht)passw|token|credential|accesskey|accountkey|privatekey|authorization|apikey', re.I)
# a mapping line: indent, optional "- " list markers, a plain or quoted key, ':' then the value (or nothing)
_LINE = re.compile(r'''^(?P<lead>\s*(?:-\s+)*)(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-?:][^:#]*?)\s*:(?:\s+(?P<value>.*))?$''')


def is_secret_key(key):
    return bool(SECRET_KEY.search(str(key)))


def masked(value):
    """A copy of a config structure with every secret key's value replaced by MASK."""
    if isinstance(value, dict):
        return dict((k, MASK if is_secret_key(k) and v not in (None, '', {}, []) else masked(v)) for k, v in value.items())
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def secret_values(value):
    """Every non-empty scalar under a secret key, as text (to keep out of any output)."""
    found = []

    def walk(node, secret):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, secret or is_secret_key(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, secret)
        elif secret and node not in (None, '') and not isinstance(node, bool):
            found.append(str(node))
    walk(value, False)
    return found


def _indent(line):
    return len(line) - len(line.lstrip(' '))


def redact_text(text):
    """The lines of a YAML document with secret keys' values replaced by MASK (a secret subtree collapses
    into one ``key: (secret)`` line). Made for block-style YAML such as config.yml; comments are kept."""
    out, skip_deeper_than = [], None
    for line in text.splitlines():
        if skip_deeper_than is not None:
            stripped = line.strip()
            indent = _indent(line)
            if not stripped or indent > skip_deeper_than or (indent == skip_deeper_than and stripped.startswith('- ')):
                continue
            skip_deeper_than = None
        match = _LINE.match(line)
        if match and is_secret_key(match.group('key').strip('\'"')):
            value = (match.group('value') or '').strip()
            head = line[:match.end('key')] + ':'
            if value in ('', '|', '>', '|-', '>-', '|+', '>+') or value.startswith(('&', '!')) and ' ' not in value:
                # a subtree or block scalar follows: mask it all
                skip_deeper_than = len(match.group('lead'))
                out.append(head + ' ' + MASK)
                continue
            if value not in ('null', '~', "''", '""'):
                out.append(head + ' ' + MASK)
                continue
        out.append(line)
    return '\n'.join(out) + ('\n' if text.endswith('\n') else '')
