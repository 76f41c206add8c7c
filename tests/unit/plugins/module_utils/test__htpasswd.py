# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.berth.registry.plugins.module_utils import _htpasswd as ht

ALICE = 'Alice-pw-7f3k!'


def test_hash_is_2y_and_verifies():
    hashed = ht.hash_password(ALICE.encode(), 4)
    assert hashed.startswith('$2y$04$')
    assert ht.password_matches(ALICE.encode(), hashed)
    assert not ht.password_matches(b'other-password', hashed)
    for prefix in ('$2a$', '$2b$'):
        assert ht.password_matches(ALICE.encode(), prefix + hashed[4:])
    assert not ht.password_matches(ALICE.encode(), '$apr1$abc$def')


@pytest.mark.skipif(not shutil.which('htpasswd'), reason='apache2-utils not installed')
def test_hash_made_by_apache_htpasswd_verifies():
    line = subprocess.run(['htpasswd', '-nbB', '-C', '5', 'alice', ALICE], capture_output=True, text=True,
                          check=True).stdout.strip()
    name, hashed = line.split(':', 1)
    assert hashed.startswith('$2y$') and ht.password_matches(ALICE.encode(), hashed)


def test_parse_keeps_comments_and_blank_lines():
    text = '# registry users\nalice:$2y$04$x\n\n  # indented\nbob:$2y$04$y\n'
    lines = ht.parse(text)
    assert [getattr(line, 'name', line) for line in lines] == ['# registry users', 'alice', '', '  # indented', 'bob']
    assert ht.render(lines) == text


@pytest.mark.parametrize('text,number', [('alice:$2y$x\nnocolon\n', 2), (':hash\n', 1), ('bob:\n', 1)])
def test_malformed_line_names_its_number(text, number):
    with pytest.raises(ht.HtpasswdError, match='malformed line %d' % number):
        ht.parse(text)


def test_duplicate_user_in_file():
    with pytest.raises(ht.HtpasswdError, match="'a' appears twice"):
        ht.parse('a:x\na:y\n')


@pytest.mark.parametrize('name', ['a:b', 'a b', 'a\nb', '', '#x', 'tab\tname'])
def test_bad_names_refused(name):
    with pytest.raises(ht.HtpasswdError, match='not allowed'):
        ht.check_name(name)


def test_plan_add_update_remove_exclusive():
    hashes = (ht.hash_password(ALICE.encode(), 4), ht.hash_password(b'bob-old-pw', 4))
    lines = ht.parse('# c\nalice:%s\nbob:%s\ncarol:$apr1$x$y\n' % hashes)
    users = [{'name': 'alice', 'password': ALICE}, {'name': 'bob', 'password': 'bob-new-pw'},
             {'name': 'dave', 'password': 'dave-pw-9'}]
    assert ht.plan(lines, users, False) == (['dave'], ['bob'], [])
    assert ht.plan(lines, users, True) == (['dave'], ['bob'], ['carol'])
    assert ht.plan(lines, [{'name': 'carol', 'password': 'c'}], False) == ([], ['carol'], [])
    assert ht.plan(lines, [{'name': 'bob', 'state': 'absent'}, {'name': 'zed', 'state': 'absent'}],
                   False) == ([], [], ['bob'])
    assert ht.plan(lines, [{'name': 'bob'}], False) == ([], [], [])
    new = ht.apply(lines, users, ['dave'], ['bob'], ['carol'], 4)
    assert [getattr(line, 'name', line) for line in new] == ['# c', 'alice', 'bob', 'dave']
    assert new[1].hash == lines[1].hash  # untouched user keeps its hash
    assert ht.password_matches(b'bob-new-pw', new[2].hash)


def test_plan_errors():
    with pytest.raises(ht.HtpasswdError, match='password is required'):
        ht.plan([], [{'name': 'new'}], False)
    with pytest.raises(ht.HtpasswdError, match='more than once: a'):
        ht.plan([], [{'name': 'a', 'password': 'x'}, {'name': 'a', 'password': 'y'}], False)
    with pytest.raises(ht.HtpasswdError, match='longer than 72 bytes'):
        ht.plan([], [{'name': 'a', 'password': 'x' * 73}], False)
    with pytest.raises(ht.HtpasswdError, match="'a:b'"):
        ht.plan([], [{'name': 'a:b', 'password': 'x'}], False)


@pytest.mark.parametrize('cost', [3, 32])
def test_cost_bounds(cost):
    with pytest.raises(ht.HtpasswdError, match='between 4 and 31'):
        ht.check_cost(cost)
