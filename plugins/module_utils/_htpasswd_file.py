# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The htpasswd file on disk: plan, apply, result; and the htpasswd module's driver.

``HtpasswdPlan`` takes plain values and writes through ``_files.FileWriter(module or None)``, so the
server's one remote call can lay out the file with the same code. The diff names users, never hashes or
passwords. Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os

from ansible_collections.berth.registry.plugins.module_utils._crypto_deps import require_bcrypt
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter, read_text
from ansible_collections.berth.registry.plugins.module_utils._htpasswd import (
    HtpasswdError, check_cost, decide, parse, render, updated_lines,
)
from ansible_collections.berth.registry.plugins.module_utils._plans import run_plan


def htpasswd_argument_spec():
    return dict(
        path=dict(type='path', required=True),
        users=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            password=dict(type='str', no_log=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        exclusive=dict(type='bool', default=False),
        cost=dict(type='int', default=10),
        mode=dict(type='raw', default='0640'),
        owner=dict(type='str'),
        group=dict(type='str'),
        create=dict(type='bool', default=True),
    )


class HtpasswdPlan(object):
    """Plan, apply and dump one htpasswd file. ``users``: [{name, password, state}]."""

    def __init__(self, path, users=(), exclusive=False, cost=10, mode='0640', owner=None, group=None, create=True,
                 writer=None, check_mode=False):
        self.path = path
        self.users = list(users or [])
        self.exclusive = exclusive
        self.cost = check_cost(cost)
        self.mode, self.owner, self.group = mode, owner, group
        self.create = create
        self.writer = writer if writer is not None else FileWriter(None)
        self.check_mode = check_mode
        self.differences = Differences()
        self.warnings = []
        self.lines = []
        self.changes = ([], [], [])
        self._args = None

    def plan(self):
        self._args = self.writer.attrs(self.path, self.mode, self.owner, self.group)
        text = read_text(self.path, 'path')
        try:
            self.lines = parse(text or '')
        except HtpasswdError as exc:
            raise HtpasswdError('path: %s: %s' % (self.path, exc))
        added, updated, removed = self.changes = decide(self.lines, self.users, self.exclusive)
        if text is None and added:
            self._check_creatable()
        for name in added:
            self.differences.add('user %s' % name, None, 'present')
        for name in updated:
            self.differences.add('user %s password' % name, 'old', 'new', secret=True)
        for name in removed:
            self.differences.add('user %s' % name, 'present', None)
        if text is not None and not self.content_changes:
            self.writer.record_attributes(self.differences, 'htpasswd', self._args)
        return self.differences

    def _check_creatable(self):
        if not self.create:
            raise HtpasswdError('path: %s does not exist and create=false' % self.path)
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            if not self.check_mode:
                raise HtpasswdError('path: directory %s does not exist' % directory)
            # a role creates the directory in an earlier task, which check mode did not run
            self.warnings.append('path: directory %s does not exist (yet); in check mode the file is reported as '
                                 'to be created' % directory)

    @property
    def content_changes(self):
        return any(self.changes)

    def apply(self):
        if self.check_mode or not self.differences:
            return self
        if self.content_changes:
            lines = updated_lines(self.lines, self.users, *self.changes, cost=self.cost)
            self.writer.write(self._args, render(lines).encode('utf-8'))
        else:
            self.writer.apply_attributes(self._args)
        return self

    def result(self, diff_mode):
        return self.differences.result(diff_mode, header='%s (user names)' % self.path, path=self.path)


class Htpasswd(object):
    """The htpasswd module's driver."""

    def __init__(self, module):
        self.module = module

    def run(self):
        require_bcrypt()
        return run_plan(self.module, HtpasswdPlan(writer=FileWriter(self.module), check_mode=self.module.check_mode,
                                                  **self.module.params))
