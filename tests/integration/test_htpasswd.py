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

PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks', 'htpasswd')
ALICE = 'alice-Pw-3xR7-qLm'
BOB = 'bob-Pw-9cT4-wZe'
BOB_NEW = 'bob-New-5gH1-yUo'

pytestmark = pytest.mark.skipif(not shutil.which('htpasswd'), reason='needs apache2-utils (htpasswd -v)')


def run(workdir, check=False, diff=False, **extra):
    extra.setdefault('alice_password', ALICE)
    extra.setdefault('bob_password', BOB)
    return run_playbook(os.path.join(PLAYBOOKS, 'main.yml'), extra_vars=dict(workdir=str(workdir), **extra),
                        check=check, diff=diff)


def report(workdir):
    return json.loads((workdir / 'result.json').read_text())


def verifies(path, user, password):
    return subprocess.run(['htpasswd', '-vb', str(path), user, password], capture_output=True, check=False).returncode == 0


def test_four_steps_then_password_change_and_exclusive(tmp_path):
    path = tmp_path / 'htpasswd'
    check1 = run(tmp_path, check=True, diff=True)
    assert check1.rc == 0 and check1.changed('localhost') == 1, check1
    assert not path.exists()
    assert report(tmp_path)['users_added'] == ['alice', 'bob']

    run1 = run(tmp_path, diff=True)
    assert run1.rc == 0 and run1.changed('localhost') == 1, run1
    assert '+alice' in run1.stdout and '$2' not in run1.stdout and ALICE not in run1.stdout
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
    assert report(tmp_path)['users_updated'] == ['bob'] and report(tmp_path)['users_added'] == []
    lines = path.read_text().splitlines()
    assert lines[:4] == ['# managed elsewhere too', alice_line, '', 'carol:$apr1$abc$def']
    assert lines[4] != bob_line and verifies(path, 'bob', BOB_NEW)

    exclusive = run(tmp_path, bob_password=BOB_NEW, exclusive=True)
    assert exclusive.rc == 0 and exclusive.changed('localhost') == 1, exclusive
    assert report(tmp_path)['users_removed'] == ['carol']
    assert path.read_text().splitlines() == ['# managed elsewhere too', alice_line, '', lines[4]]


def test_existing_hash_from_apache_htpasswd_is_kept(tmp_path):
    path = tmp_path / 'htpasswd'
    subprocess.run(['htpasswd', '-cbB', '-C', '5', str(path), 'alice', ALICE], check=True, capture_output=True)
    before = path.read_text()
    result = run(tmp_path)
    assert result.rc == 0, result
    assert report(tmp_path)['users_added'] == ['bob'] and report(tmp_path)['users_updated'] == []
    assert path.read_text().startswith(before)


def test_bad_inputs_fail_clearly_and_write_nothing(tmp_path):
    broken = tmp_path / 'broken'
    broken.write_text('alice:$2y$05$abcdefghijklmnopqrstuu5Yt2Zm8C5KxW1ZyqG2xv0E9c8hSm1hW\n\nno-colon-here\n')
    before = broken.read_bytes()
    result = run_playbook(os.path.join(PLAYBOOKS, 'bad_inputs.yml'), extra_vars={'workdir': str(tmp_path)})
    assert result.rc == 0, result
    assert sorted(os.listdir(tmp_path)) == ['broken'] and broken.read_bytes() == before
