# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.berth.registry.plugins.module_utils import _htpasswd as ht
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

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
    with pytest.raises(ht.HtpasswdError, match='line %d is not "name:hash"' % number):
        ht.parse(text)


def test_duplicate_user_in_file():
    with pytest.raises(ht.HtpasswdError, match="'a' appears twice"):
        ht.parse('a:x\na:y\n')


@pytest.mark.parametrize('name', ['a:b', 'a b', '#x'])
def test_bad_names_refused(name):
    with pytest.raises(ht.HtpasswdError, match="users\\[0\\].name: %r is not allowed" % name):
        ht.check_name(name, 'users[0].name')


@pytest.mark.parametrize('name,says', [
    ('a\nb', 'control character'), ('tab\tname', 'control character'), ('nul\x00', 'control character'),
    ('bell\x07', 'control character'), ('esc\x1b[2J', 'control character'), ('del\x7f', 'control character'),
    ('', 'must not be empty'), ('u' * 256, 'longer than 255 characters'),
])
def test_control_characters_empty_and_overlong_names_refused(name, says):
    """Issue 9: control characters in user names were accepted."""
    with pytest.raises(BerthError, match='users\\[2\\].name.*%s' % says):
        ht.check_name(name, 'users[2].name')
    assert ht.check_name('u' * 255) == 'u' * 255


def test_decide_add_update_remove_exclusive():
    hashes = (ht.hash_password(ALICE.encode(), 4), ht.hash_password(b'bob-old-pw', 4))
    lines = ht.parse('# c\nalice:%s\nbob:%s\ncarol:$apr1$x$y\n' % hashes)
    users = [{'name': 'alice', 'password': ALICE}, {'name': 'bob', 'password': 'bob-new-pw'},
             {'name': 'dave', 'password': 'dave-pw-9'}]
    assert ht.decide(lines, users, False) == (['dave'], ['bob'], [])
    assert ht.decide(lines, users, True) == (['dave'], ['bob'], ['carol'])
    assert ht.decide(lines, [{'name': 'carol', 'password': 'c'}], False) == ([], ['carol'], [])
    assert ht.decide(lines, [{'name': 'bob', 'state': 'absent'}, {'name': 'zed', 'state': 'absent'}],
                     False) == ([], [], ['bob'])
    assert ht.decide(lines, [{'name': 'bob'}], False) == ([], [], [])
    new = ht.updated_lines(lines, users, ['dave'], ['bob'], ['carol'], 4)
    assert [getattr(line, 'name', line) for line in new] == ['# c', 'alice', 'bob', 'dave']
    assert new[1].hash == lines[1].hash  # untouched user keeps its hash
    assert ht.password_matches(b'bob-new-pw', new[2].hash)


def test_decide_errors_name_the_option_and_never_the_password():
    cases = [
        ([{'name': 'new'}], r"users\[0\].password: user 'new' does not exist yet: a password is required"),
        ([{'name': 'a', 'password': 'x'}, {'name': 'a', 'password': 'y'}], "users: 'a' listed more than once"),
        ([{'name': 'a', 'password': 'x' * 73}], r"users\[0\].password of user 'a' is longer than 72 bytes"),
        ([{'name': 'ok', 'password': 'Mk-1-PW'}, {'name': 'a:b', 'password': 'x'}], r"users\[1\].name: 'a:b'"),
        ([{'name': 'a', 'password': 'Mk-nul\x00-PW'}], r"users\[0\].password of user 'a' contains a NUL byte"),
        # issue 9: an empty password was accepted (and hashed)
        ([{'name': 'a', 'password': ''}], r"users\[0\].password of user 'a' must not be empty"),
    ]
    for users, message in cases:
        with pytest.raises(ht.HtpasswdError, match=message) as exc:
            ht.decide([], users, False)
        assert 'Mk-' not in str(exc.value)


@pytest.mark.parametrize('cost', [3, 32, True, '10'])
def test_cost_bounds(cost):
    with pytest.raises(ht.HtpasswdError, match=r'cost: .* is out of range; bcrypt allows 4..31'):
        ht.check_cost(cost)
