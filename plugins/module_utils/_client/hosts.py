# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host-level unit: one ``address hostname`` line in the hosts file, for every runtime of the host.

A bind-mounted /etc/hosts (in a container) is rewritten in place by the file layer.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._client.base import ClientUnit, PlannedFile
from ansible_collections.berth.registry.plugins.module_utils._hosts_file import find_lines, plan_hosts

DEFAULT_HOSTS_PATH = '/etc/hosts'


class HostsEntry(ClientUnit):
    """hostname -> address (both validated: _hosts_file.validate_entry) in the hosts file at path."""

    name = 'hosts'

    def __init__(self, writer, hostname, address, path=DEFAULT_HOSTS_PATH):
        super(HostsEntry, self).__init__(writer)
        self.hostname = hostname
        self.address = address
        self.path = path
        self.file = None

    def plan(self, tracker):
        planned = PlannedFile(self.writer, self.path, 'hosts_path', text=True)
        text = planned.text or ''
        new, dummy, line = plan_hosts(text, self.hostname, self.address)
        before = '\n'.join(find_lines(text, self.hostname)) or None
        if planned.plan(tracker, 'hosts %s' % self.path, new.encode('utf-8'), before, line, text=True):
            self.file = planned

    def apply(self):
        if self.file is not None:
            self.file.apply()
