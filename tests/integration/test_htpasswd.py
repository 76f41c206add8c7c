# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""htpasswd through real playbooks, verified with Apache's htpasswd -v (Distribution: see test_pki.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from bed.playbook import run_playbook
from _bad_input_table import Case, check_table, run_table
from _secrets import assert_no_leaks, marker

PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks', 'htpasswd')
ALICE = 'alice-Pw-3xR7-qLm'
BOB = 'bob-Pw-9cT4-wZe'
BOB_NEW = 'bob-New-5gH1-yUo'

pytestmark = pytest.mark.skipif(not shutil.which('htpasswd'), reason='needs apache2-utils (htpasswd -v)')


def run(workdir, check=False, diff=False, args=(), **extra):
    extra.setdefault('alice_password', ALICE)
    extra.setdefault('bob_password', BOB)
    return run_playbook(os.path.join(PLAYBOOKS, 'main.yml'), extra_vars=dict(workdir=str(workdir), **extra),
                        check=check, diff=diff, args=args)


def report(workdir):
    return json.loads((workdir / 'result.json').read_text())


def verifies(path, user, password):
    return subprocess.run(['htpasswd', '-vb', str(path), user, password], capture_output=True, check=False).returncode == 0


def test_four_steps_then_password_change_and_exclusive(tmp_path):
    path = tmp_path / 'htpasswd'
    check1 = run(tmp_path, check=True, diff=True)
    assert check1.rc == 0 and check1.changed('localhost') == 1, check1
    assert not path.exists()
    assert report(tmp_path)['differences'] == [{'field': 'user alice', 'before': None, 'after': 'present'},
                                               {'field': 'user bob', 'before': None, 'after': 'present'}]

    run1 = run(tmp_path, diff=True)
    assert run1.rc == 0 and run1.changed('localhost') == 1, run1
    assert '"user alice": "present"' in run1.stdout and '$2' not in run1.stdout and ALICE not in run1.stdout
    content = path.read_text()
    assert [line.split(':')[0] for line in content.splitlines()] == ['alice', 'bob']
    assert all(line.split(':', 1)[1].startswith('$2y$05$') for line in content.splitlines())
    assert path.stat().st_mode & 0o777 == 0o640

    check2 = run(tmp_path, check=True)
    assert check2.rc == 0 and check2.changed('localhost') == 0, check2
    run2 = run(tmp_path)
    assert run2.rc == 0 and run2.changed('localhost') == 0, run2
    assert path.read_text() == content
    assert verifies(path, 'alice', ALICE) and verifies(path, 'bob', BOB)
    assert not verifies(path, 'alice', BOB)

    # unrelated lines are kept in place; a new password rehashes that user only
    alice_line, bob_line = content.splitlines()
    path.write_text('# managed elsewhere too\n%s\n\ncarol:$apr1$abc$def\n%s\n' % (alice_line, bob_line))
    changed = run(tmp_path, bob_password=BOB_NEW)
    assert changed.rc == 0 and changed.changed('localhost') == 1, changed
    assert report(tmp_path)['differences'] == [{'field': 'user bob password', 'before': '(secret)',
                                                'after': '(secret, changed)'}]
    lines = path.read_text().splitlines()
    assert lines[:4] == ['# managed elsewhere too', alice_line, '', 'carol:$apr1$abc$def']
    assert lines[4] != bob_line and verifies(path, 'bob', BOB_NEW)

    exclusive = run(tmp_path, bob_password=BOB_NEW, exclusive=True)
    assert exclusive.rc == 0 and exclusive.changed('localhost') == 1, exclusive
    assert report(tmp_path)['differences'] == [{'field': 'user carol', 'before': 'present', 'after': None}]
    assert path.read_text().splitlines() == ['# managed elsewhere too', alice_line, '', lines[4]]


def test_existing_hash_from_apache_htpasswd_is_kept(tmp_path):
    path = tmp_path / 'htpasswd'
    subprocess.run(['htpasswd', '-cbB', '-C', '5', str(path), 'alice', ALICE], check=True, capture_output=True)
    before = path.read_text()
    result = run(tmp_path)
    assert result.rc == 0, result
    assert report(tmp_path)['differences'] == [{'field': 'user bob', 'before': None, 'after': 'present'}]
    assert path.read_text().startswith(before)


