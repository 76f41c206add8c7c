# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Debian service (haproxy, redis-server) as the host's init runs it: systemd when it is PID 1, else the
package's init script. Commands go through an injected ``run_command(argv) -> (rc, out, err)``.

HAProxy's reload is graceful under both: systemd's ExecReload validates and sends USR2 to the master
(``-Ws``), the init script validates and starts a new process with ``-sf <old pids>``; the old one serves
its open connections to the end. Nothing here ever restarts HAProxy.
"""

from __future__ import annotations

import os

from ansible_collections.berth.registry.plugins.module_utils._lb.errors import ServiceError

SYSTEMD_MARKER = '/run/systemd/system'


class Service(object):
    """One service on this host. ``systemd`` is detected when None."""

    def __init__(self, name, run_command, systemd=None, init_dir='/etc/init.d'):
        self.name = name
        self.run_command = run_command
        self.systemd = os.path.isdir(SYSTEMD_MARKER) if systemd is None else systemd
        self.init_script = os.path.join(init_dir, name)

    def _argv(self, action):
        if self.systemd:
            return ['systemctl', action, self.name]
        if not os.path.exists(self.init_script):
            raise ServiceError('%s: no systemd on this host and no init script %s; install the Debian package %s'
                               % (self.name, self.init_script, self.name))
        return [self.init_script, action]

    def _run(self, action):
        argv = self._argv(action)
        rc, out, err = self.run_command(argv)
        return rc, ('%s\n%s' % (out or '', err or '')).strip()

    def running(self):
        if self.systemd:
            return self._run('is-active')[0] == 0
        if not os.path.exists(self.init_script):
            return False
        return self._run('status')[0] == 0

    def enabled(self):
        """Whether systemd starts it at boot (init-script hosts: Debian's postinst enabled it; True)."""
        if not self.systemd:
            return True
        return self._run('is-enabled')[0] == 0

    def act(self, action):
        """start, reload, restart or enable; a failure is a ServiceError with the command's output."""
        rc, out = self._run(action)
        if rc != 0:
            raise ServiceError('%s %s failed (rc=%d): %s' % (action, self.name, rc, out[-2000:]))
        return out
