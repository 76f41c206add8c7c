# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The htpasswd file plan on real files, without Ansible (FileWriter(None))."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._htpasswd import password_matches
from ansible_collections.berth.registry.plugins.module_utils._htpasswd_file import HtpasswdPlan

ALICE = 'Mk-6b3e1d-ALICE-PASSWORD-8f2a'
BOB = 'Mk-0c7f5a-BOB-PASSWORD-3e9d'


def run(path, check_mode=False, diff=True, **args):
    args.setdefault('users', [{'name': 'alice', 'password': ALICE}, {'name': 'bob', 'password': BOB}])
    plan = HtpasswdPlan(str(path), cost=4, check_mode=check_mode, **args)
    plan.plan()
    plan.apply()
    return plan.result(diff)


def test_four_steps_and_a_password_change(tmp_path):
    path = tmp_path / 'htpasswd'
    check = run(path, check_mode=True)
    assert check['changed'] and not path.exists()
    assert check['differences'] == [{'field': 'user alice', 'before': None, 'after': 'present'},
                                    {'field': 'user bob', 'before': None, 'after': 'present'}]
    first = run(path)
    content = path.read_text()
    assert first['differences'] == check['differences'] and stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert all(line.split(':')[1].startswith('$2y$04$') for line in content.splitlines())
    for check_mode in (True, False):
        again = run(path, check_mode=check_mode)
        assert not again['changed'] and again['differences'] == [] and path.read_text() == content
    changed = run(path, users=[{'name': 'bob', 'password': 'Mk-new-BOB-PASSWORD'}])
    assert changed['differences'] == [{'field': 'user bob password', 'before': '(secret)',
                                       'after': '(secret, changed)'}]
    assert password_matches(b'Mk-new-BOB-PASSWORD', path.read_text().splitlines()[1].split(':', 1)[1])
    text = repr(changed) + repr(first)
    assert ALICE not in text and BOB not in text and '$2y$' not in text and 'Mk-new' not in text


def test_exclusive_keeps_comments_and_removes_unlisted_users(tmp_path):
    path = tmp_path / 'htpasswd'
    path.write_text('# managed\ncarol:$apr1$x$y\n')
    result = run(path, exclusive=True)
    assert [d['field'] for d in result['differences']] == ['user alice', 'user bob', 'user carol']
    assert result['differences'][2] == {'field': 'user carol', 'before': 'present', 'after': None}
    assert path.read_text().splitlines()[0] == '# managed' and 'carol' not in path.read_text()


@pytest.mark.parametrize('mode', ['77777', 0o10000, 'rw-r-----', True])
def test_the_mode_is_range_checked(tmp_path, mode):
    """Issue 9: mode '77777' gave 7777 and changed on every run."""
    path = tmp_path / 'htpasswd'
    with pytest.raises(BerthError, match='mode: .*(out of range; an octal mode is 0000..7777|is not a file mode)'):
        run(path, mode=mode)
    assert not path.exists()


def test_a_metadata_only_fix_and_a_content_write_both_follow_a_symlink(tmp_path):
    """Issue 9: a content write replaced the link with a file."""
    (tmp_path / 'store').mkdir()
    target, link = tmp_path / 'store' / 'users', tmp_path / 'htpasswd'
    os.symlink(str(target), str(link))
    run(link)
    run(link, users=[{'name': 'alice', 'password': 'Mk-other-ALICE-PW'}])
    assert os.path.islink(str(link)) and password_matches(b'Mk-other-ALICE-PW', target.read_text().split(':', 1)[1].split()[0])
    os.chmod(str(target), 0o600)
    fixed = run(link, users=[])
    assert fixed['differences'] == [{'field': 'htpasswd mode', 'before': '0600', 'after': '0640'}]
    assert os.path.islink(str(link)) and stat.S_IMODE(os.stat(str(target)).st_mode) == 0o640


def test_a_missing_directory_is_an_error_except_in_check_mode(tmp_path):
    path = tmp_path / 'missing' / 'htpasswd'
    with pytest.raises(BerthError, match='path: directory .*missing does not exist'):
        run(path)
    plan = HtpasswdPlan(str(path), users=[{'name': 'a', 'password': ALICE}], check_mode=True)
    assert plan.plan() and 'does not exist (yet)' in plan.warnings[0]
    with pytest.raises(BerthError, match='does not exist and create=false'):
        run(tmp_path / 'htpasswd', create=False)


def test_the_diff_names_users_only(tmp_path):
    result = run(tmp_path / 'htpasswd')
    assert result['diff']['after'] == {'user alice': 'present', 'user bob': 'present'}
    assert result['diff']['after_header'].endswith('(user names)')