GOOD_HASH = '$2y$05$abcdefghijklmnopqrstuu5Yt2Zm8C5KxW1ZyqG2xv0E9c8hSm1hW'


def _file(content, name='htpasswd', mode=0o640):
    def setup(directory):
        path = os.path.join(directory, name)
        with open(path, 'wb') as f:
            f.write(content)
        os.chmod(path, mode)
    return setup


def _huge(directory):
    with open(os.path.join(directory, 'htpasswd'), 'wb') as f:
        f.truncate(17 * 1024 * 1024)


def _dir_link(directory):
    os.mkdir(os.path.join(directory, 'real'))
    os.symlink('real', os.path.join(directory, 'htpasswd'))


def _users(name='carol', password='Mk-0a7d2c-PASSWORD-4e9b', **extra):
    return [dict(extra, name=name, password=password)]


BAD_DEFAULTS = {'path': '{dir}/htpasswd', 'users': _users()}
BAD_CASES = [
    Case('mode_out_of_range', {'mode': '77777'}, ['mode', '77777', '7777']),
    Case('mode_out_of_range_existing', {'mode': '77777'}, ['mode', '77777', '7777'],
         setup=_file(('carol:%s\n' % GOOD_HASH).encode())),
    Case('mode_garbage', {'mode': 'rw-r-----'}, ['mode', 'rw-r-----', 'octal']),
    Case('name_colon', {'users': _users('eve:admin')}, ["'eve:admin'", ':']),
    Case('name_space', {'users': _users('eve admin')}, ["'eve admin'", 'whitespace']),
    Case('name_newline', {'users': _users('eve\nroot')}, ["users[0].name", "'eve\\nroot'", 'control character']),
    Case('name_nul', {'users': _users('eve\x00root')}, ['users[0].name', 'control character']),
    Case('name_bell', {'users': _users('eve\x07')}, ['users[0].name', 'control character']),
    Case('name_escape', {'users': _users('eve\x1b[2J')}, ['users[0].name', 'control character']),
    Case('name_comment', {'users': _users('#eve')}, ["'#eve'", '#']),
    Case('name_empty', {'users': _users('')}, ['users[0].name', 'empty']),
    Case('name_too_long', {'users': _users('u' * 300)}, ['users[0].name', '255']),
    Case('password_empty', {'users': _users(password='')}, ['users[0].password', 'carol', 'empty']),
    Case('password_too_long', {'users': _users(password='p' * 73)}, ['users[0].password', 'carol', '72 bytes']),
    Case('password_nul', {'users': _users(password='Mk-pass\x00word-77')}, ['users[0].password', 'carol', 'NUL']),
    Case('password_missing_new_user', {'users': [{'name': 'carol'}]}, ['users[0].password', 'carol', 'required']),
    Case('user_twice', {'users': _users() + _users()}, ['users', 'carol', 'more than once']),
    Case('cost_low', {'cost': 3}, ['cost', '3', '4..31']),
    Case('cost_high', {'cost': 32}, ['cost', '32', '4..31']),
    Case('owner_unknown', {'owner': 'no-such-user-b3rth'}, ['owner', 'no-such-user-b3rth', 'does not exist']),
    Case('group_unknown', {'group': 'no-such-group-b3rth'}, ['group', 'no-such-group-b3rth', 'does not exist']),
    Case('create_false', {'create': False}, ['htpasswd', 'does not exist', 'create']),
    Case('directory_missing', {'path': '{dir}/missing/htpasswd'}, ['path', '{dir}/missing', 'does not exist']),
    Case('existing_malformed', {}, ['htpasswd', 'line 3', 'name:hash'],
         setup=_file(('alice:%s\n\nno-colon-here\n' % GOOD_HASH).encode())),
    Case('existing_duplicate', {}, ['htpasswd', "'alice'", 'twice'],
         setup=_file(('alice:%s\nalice:%s\n' % (GOOD_HASH, GOOD_HASH)).encode())),
    Case('existing_not_utf8', {}, ['htpasswd', 'UTF-8'], setup=_file(b'alice:\xff\xfe\n')),
    Case('existing_json', {}, ['htpasswd', 'line 1'], setup=_file(b'["alice", "bob"]\n')),
    Case('existing_huge', {}, ['htpasswd', 'bytes'], setup=_huge),
    Case('path_is_directory', {}, ['htpasswd', 'directory'], setup=lambda d: os.mkdir(os.path.join(d, 'htpasswd'))),
    Case('symlink_to_directory', {}, ['htpasswd', 'directory'], setup=_dir_link),
]


