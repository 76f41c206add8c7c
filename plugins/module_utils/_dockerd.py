# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local dockerd process: find it, read its flags, validate a daemon.json with its binary,
make it take a changed daemon.json (SIGHUP / systemctl reload, or a restart), and confirm through
the engine's ``GET /info`` that it did.

Stdlib only (client hosts). Editing daemon.json is _daemon_json.py's concern, the engine API
client _docker_engine.py's.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import tempfile
import time

from ansible_collections.berth.registry.plugins.module_utils._daemon_json import flag_conflicts, needs_restart
from ansible_collections.berth.registry.plugins.module_utils._docker_engine import (
    DEFAULT_DOCKER_HOST, EngineError, socket_path,
)
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

DEFAULT_PID_FILE = '/var/run/docker.pid'
APPLY_CHOICES = ['auto', 'reload', 'restart', 'none']
CONFIRMED_KEYS = ('insecure-registries', 'registry-mirrors')


class DockerdError(BerthError):
    """dockerd could not be made to take a configuration."""


def dockerd_argument_spec():
    """Options that find the local dockerd (documented in doc_fragments/_dockerd.py)."""
    return dict(
        docker_host=dict(type='str', default=DEFAULT_DOCKER_HOST),
        pid_file=dict(type='path', default=DEFAULT_PID_FILE),
    )


# --- finding the process --------------------------------------------------------------------
def _is_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            raw = f.read()
    except OSError:
        return None
    return [a.decode('utf-8', 'replace') for a in raw.split(b'\0') if a]


def _is_dockerd(argv):
    return bool(argv) and os.path.basename(argv[0]) == 'dockerd'


def _hosts_of(argv):
    hosts = []
    for i, arg in enumerate(argv):
        if arg in ('-H', '--host') and i + 1 < len(argv):
            hosts.append(argv[i + 1])
        elif arg.startswith('--host='):
            hosts.append(arg[len('--host='):])
        elif arg.startswith('-H') and len(arg) > 2:
            hosts.append(arg[2:].lstrip('='))
    return hosts


def _pid_namespace(pid):
    try:
        return os.readlink('/proc/%s/ns/pid' % pid)
    except OSError:
        return None


def find_daemon_pid(pid_file=DEFAULT_PID_FILE, docker_host=DEFAULT_DOCKER_HOST):
    """PID of the dockerd serving docker_host: from pid_file, else by scanning /proc. None if not running."""
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
        if _is_alive(pid) and _is_dockerd(read_cmdline(pid)):
            return pid
    except (OSError, ValueError):
        pass
    path = socket_path(docker_host)
    default = docker_host == DEFAULT_DOCKER_HOST
    own_pid_ns = _pid_namespace('self')
    for entry in os.listdir('/proc'):
        # dockerds of containers (e.g. docker-in-docker nodes) live in other pid namespaces
        if not entry.isdigit() or _pid_namespace(entry) != own_pid_ns:
            continue
        argv = read_cmdline(int(entry))
        if not _is_dockerd(argv):
            continue
        hosts = _hosts_of(argv)
        if docker_host in hosts or (path and path in hosts):
            return int(entry)
        if default and (not hosts or any(h.startswith('fd://') for h in hosts)):
            return int(entry)
    return None


def systemd_docker_unit(run_command, systemctl):
    """State of docker.service when systemd runs this host, else None.

    Returns dict(main_pid, active, exec_start argv list).
    """
    if not systemctl or not os.path.isdir('/run/systemd/system'):
        return None
    rc, out, dummy = run_command([systemctl, 'show', 'docker', '-p', 'LoadState', '-p', 'ActiveState',
                                  '-p', 'MainPID', '-p', 'ExecStart'])
    if rc != 0:
        return None
    props = {}
    for line in out.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            props[key] = value
    if props.get('LoadState') != 'loaded':
        return None
    return {
        'main_pid': int(props.get('MainPID') or 0),
        'active': props.get('ActiveState') == 'active',
        'exec_start': parse_exec_start(props.get('ExecStart', '')),
    }


def parse_exec_start(value):
    """argv of `systemctl show -p ExecStart` output: '{ path=... ; argv[]=/usr/bin/dockerd -H fd:// ; ... }'."""
    marker = 'argv[]='
    start = value.find(marker)
    if start < 0:
        return []
    rest = value[start + len(marker):]
    end = rest.find(' ;')
    return rest[:end if end >= 0 else len(rest)].split()


