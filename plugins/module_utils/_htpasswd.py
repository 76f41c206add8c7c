# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""htpasswd files with bcrypt ``$2y$`` hashes (what ``htpasswd -B`` writes and Distribution accepts).

Parsing follows Distribution's own reader: blank lines and ``#`` comments are kept
untouched; every other line must be ``name:hash``. Private to the collection.
"""

from __future__ import annotations

import os
import re

try:
    import bcrypt
except ImportError:  # reported by _crypto_deps.require_bcrypt()
    pass

BCRYPT_PREFIXES = ('$2y$', '$2b$', '$2a$')
MAX_PASSWORD_BYTES = 72
_BAD_NAME = re.compile(r'[:\s]')


class HtpasswdError(Exception):
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
            raise HtpasswdError('malformed line %d: expected "name:hash"; the file was left untouched' % number)
        if name in seen:
            raise HtpasswdError('user %r appears twice (lines %d and %d); the file was left untouched'
                                % (name, seen[name], number))
        seen[name] = number
        lines.append(Entry(name, hash_value))
    return lines


def render(lines):
    return ''.join(('%s:%s' % (line.name, line.hash) if isinstance(line, Entry) else line) + '\n'
                   for line in lines)


def check_name(name):
    if not name or _BAD_NAME.search(name) or name.startswith('#'):
        raise HtpasswdError('user name %r is not allowed: it must be non-empty, contain no ":" and no '
                            'whitespace or newline, and not start with "#"' % (name,))


def check_password(name, password):
    data = password.encode('utf-8')
    if len(data) > MAX_PASSWORD_BYTES:
        raise HtpasswdError('the password of user %r is longer than %d bytes (bcrypt limit)'
                            % (name, MAX_PASSWORD_BYTES))
    if b'\0' in data:
        raise HtpasswdError('the password of user %r contains a NUL byte' % (name,))
    return data


def check_cost(cost):
    if not 4 <= cost <= 31:
        raise HtpasswdError('cost must be between 4 and 31 (bcrypt), got %r' % (cost,))


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


def plan(lines, users, exclusive):
    """Decide what changes. Returns (added, updated, removed) name lists; no hashing yet."""
    names = [u['name'] for u in users]
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if duplicates:
        raise HtpasswdError('user(s) listed more than once: %s' % ', '.join(duplicates))
    current = dict((line.name, line) for line in lines if isinstance(line, Entry))
    added, updated, removed = [], [], []
    for user in users:
        name = user['name']
        check_name(name)
        state = user.get('state') or 'present'
        if state == 'absent':
            if name in current:
                removed.append(name)
            continue
        password = user.get('password')
        if password is None:
            if name not in current:
                raise HtpasswdError('user %r does not exist yet: a password is required' % name)
            continue
        data = check_password(name, password)
        if name not in current:
            added.append(name)
        elif not password_matches(data, current[name].hash):
            updated.append(name)
    if exclusive:
        listed = set(names)
        removed.extend(n for n in current if n not in listed)
    return added, updated, removed


def apply(lines, users, added, updated, removed, cost):
    """New line list: updated users rehashed in place, removed dropped, added appended."""
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


def parse_mode(value):
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        raise HtpasswdError('mode %r is not an octal file mode such as 0640' % (value,))


def run_htpasswd(module):
    from ansible_collections.berth.registry.plugins.module_utils._atomic_file import (
        apply_metadata, metadata_differences, write_atomic)
    p = module.params
    path = p['path']
    try:
        check_cost(p['cost'])
        mode = parse_mode(p['mode'])
        try:
            with open(path, 'rb') as f:
                raw = f.read()
        except FileNotFoundError:
            raw = None
        except OSError as e:
            raise HtpasswdError('%s cannot be read: %s' % (path, e.strerror))
        try:
            text = '' if raw is None else raw.decode('utf-8')
        except UnicodeDecodeError:
            raise HtpasswdError('%s is not UTF-8 text; the file was left untouched' % path)
        try:
            lines = parse(text)
        except HtpasswdError as e:
            raise HtpasswdError('%s: %s' % (path, e))
        added, updated, removed = plan(lines, p['users'], p['exclusive'])
        if raw is None and not p['create'] and added:
            raise HtpasswdError('%s does not exist and create=false' % path)
        if raw is None and added and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            if not module.check_mode:
                raise HtpasswdError('directory of %s does not exist' % path)
            # a role creates the directory in an earlier task, which check mode did not run
            module.warn('directory of %s does not exist (yet); in check mode the file is reported as to be created'
                        % path)
        metadata = metadata_differences(path, mode, p['owner'], p['group']) if raw is not None else {}
    except (HtpasswdError, ValueError) as e:
        module.fail_json(msg=str(e))

    content_changes = bool(added or updated or removed)
    changed = content_changes or bool(metadata)
    if changed and not module.check_mode:
        try:
            if content_changes:
                new_lines = apply(lines, p['users'], added, updated, removed, p['cost'])
                write_atomic(path, render(new_lines).encode('utf-8'), mode, p['owner'], p['group'])
            else:
                apply_metadata(path, mode, p['owner'], p['group'])
        except OSError as e:
            module.fail_json(msg='Writing %s failed: %s' % (path, e))

    result = dict(changed=changed, users_added=added, users_updated=updated, users_removed=removed)
    if module._diff:
        before_names = [line.name for line in lines if isinstance(line, Entry)]
        after_names = ['%s (password changed)' % n if n in updated else n
                       for n in before_names if n not in removed] + added
        before = ''.join('%s\n' % n for n in before_names)
        after = ''.join('%s\n' % n for n in after_names)
        if metadata:
            before += ''.join('# %s: %s\n' % (k, v[0]) for k, v in sorted(metadata.items()))
            after += ''.join('# %s: %s\n' % (k, v[1]) for k, v in sorted(metadata.items()))
        result['diff'] = dict(before=before, after=after, before_header='%s (user names)' % path,
                              after_header='%s (user names)' % path)
    module.exit_json(**result)
