# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Users' rights on the registry: ``access: pull`` (GET/HEAD) or ``push`` (everything, the default). Pure.

The front end reads two htpasswd files, so that no user name ever appears in nginx's configuration and a
new user of either kind needs no reload (nginx reads htpasswd files on every request):

* ``users``: every user (pull and push) - who may log in and pull;
* ``push``: the push users - who may also push and delete.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

ACCESS = ('pull', 'push')
DEFAULT_ACCESS = 'push'


def access_of(user, index, option='users'):
    """A user's access, validated (missing or None: push)."""
    access = user.get('access')
    if access is None:
        return DEFAULT_ACCESS
    if access not in ACCESS:
        raise BerthError('%s[%d].access: %r (user %r) is not one of %s'
                         % (option, index, access, user.get('name'), ', '.join(ACCESS)))
    return access


def split_users(users, option='users'):
    """(every user, push users) as htpasswd user entries ``{name, password}`` (state absent kept as given)."""
    everyone, push = [], []
    for index, user in enumerate(users or []):
        if not isinstance(user, dict):
            raise BerthError('%s[%d] must be a mapping with name, password and access, got %s'
                             % (option, index, type(user).__name__))
        entry = dict((k, v) for k, v in user.items() if k in ('name', 'password', 'state'))
        everyone.append(entry)
        if access_of(user, index, option) == 'push':
            push.append(entry)
    return everyone, push


def pull_only(users, option='users'):
    """Names of the users who may only pull."""
    return [u.get('name') for i, u in enumerate(users or []) if access_of(u, i, option) == 'pull']


def frontend_needed(users, client_certificates, option='users'):
    """The front end runs when a user may only pull or when clients must present a certificate; otherwise
    the registry serves TLS and htpasswd itself."""
    return bool(client_certificates) or bool(pull_only(users, option))