# --- what the engine reports ------------------------------------------------------------------
def _norm_mirror(url):
    return url.rstrip('/')


def _norm_insecure(entry):
    if '/' in entry:
        try:
            return str(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            return entry
    return entry


def engine_registry_state(info):
    """(insecure set, mirrors list) as the engine reports them in GET /info."""
    reg = info.get('RegistryConfig') or {}
    insecure = set(reg.get('InsecureRegistryCIDRs') or [])
    for name, index in (reg.get('IndexConfigs') or {}).items():
        if not index.get('Secure', True):
            insecure.add(name)
    mirrors = [_norm_mirror(m) for m in reg.get('Mirrors') or []]
    return insecure, mirrors


def engine_differences(config, keys, info):
    """What the engine reports differently from config for insecure-registries / registry-mirrors.

    dockerd always adds 127.0.0.0/8 to the insecure CIDRs and ends mirrors with '/': both ignored.
    """
    insecure, mirrors = engine_registry_state(info)
    diffs = {}
    if 'insecure-registries' in keys:
        wanted = set(_norm_insecure(e) for e in config.get('insecure-registries') or [])
        seen = set(insecure) - ({'127.0.0.0/8'} - wanted)
        if wanted != seen:
            diffs['insecure-registries'] = {'file': sorted(wanted), 'engine': sorted(seen)}
    if 'registry-mirrors' in keys:
        wanted = [_norm_mirror(m) for m in config.get('registry-mirrors') or []]
        if wanted != mirrors:
            diffs['registry-mirrors'] = {'file': wanted, 'engine': mirrors}
    return diffs


# --- the process ------------------------------------------------------------------------------
class Dockerd(object):
    """The dockerd serving one engine address on this host; one instance per module run.

    engine: the EngineClient of that dockerd (used to confirm). run_command(argv) -> (rc, out, err)
    and get_bin_path(name) -> path or None are AnsibleModule's.
    """

    def __init__(self, engine, run_command, get_bin_path, pid_file=DEFAULT_PID_FILE, restart_command=None,
                 verify_timeout=15, restart_timeout=90):
        self.engine = engine
        self.docker_host = engine.docker_host
        self.run_command = run_command
        self.get_bin_path = get_bin_path
        self.pid_file = pid_file
        self.restart_command = list(restart_command or []) or None
        self.verify_timeout = verify_timeout
        self.restart_timeout = restart_timeout
        self.warnings = []
        self._state = None

    def state(self):
        """{pid, unit, systemd_managed} of the running daemon (looked up once)."""
        if self._state is None:
            pid = find_daemon_pid(self.pid_file, self.docker_host)
            unit = systemd_docker_unit(self.run_command, self.get_bin_path('systemctl'))
            managed = bool(unit and unit['active'] and pid and unit['main_pid'] == pid)
            self._state = {'pid': pid, 'unit': unit, 'systemd_managed': managed}
        return self._state

    def flag_sources(self):
        """[(description, argv)] of where dockerd's command-line flags come from."""
        state = self.state()
        sources = []
        if state['pid']:
            argv = read_cmdline(state['pid'])
            if argv:
                sources.append(('command line of dockerd pid %d' % state['pid'], argv))
        unit = state['unit']
        if unit and unit['exec_start'] and (state['systemd_managed'] or not state['pid']):
            sources.append(('ExecStart of docker.service', unit['exec_start']))
        return sources

    def refuse_flag_conflicts(self, keys, path):
        """Fail when one of the daemon.json keys is also a command-line flag: dockerd would refuse to start."""
        conflicts = flag_conflicts(keys, self.flag_sources())
        if conflicts:
            raise DockerdError(
                '%s: %s also given as dockerd command-line flags (%s); dockerd refuses to start with a key both '
                'in the file and on the command line: drop the flag or leave the key alone'
                % (path, ', '.join(sorted(conflicts)), ', '.join('%s: %s' % kv for kv in sorted(conflicts.items()))))

    def validate(self, data, path):
        """Run ``dockerd --validate`` on the bytes of a daemon.json when the installed dockerd has it (23+)."""
        dockerd = self.get_bin_path('dockerd')
        if not dockerd:
            return
        rc, out, err = self.run_command([dockerd, '--help'])
        if '--validate' not in out + err:
            return  # dockerd < 23 has no --validate: our own checks only
        fd, tmp = tempfile.mkstemp(prefix='daemon.', suffix='.json')
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(data)
            rc, out, err = self.run_command([dockerd, '--validate', '--config-file', tmp])
        finally:
            os.unlink(tmp)
        if rc != 0:
            raise DockerdError('%s: dockerd --validate refused the new configuration: %s' % (path, (err or out).strip()))

    def take(self, keys, config, apply='auto', path='daemon.json'):
        """Make the running daemon take a written daemon.json whose ``keys`` changed to ``config``'s values.

        apply: auto (reload; restart when a key cannot be reloaded), reload, restart, none.
        Returns dict(applied: reloaded|restarted|skipped|none, restarted, restart_reason).
        """
        result = {'applied': 'none', 'restarted': False, 'restart_reason': None}
        if apply == 'none' or not keys:
            return result
        state = self.state()
        if not state['pid']:
            self.warnings.append('no running dockerd found (pid_file %s, docker_host %s): the new configuration '
                                 'takes effect when dockerd starts' % (self.pid_file, self.docker_host))
            result['applied'] = 'skipped'
            return result
        restart_keys = needs_restart(keys)
        if apply == 'restart' or (apply == 'auto' and restart_keys):
            reason = ('apply=restart' if apply == 'restart' else
                      'changed keys that dockerd cannot reload: %s' % ', '.join(restart_keys))
            self._restart(state)
            result.update(applied='restarted', restarted=True, restart_reason=reason)
        else:
            if restart_keys:
                self.warnings.append('dockerd cannot reload %s: the change takes effect at the next restart'
                                     % ', '.join(restart_keys))
            self._reload(state)
            result['applied'] = 'reloaded'
        self.confirm(config, keys, path)
        return result

    def _reload(self, state):
        if state['systemd_managed']:
            rc, out, err = self.run_command([self.get_bin_path('systemctl'), 'reload', 'docker'])
            if rc != 0:
                raise DockerdError('systemctl reload docker failed: %s' % (err or out).strip())
        else:
            os.kill(state['pid'], signal.SIGHUP)

    def _restart(self, state):
        if self.restart_command:
            argv = self.restart_command
        elif state['systemd_managed']:
            argv = [self.get_bin_path('systemctl'), 'restart', 'docker']
        elif self._is_system_daemon(state['pid']) and os.path.exists('/etc/init.d/docker'):
            service = self.get_bin_path('service')
            argv = [service, 'docker', 'restart'] if service else ['/etc/init.d/docker', 'restart']
        else:
            raise DockerdError(
                'dockerd pid %d must be restarted for the change to take effect, but it is neither docker.service '
                'nor the init-script daemon; give restart_command, or apply=reload to restart it yourself later'
                % state['pid'])
        rc, out, err = self.run_command(argv)
        if rc != 0:
            raise DockerdError('restarting dockerd (%s) failed: %s' % (' '.join(argv), (err or out).strip()))
        old_pid = state['pid']
        deadline = time.monotonic() + self.restart_timeout
        while time.monotonic() < deadline:
            pid = find_daemon_pid(self.pid_file, self.docker_host)
            if pid and pid != old_pid and self.engine.answers():
                self._state = None
                return
            time.sleep(0.2)
        raise DockerdError('dockerd did not answer on %s within %d s after the restart'
                           % (self.docker_host, self.restart_timeout))

    def _is_system_daemon(self, pid):
        return self.docker_host == DEFAULT_DOCKER_HOST or socket_path(self.docker_host) == '/var/run/docker.sock' \
            or find_daemon_pid(DEFAULT_PID_FILE, DEFAULT_DOCKER_HOST) == pid

    def confirm(self, config, keys, path='daemon.json'):
        """Wait until GET /info shows config's insecure-registries / registry-mirrors (the keys among ``keys``)."""
        keys = [k for k in keys if k in CONFIRMED_KEYS]
        if not keys:
            return
        deadline = time.monotonic() + self.verify_timeout
        while True:
            try:
                diffs = engine_differences(config, keys, self.engine.info())
            except EngineError as exc:
                diffs = {'engine': str(exc)}
            if not diffs or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if diffs:
            raise DockerdError('%s was written but the engine at %s does not show it after %d s (see the dockerd '
                               'log): %s' % (path, self.docker_host, self.verify_timeout,
                                             json.dumps(diffs, sort_keys=True)))
