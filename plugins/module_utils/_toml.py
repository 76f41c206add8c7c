# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TOML on client hosts without a TOML writer: read with the standard library's parser, edit as text.

Reading: ``tomllib`` (Python 3.11+), else the ``tomli`` package it came from (same API; Debian and
Ubuntu ship it as python3-tomli), else a TomlError that names both - never a guess. Writing: the
callers render whole files of their own (``string()`` quotes values) or edit existing text line by
line with the helpers below, then parse the result again to prove that nothing but the intended key
changed (every other setting, comment and blank line stays as it was).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import json
import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

try:
    import tomllib as _parser
except ImportError:  # Python < 3.11
    try:
        import tomli as _parser
    except ImportError:
        _parser = None

PARSER_MISSING = ('reading TOML needs Python 3.11 or later (tomllib) or the tomli package '
                  '(Debian/Ubuntu: apt install python3-tomli; elsewhere: pip install tomli)')


class TomlError(BerthError):
    """A TOML file that cannot be read, or an edit that cannot be made safely."""


def have_parser():
    return _parser is not None


def loads(text, path):
    """The parsed document (dict); TomlError naming the file when it is not TOML or no parser exists."""
    if _parser is None:
        raise TomlError('%s: cannot be read on this host: %s' % (path, PARSER_MISSING))
    try:
        return _parser.loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise TomlError('%s is not valid TOML: %s; the file was left as it was' % (path, exc))


def string(value):
    """A TOML basic string for value (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def key_text(parts):
    """Dotted key text for key parts, quoting the parts that are not bare keys."""
    return '.'.join(p if re.match(r'^[A-Za-z0-9_-]+$', p) else string(p) for p in parts)


# --- reading lines of a document ------------------------------------------------------------------

_BARE = re.compile(r'[A-Za-z0-9_-]+')
_ESCAPES = {'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', '"': '"', '\\': '\\'}


def _basic_string(text, i):
    """(value, index after the closing quote) of a one-line basic string starting at text[i] == '"'."""
    out = []
    i += 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return ''.join(out), i + 1
        if c == '\\':
            nxt = text[i + 1:i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            size = {'u': 4, 'U': 8}.get(nxt)
            digits = text[i + 2:i + 2 + size] if size else ''
            if not size or len(digits) != size or not re.match(r'^[0-9A-Fa-f]+$', digits):
                return None, i
            out.append(chr(int(digits, 16)))
            i += 2 + size
            continue
        out.append(c)
        i += 1
    return None, i


def read_string(text, i):
    """(value, end) of a one-line basic or literal string at text[i]; (None, i) when there is none."""
    if text.startswith('"""', i) or text.startswith("'''", i):
        return None, i
    if text[i:i + 1] == '"':
        return _basic_string(text, i)
    if text[i:i + 1] == "'":
        end = text.find("'", i + 1)
        return (None, i) if end < 0 else (text[i + 1:end], end + 1)
    return None, i


def read_key(text, i=0):
    """(key parts, index after the key) of a dotted key at text[i:], skipping whitespace; (None, i) if none."""
    parts = []
    while True:
        while text[i:i + 1] in (' ', '\t'):
            i += 1
        if text[i:i + 1] in ('"', "'"):
            part, i = read_string(text, i)
            if part is None:
                return None, i
        else:
            match = _BARE.match(text, i)
            if not match:
                return None, i
            part, i = match.group(0), match.end()
        parts.append(part)
        j = i
        while text[j:j + 1] in (' ', '\t'):
            j += 1
        if text[j:j + 1] != '.':
            return parts, i
        i = j + 1


def _rest_is_comment(text):
    stripped = text.strip()
    return not stripped or stripped.startswith('#')


def header(line):
    """('table' | 'array', key parts) when line is a table header, else None."""
    stripped = line.lstrip(' \t')
    if not stripped.startswith('['):
        return None
    kind, start = ('array', 2) if stripped.startswith('[[') else ('table', 1)
    parts, i = read_key(stripped, start)
    if parts is None:
        return None
    while stripped[i:i + 1] in (' ', '\t'):
        i += 1
    close = ']]' if kind == 'array' else ']'
    if not stripped.startswith(close, i) or not _rest_is_comment(stripped[i + len(close):]):
        return None
    return kind, tuple(parts)


def key_line(line):
    """(key parts, index of the value) when line starts a ``key = value`` pair, else None."""
    parts, i = read_key(line)
    if parts is None:
        return None
    while line[i:i + 1] in (' ', '\t'):
        i += 1
    if line[i:i + 1] != '=':
        return None
    i += 1
    while line[i:i + 1] in (' ', '\t'):
        i += 1
    return tuple(parts), i


class Document(object):
    """The lines of a TOML text and where its tables are (a line scanner, not a parser: edits are
    proven by parsing the result)."""

    def __init__(self, text):
        self.text = text
        self.lines = text.splitlines(True)
        self.headers = []  # (line index, kind, parts)
        inside = None  # the delimiter of a multi-line string we are in
        for index, line in enumerate(self.lines):
            if inside is None:
                found = header(line)
                if found:
                    self.headers.append((index, found[0], found[1]))
            for delimiter in ('"""', "'''"):
                if (inside in (None, delimiter)) and line.count(delimiter) % 2 == 1:
                    inside = None if inside else delimiter

    @property
    def eol(self):
        match = re.search(r'\r?\n', self.text)
        return match.group(0) if match else '\n'

    def table(self, parts):
        """(header line index, end line index) of the [parts] table's body, or None."""
        for n, (index, kind, found) in enumerate(self.headers):
            if kind == 'table' and found == tuple(parts):
                end = self.headers[n + 1][0] if n + 1 < len(self.headers) else len(self.lines)
                return index, end
        return None

    def last_under(self, prefix):
        """End line index of the body of the last table at or under prefix, or None."""
        found = None
        prefix = tuple(prefix)
        for n, (index, kind, parts) in enumerate(self.headers):
            if parts[:len(prefix)] == prefix:
                found = self.headers[n + 1][0] if n + 1 < len(self.headers) else len(self.lines)
        return found

    def indent_of(self, index):
        line = self.lines[index]
        return line[:len(line) - len(line.lstrip(' \t'))]
