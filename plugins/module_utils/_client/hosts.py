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
from ansible_collections.berth.registry.plugins.module_utils._hosts_file import find_lines, plan_hosts, remove_host

DEFAULT_HOSTS_PATH = '/etc/hosts'


class HostsEntry(ClientUnit):
    """hostname -> address (both validated: _hosts_file.validate_entry) in the hosts file at path; with
    absent, no line names hostname any more."""

    name = 'hosts'

    def __init__(self, writer, hostname, address, path=DEFAULT_HOSTS_PATH, absent=False):
        super(HostsEntry, self).__init__(writer)
        self.hostname = hostname
        self.address = address
        self.path = path
        self.absent = absent
        self.file = None

    def plan(self, tracker):
        planned = PlannedFile(self.writer, self.path, 'hosts_path', text=True)
        if planned.current is None and self.absent:
            return
        text = planned.text or ''
        if self.absent:
            new, before = remove_host(text, self.hostname)
            line = None
        else:
            new, dummy, line = plan_hosts(text, self.hostname, self.address)
            before = '\n'.join(find_lines(text, self.hostname)) or None
        if planned.plan(tracker, 'hosts %s' % self.path, new.encode('utf-8'), before, line, text=True):
            self.file = planned

    def apply(self):
        if self.file is not None:
            self.file.apply()
