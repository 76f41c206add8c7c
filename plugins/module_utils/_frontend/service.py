# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nginx as a host service (Debian's package), under systemd or a SysV init script.

Read-only questions (installed, running, enabled at boot) and the few actions the front end takes: enable,
start, ``nginx -t``, and a graceful reload that is confirmed (nginx reloads asynchronously: the master keeps
the old configuration and logs the error when the new one fails at run time, so the reload counts only once
new worker processes replaced the old ones). Never a restart. Stdlib only.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import glob
import os
import time

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

PID_FILE = '/run/nginx.pid'


def systemd_booted(root='/'):
    """sd_booted(): systemd is PID 1 when /run/systemd/system exists."""
    return os.path.isdir(os.path.join(root, 'run/systemd/system'))


class NginxService(object):
    """``run_command(argv) -> (rc, stdout, stderr)`` and ``get_bin_path(name) -> path or None`` are
    AnsibleModule's; ``proc``/``root`` let tests point at a fake /proc and /etc."""

    name = 'nginx'

    def __init__(self, run_command, get_bin_path, systemd=None, pid_file=PID_FILE, proc='/proc', root='/',
                 reload_timeout=15.0):
        self.run_command = run_command
        self.get_bin_path = get_bin_path
        self.systemd = systemd_booted(root) if systemd is None else systemd
        self.pid_file = pid_file
        self.proc = proc
        self.root = root
        self.reload_timeout = reload_timeout
        self._binary = None

    # --- questions ------------------------------------------------------------------------
    @property
    def binary(self):
        """The nginx program, or None when the package is not installed."""
        if self._binary is None:
            self._binary = self.get_bin_path('nginx', opt_dirs=['/usr/sbin']) or ''
        return self._binary or None

    def master_pid(self):
        """The running master's PID (from the pid file, checked in /proc), or None."""
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if self._cmdline(pid).startswith('nginx: master') else None

    def running(self):
        return self.master_pid() is not None

    def workers(self, master):
        """PIDs of the master's worker processes."""
        result = set()
        for stat_path in glob.glob(os.path.join(self.proc, '[0-9]*', 'stat')):
            try:
                with open(stat_path) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except (OSError, IndexError):
                continue
            pid = int(os.path.basename(os.path.dirname(stat_path)))
            if len(fields) > 1 and fields[1] == str(master) and self._cmdline(pid).startswith('nginx: worker'):
                result.add(pid)
        return result

    def enabled(self):
        """Started at boot: ``systemctl is-enabled``, or an S link in a multi-user runlevel."""
        if self.systemd:
            return self.run_command(['systemctl', 'is-enabled', '--quiet', self.name])[0] == 0
        return bool(glob.glob(os.path.join(self.root, 'etc/rc[2345].d/S[0-9][0-9]%s' % self.name)))

    # --- actions --------------------------------------------------------------------------
    def test(self):
        """``nginx -t``: (ok, what nginx said)."""
        rc, out, err = self.run_command([self.binary, '-t', '-q'])
        return rc == 0, (err or out).strip()

    def enable(self):
        if self.systemd:
            self._run(['systemctl', 'enable', '--quiet', self.name], 'enable')
        else:
            self._run(['update-rc.d', self.name, 'defaults'], 'enable')
            self._run(['update-rc.d', self.name, 'enable'], 'enable')

    def start(self):
        self._run(self._service('start'), 'start')
        deadline = time.monotonic() + self.reload_timeout
        while not self.running():
            if time.monotonic() > deadline:
                raise BerthError('nginx did not start within %d s (%s); see its error log'
                                 % (self.reload_timeout, ' '.join(self._service('start'))))
            time.sleep(0.1)

    def reload(self):
        """Graceful reload (open connections finish on the old workers), confirmed by new workers."""
        master = self.master_pid()
        before = self.workers(master) if master else set()
        self._run(self._service('reload'), 'reload')
        deadline = time.monotonic() + self.reload_timeout
        while True:
            master = self.master_pid()
            now = self.workers(master) if master else set()
            if master and now - before:  # old workers may still finish long downloads ("shutting down")
                return
            if time.monotonic() > deadline:
                raise BerthError('nginx did not take the new configuration within %d s (its worker processes were not '
                                 'replaced); see its error log (/var/log/nginx/error.log)' % self.reload_timeout)
            time.sleep(0.1)

    def _service(self, action):
        if self.systemd:
            return ['systemctl', action, self.name]
        return [os.path.join(self.root, 'etc/init.d', self.name), action]

    def _run(self, argv, what):
        rc, out, err = self.run_command(argv)
        if rc != 0:
            raise BerthError('%s of nginx failed (%s, rc=%d): %s' % (what, ' '.join(argv), rc, (err or out).strip()))
        return out

    def _cmdline(self, pid):
        try:
            with open(os.path.join(self.proc, str(pid), 'cmdline'), 'rb') as f:
                return f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
        except OSError:
            return ''
