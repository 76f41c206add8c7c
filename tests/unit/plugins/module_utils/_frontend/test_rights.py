# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._frontend.rights import (
    frontend_needed, pull_only, split_users,
)

USERS = [{'name': 'ci', 'password': 'Mk-1-PASSWORD', 'access': 'pull'},
         {'name': 'dev', 'password': 'Mk-2-PASSWORD', 'access': 'push'},
         {'name': 'admin', 'password': 'Mk-3-PASSWORD'},
         {'name': 'old', 'state': 'absent', 'access': 'pull'}]


def test_everyone_may_pull_push_users_may_push_too():
    everyone, push = split_users(USERS)
    assert [u['name'] for u in everyone] == ['ci', 'dev', 'admin', 'old']
    assert [u['name'] for u in push] == ['dev', 'admin']
    assert everyone[0] == {'name': 'ci', 'password': 'Mk-1-PASSWORD'}  # the htpasswd entry has no access key
    assert everyone[3] == {'name': 'old', 'state': 'absent'}


def test_the_front_end_runs_for_a_pull_user_or_client_certificates():
    assert pull_only(USERS) == ['ci', 'old']
    assert frontend_needed(USERS, False)
    assert not frontend_needed([{'name': 'a', 'password': 'x'}, {'name': 'b', 'access': 'push'}], False)
    assert frontend_needed([], True)
    assert not frontend_needed([], False)


@pytest.mark.parametrize('access', ['read', 'PULL', '', 1, True, ['pull']])
def test_an_unknown_access_is_refused_naming_the_user(access):
    with pytest.raises(BerthError, match=r"registry_users\[1\]\.access: .* \(user 'b'\) is not one of pull, push"):
        split_users([{'name': 'a'}, {'name': 'b', 'access': access}], 'registry_users')


def test_a_user_that_is_no_mapping_is_refused():
    with pytest.raises(BerthError, match=r'users\[0\] must be a mapping'):
        split_users(['alice:secret'])