def test_a_symlinked_file_is_followed(tmp_path):
    """The content write and the mode fix both act on the link's target; the link stays."""
    store = tmp_path / 'store'
    store.mkdir()
    os.symlink(str(store / 'users'), str(tmp_path / 'htpasswd'))
    first = run(tmp_path)
    assert first.rc == 0 and first.changed('localhost') == 1, first
    assert os.path.islink(str(tmp_path / 'htpasswd')) and verifies(store / 'users', 'alice', ALICE)
    changed = run(tmp_path, bob_password=BOB_NEW)
    assert changed.rc == 0 and changed.changed('localhost') == 1, changed
    assert os.path.islink(str(tmp_path / 'htpasswd')), 'the link was replaced by a file'
    assert verifies(store / 'users', 'bob', BOB_NEW)
    os.chmod(str(store / 'users'), 0o600)
    fixed = run(tmp_path, bob_password=BOB_NEW)
    assert fixed.rc == 0 and fixed.changed('localhost') == 1, fixed
    assert report(tmp_path)['differences'] == [{'field': 'htpasswd mode', 'before': '0600', 'after': '0640'}]
    assert os.path.islink(str(tmp_path / 'htpasswd')) and (store / 'users').stat().st_mode & 0o777 == 0o640


def test_no_secret_in_any_output(tmp_path):
    """-vvv --diff, check mode and real, first run, rerun and a password change: no password, no hash."""
    alice, bob, bob_new = marker('alice password'), marker('bob password'), marker('bob new password')
    secrets = {'alice': alice, 'bob': bob, 'bob new': bob_new}
    runs = [run(tmp_path, check=check, diff=True, alice_password=alice, bob_password=bob, args=('-vvv',))
            for check in (True, False, True, False)]
    assert [r.rc for r in runs] == [0, 0, 0, 0], runs
    assert [r.changed('localhost') for r in runs] == [1, 1, 0, 0], runs
    secrets.update(hashes(tmp_path / 'htpasswd'))
    for check in (True, False):
        runs.append(run(tmp_path, check=check, diff=True, alice_password=alice, bob_password=bob_new,
                        args=('-vvv',)))
    assert [r.changed('localhost') for r in runs[4:]] == [1, 1], runs[4:]
    secrets.update(('new ' + k, v) for k, v in hashes(tmp_path / 'htpasswd').items())
    assert_no_leaks(runs, secrets)
    assert 'alice' in runs[1].stdout and 'bob' in runs[5].stdout  # the diff names the users


def hashes(path):
    """{label: secret} for every bcrypt hash of the file, whole and without its $2y$NN$ prefix."""
    result = {}
    for line in path.read_text().splitlines():
        name, hashed = line.split(':', 1)
        result['hash of %s' % name] = hashed
        result['hash body of %s' % name] = hashed[7:]
    return result


def test_bad_inputs_fail_clearly_and_write_nothing(tmp_path):
    outcomes = run_table(os.path.join(PLAYBOOKS, 'bad_inputs.yml'), tmp_path, BAD_CASES, BAD_DEFAULTS)
    check_table(BAD_CASES, outcomes)
    for name, (result, dummy, dummy_dir) in outcomes.items():
        for user in result['item']['args'].get('users') or []:
            if len(user.get('password') or '') > 4:
                assert user['password'] not in result.get('msg', ''), name
