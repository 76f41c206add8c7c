# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""htpasswd content with bcrypt ``$2y$`` hashes (what ``htpasswd -B`` writes and Distribution accepts). Pure.

Parsing follows Distribution's own reader: blank lines and ``#`` comments are kept untouched; every
other line must be ``name:hash``. A password is compared by ``bcrypt.checkpw``, never by rehashing, so
a rerun changes nothing. Files are read and written by ``_htpasswd_file``.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._names import check_text

try:
    import bcrypt
except ImportError:  # reported by _crypto_deps.require_bcrypt()
    pass

BCRYPT_PREFIXES = ('$2y$', '$2b$', '$2a$')
MAX_PASSWORD_BYTES = 72
MAX_NAME_LENGTH = 255
_BAD_NAME = re.compile(r'[:\s]')


class HtpasswdError(BerthError):
    """Bad input or a malformed file; nothing has been written."""


class Entry(object):
    def __init__(self, name, hash_value):
        self.name = name
        self.hash = hash_value


def parse(text):
    """Lines of an htpasswd file: Entry for user lines, str for blank/comment lines (kept verbatim)."""
    lines, seen = [], {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            lines.append(line)
            continue
        name, sep, hash_value = stripped.partition(':')
        if not sep or not name or not hash_value:
            raise HtpasswdError('line %d is not "name:hash"; the file was left untouched' % number)
        if name in seen:
            raise HtpasswdError('user %r appears twice (lines %d and %d); the file was left untouched'
                                % (name, seen[name], number))
        seen[name] = number
        lines.append(Entry(name, hash_value))
    return lines


def render(lines):
    return ''.join(('%s:%s' % (line.name, line.hash) if isinstance(line, Entry) else line) + '\n'
                   for line in lines)


def check_name(name, option='name'):
    check_text(name, option, max_length=MAX_NAME_LENGTH)
    if _BAD_NAME.search(name) or name.startswith('#'):
        raise HtpasswdError('%s: %r is not allowed: a user name contains no ":" and no whitespace, and does not '
                            'start with "#"' % (option, name))
    return name


def check_password(name, password, option='password'):
    """The password as bytes; the message names the user, never the password."""
    data = password.encode('utf-8')
    if not data:
        raise HtpasswdError('%s of user %r must not be empty' % (option, name))
    if len(data) > MAX_PASSWORD_BYTES:
        raise HtpasswdError('%s of user %r is longer than %d bytes (the bcrypt limit)' % (option, name, MAX_PASSWORD_BYTES))
    if b'\0' in data:
        raise HtpasswdError('%s of user %r contains a NUL byte, which bcrypt cannot hash' % (option, name))
    return data


def check_cost(cost, option='cost'):
    if isinstance(cost, bool) or not isinstance(cost, int) or not 4 <= cost <= 31:
        raise HtpasswdError('%s: %r is out of range; bcrypt allows 4..31' % (option, cost))
    return cost


def password_matches(password, hash_value):
    """bcrypt.checkpw on $2y$/$2b$/$2a$ hashes (prefix normalised for old bcrypt); False for others."""
    if not hash_value.startswith(BCRYPT_PREFIXES):
        return False
    try:
        return bcrypt.checkpw(password, ('$2b$' + hash_value[4:]).encode('ascii'))
    except (ValueError, UnicodeEncodeError):
        return False


def hash_password(password, cost):
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds=cost)).decode('ascii')
    return '$2y$' + hashed[4:]


def decide(lines, users, exclusive):
    """What changes, validating every user first. Returns (added, updated, removed) name lists; no hashing."""
    names = []
    for index, user in enumerate(users):
        names.append(check_name(user.get('name'), 'users[%d].name' % index))
    twice = sorted(set(n for n in names if names.count(n) > 1))
    if twice:
        raise HtpasswdError('users: %s listed more than once' % ', '.join(repr(n) for n in twice))
    current = dict((line.name, line) for line in lines if isinstance(line, Entry))
    added, updated, removed = [], [], []
    for index, user in enumerate(users):
        name = user['name']
        if (user.get('state') or 'present') == 'absent':
            if name in current:
                removed.append(name)
            continue
        password = user.get('password')
        if password is None:
            if name not in current:
                raise HtpasswdError('users[%d].password: user %r does not exist yet: a password is required'
                                    % (index, name))
            continue
        data = check_password(name, password, 'users[%d].password' % index)
        if name not in current:
            added.append(name)
        elif not password_matches(data, current[name].hash):
            updated.append(name)
    if exclusive:
        removed.extend(n for n in current if n not in names)
    return added, updated, removed


def updated_lines(lines, users, added, updated, removed, cost):
    """New line list: updated users rehashed in place, removed dropped, added appended; other lines kept."""
    passwords = dict((u['name'], u.get('password')) for u in users)
    result = []
    for line in lines:
        if isinstance(line, Entry):
            if line.name in removed:
                continue
            if line.name in updated:
                line = Entry(line.name, hash_password(passwords[line.name].encode('utf-8'), cost))
        result.append(line)
    for name in added:
        result.append(Entry(name, hash_password(passwords[name].encode('utf-8'), cost)))
    return result
