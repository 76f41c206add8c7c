# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host around the runtime units: running a runtime's own tool with a time limit, restarting a
service the way this host runs it (systemd, else the init script), signalling a daemon.

One object per module run, handed to the units (tests hand in fakes).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from ansible_collections.berth.registry.plugins.module_utils._client.detect import process_pids, socket_answers
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

TOOL_TIMEOUT = 30


class ServiceError(BerthError):
    """A runtime's service could not be restarted, or did not come back."""


class HostSystem(object):
    """which(name) -> path or None (AnsibleModule.get_bin_path); proc: this pid namespace's /proc."""

    def __init__(self, which, proc='/proc', restart_timeout=60):
        self.which = which
        self.proc = proc
        self.restart_timeout = restart_timeout

    def run(self, argv, data=None, timeout=TOOL_TIMEOUT, env=None):
        """(rc, stdout, stderr) of argv (C locale, stdin = data, env added to the environment); rc None when it
        did not finish in time."""
        env = dict(os.environ, LC_ALL='C', LANG='C', **(env or {}))
        try:
            proc = subprocess.run(argv, input=data, capture_output=True, text=True, timeout=timeout, env=env,
                                  check=False)
        except subprocess.TimeoutExpired:
            return None, '', '%s did not finish within %d s' % (os.path.basename(argv[0]), timeout)
        except OSError as exc:
            return 127, '', '%s: %s' % (argv[0], exc.strerror or exc)
        return proc.returncode, proc.stdout, proc.stderr

    @property
    def systemd(self):
        """Whether systemd runs this host (PID 1) and systemctl is there."""
        return os.path.isdir('/run/systemd/system') and bool(self.which('systemctl'))

    def pids(self, name):
        return process_pids(name, self.proc)

    def main_pid(self, unit):
        """systemd's MainPID of unit (None: not known or not running)."""
        if not self.systemd:
            return None
        rc, out, dummy = self.run([self.which('systemctl'), 'show', '-p', 'MainPID', '--value', unit])
        value = out.strip() if rc == 0 else ''
        return int(value) if value.isdigit() and value != '0' else None

    def restart_command(self, service):
        """argv that restarts service here: systemctl, else service(8), else its init script; None if none."""
        if self.systemd:
            return [self.which('systemctl'), 'restart', service]
        script = '/etc/init.d/%s' % service
        if os.path.exists(script):
            return [self.which('service'), service, 'restart'] if self.which('service') else [script, 'restart']
        return None

    def restart(self, service, socket):
        """Restart service and wait until its unix socket answers again. Returns the argv used."""
        argv = self.restart_command(service)
        if argv is None:
            raise ServiceError('%s must be restarted for the change to take effect, but neither systemd nor '
                               '/etc/init.d/%s runs it here: restart it yourself' % (service, service))
        before = self.main_pid(service)
        rc, out, err = self.run(argv, timeout=self.restart_timeout)
        if rc != 0:
            raise ServiceError('restarting %s (%s) failed: %s' % (service, ' '.join(argv), (err or out).strip()))
        deadline = time.monotonic() + self.restart_timeout
        while time.monotonic() < deadline:
            pid = self.main_pid(service)
            if socket_answers(socket) and (before is None or (pid is not None and pid != before)):
                return argv
            time.sleep(0.2)
        hint = 'journalctl -u %s' % service if self.systemd else 'its log'
        raise ServiceError('%s did not answer on %s within %d s after %s (see %s)'
                           % (service, socket, self.restart_timeout, ' '.join(argv), hint))

    def hangup(self, name):
        """SIGHUP every process named name (a daemon that rereads its configuration). Returns their PIDs."""
        pids = self.pids(name)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGHUP)
            except ProcessLookupError:
                continue
        return pids
