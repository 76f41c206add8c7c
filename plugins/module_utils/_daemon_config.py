# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Manage keys of dockerd's daemon.json and make the running daemon take them.

Pure functions (parse, merge/remove/settings, validation, formatting, flag
conflicts) come first and are unit-tested; DaemonConfigManager does the I/O.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import time
from urllib.parse import urlsplit

from ansible_collections.berth.registry.plugins.module_utils._atomic_file import read_bytes, write_atomic
from ansible_collections.berth.registry.plugins.module_utils._docker_engine import (
    DEFAULT_DOCKER_HOST, DEFAULT_PID_FILE, EngineClient, EngineError, find_daemon_pid, read_cmdline,
    socket_path, systemd_docker_unit,
)
from ansible_collections.berth.registry.plugins.module_utils._json_file import parse_json_object

DEFAULT_PATH = '/etc/docker/daemon.json'
APPLY_CHOICES = ['auto', 'reload', 'restart', 'none']

# Keys dockerd applies on SIGHUP (dockerd reference, "Configuration reload behavior", plus the
# platform ones of daemon/reload_unix.go in 20.10). Any other changed key needs a restart.
RELOADABLE_KEYS = frozenset([
    'debug', 'labels', 'live-restore', 'max-concurrent-downloads', 'max-concurrent-uploads',
    'max-download-attempts', 'default-runtime', 'runtimes', 'authorization-plugins',
    'allow-nondistributable-artifacts', 'insecure-registries', 'registry-mirrors', 'shutdown-timeout',
    'features', 'default-shm-size', 'default-ipc-mode', 'default-cgroupns-mode',
])

# daemon.json keys whose value is a list of strings.
STRING_LIST_KEYS = frozenset([
    'insecure-registries', 'registry-mirrors', 'allow-nondistributable-artifacts', 'labels', 'dns',
    'dns-opts', 'dns-search', 'exec-opts', 'storage-opts', 'authorization-plugins', 'hosts',
    'node-generic-resources', 'cluster-store-opts',
])

# dockerd command-line flags whose daemon.json key has another name.
FLAG_TO_KEY = {
    'insecure-registry': 'insecure-registries', 'registry-mirror': 'registry-mirrors', 'label': 'labels',
    'dns-opt': 'dns-opts', 'exec-opt': 'exec-opts', 'storage-opt': 'storage-opts', 'log-opt': 'log-opts',
    'host': 'hosts', 'add-runtime': 'runtimes', 'authorization-plugin': 'authorization-plugins',
    'default-ulimit': 'default-ulimits', 'default-address-pool': 'default-address-pools',
    'node-generic-resource': 'node-generic-resources', 'cluster-store-opt': 'cluster-store-opts',
}
SHORT_FLAG_TO_KEY = {'H': 'hosts', 'D': 'debug', 'l': 'log-level', 'G': 'group', 'b': 'bridge', 'p': 'pidfile',
                     's': 'storage-driver', 'g': 'graph'}
NOT_CONFIG_FLAGS = frozenset(['config-file', 'validate', 'version', 'help'])

_HOST_LABEL = r'[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
_HOSTPORT = re.compile(r'^(%s(\.%s)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$' % (_HOST_LABEL, _HOST_LABEL))


class DaemonConfigError(Exception):
    pass


def parse_config(data, path):
    """Bytes of daemon.json -> dict (key order kept). None/empty file -> {}."""
    return parse_json_object(data, path, DaemonConfigError)


def format_config(config):
    """The file text: 2-space indent, key order as in the dict, trailing newline."""
    return json.dumps(config, indent=2, ensure_ascii=False) + '\n'


def _check_key_sets(merge, remove, settings):
    overlap = set(settings) & (set(merge) | set(remove))
    if overlap:
        raise DaemonConfigError('keys %s are given both in settings and in merge/remove: give each key once'
                                % ', '.join(sorted(overlap)))
    for key in set(merge) & set(remove):
        both = set(merge[key]) & set(remove[key])
        if both:
            raise DaemonConfigError('%s: entries %s are both merged and removed' % (key, ', '.join(sorted(both))))
    for name, spec in (('merge', merge), ('remove', remove)):
        for key, entries in spec.items():
            if not isinstance(entries, list):
                raise DaemonConfigError('%s.%s must be a list of entries, got %r' % (name, key, entries))


def compute_config(current, merge=None, remove=None, settings=None):
    """New config dict from the current one. Only the given keys are touched.

    settings: key -> exact JSON value. merge: key -> entries appended if missing (order kept).
    remove: key -> entries dropped; a list that becomes empty stays as [] (dockerd keeps a
    deleted key's old value on reload, [] clears it).
    """
    merge = merge or {}
    remove = remove or {}
    settings = settings or {}
    _check_key_sets(merge, remove, settings)
    new = copy.deepcopy(current)
    for key, value in settings.items():
        new[key] = copy.deepcopy(value)
    for key in list(merge) + [k for k in remove if k not in merge]:
        existing = new.get(key)
        if existing is None:
            existing = []
        if not isinstance(existing, list):
            raise DaemonConfigError('%s holds %r, not a list: cannot merge/remove entries' % (key, existing))
        result = list(existing)
        for entry in merge.get(key, []):
            if entry not in result:
                result.append(entry)
        drop = remove.get(key, [])
        result = [e for e in result if e not in drop]
        if key in new or key in merge:  # removing from an absent key writes nothing
            new[key] = result
    return new


def changed_keys(before, after):
    keys = [k for k in after if k not in before or before[k] != after[k]]
    keys += [k for k in before if k not in after]
    return keys


def validate_insecure_registry(entry):
    if '://' in entry:
        return 'must not contain a scheme (%r): give host[:port] or a CIDR' % entry
    if '/' in entry:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as e:
            return 'is not a valid CIDR: %s' % e
        return None
    if not _HOSTPORT.match(entry) or not _port_ok(entry):
        return 'is not host[:port] or a CIDR'
    return None


def validate_registry_name(entry):
    if '://' in entry or '/' in entry or not _HOSTPORT.match(entry) or not _port_ok(entry):
        return 'is not host[:port] (e.g. registry.example.com:5000)'
    return None


def _port_ok(entry):
    port = entry.rsplit(':', 1)[1] if re.search(r':[0-9]+$', entry) and not entry.endswith(']') else None
    return port is None or 0 < int(port) < 65536


def validate_mirror(entry):
    parts = urlsplit(entry)
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        return 'is not an http(s):// URL'
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        return 'must not have a path, query or fragment (dockerd refuses them)'
    if '@' in parts.netloc:
        return 'must not contain credentials'
    return None


_ENTRY_VALIDATORS = {
    'insecure-registries': validate_insecure_registry,
    'allow-nondistributable-artifacts': validate_insecure_registry,
    'registry-mirrors': validate_mirror,
}


def validate_config(config, keys):
    """Own checks on the given keys of the resulting config. Returns a list of problems."""
    problems = []
    if not isinstance(config, dict):
        return ['the configuration must be a JSON object']
    for key in keys:
        if key not in config:
            continue
        value = config[key]
        if key in STRING_LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append('%s must be a list of strings, got %r' % (key, value))
                continue
            check = _ENTRY_VALIDATORS.get(key)
            for entry in value if check else []:
                problem = check(entry)
                if problem:
                    problems.append('%s entry %r %s' % (key, entry, problem))
    return problems


def flag_keys(argv):
    """daemon.json keys set by dockerd command-line flags in argv."""
    keys = set()
    for arg in argv[1:]:
        if arg.startswith('--'):
            name = arg[2:].split('=', 1)[0]
            if not name or name in NOT_CONFIG_FLAGS:
                continue
            keys.add(FLAG_TO_KEY.get(name, name))
        elif arg.startswith('-') and len(arg) > 1 and arg[1] in SHORT_FLAG_TO_KEY:
            keys.add(SHORT_FLAG_TO_KEY[arg[1]])
    return keys


def flag_conflicts(keys, argvs):
    """Which of keys are also given as flags: {key: 'source'}."""
    conflicts = {}
    for source, argv in argvs:
        for key in sorted(set(keys) & flag_keys(argv)):
            conflicts.setdefault(key, source)
    return conflicts


def needs_restart(keys):
    return sorted(k for k in keys if k not in RELOADABLE_KEYS)


def _norm_mirror(url):
    return url.rstrip('/')


def engine_registry_state(info):
    """(insecure set, mirrors list) as the engine reports them in GET /info."""
    reg = info.get('RegistryConfig') or {}
    insecure = set()
    for cidr in reg.get('InsecureRegistryCIDRs') or []:
        insecure.add(cidr)
    for name, index in (reg.get('IndexConfigs') or {}).items():
        if not index.get('Secure', True):
            insecure.add(name)
    mirrors = [_norm_mirror(m) for m in reg.get('Mirrors') or []]
    return insecure, mirrors


def _norm_insecure(entry):
    if '/' in entry:
        try:
            return str(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            return entry
    return entry


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


class DaemonConfigManager(object):
    """Plan, write and apply a daemon.json change; one instance per module run.

    run_command(argv) -> (rc, out, err); get_bin_path(name) -> path or None.
    """

    def __init__(self, run_command, get_bin_path, path=DEFAULT_PATH, docker_host=DEFAULT_DOCKER_HOST,
                 pid_file=DEFAULT_PID_FILE, apply='auto', validate=True, backup=False, restart_command=None,
                 verify_timeout=15, restart_timeout=90):
        self.run_command = run_command
        self.get_bin_path = get_bin_path
        self.path = path
        self.docker_host = docker_host
        self.pid_file = pid_file
        self.apply = apply
        self.validate = validate
        self.backup = backup
        self.restart_command = restart_command
        self.verify_timeout = verify_timeout
        self.restart_timeout = restart_timeout
        self.engine = EngineClient(docker_host)
        self.warnings = []
        self.before_bytes = None
        self.before = None
        self.after = None
        self.keys = []
        self._daemon = None

    # -- planning (read-only) ------------------------------------------------
    def load(self):
        """The current configuration (read and parsed once)."""
        if self.before is None:
            self.before_bytes = read_bytes(self.path)
            self.before = parse_config(self.before_bytes, self.path)
        return self.before

    def plan(self, merge=None, remove=None, settings=None):
        self.load()
        self.after = compute_config(self.before, merge, remove, settings)
        self.keys = changed_keys(self.before, self.after)
        owned = list(settings or {}) + list(merge or {}) + [k for k in (remove or {}) if k not in (merge or {})]
        problems = validate_config(self.after, owned)
        if problems:
            raise DaemonConfigError('%s: invalid configuration: %s' % (self.path, '; '.join(problems)))
        if self.keys:
            conflicts = flag_conflicts(self.keys, self._flag_sources())
            if conflicts:
                raise DaemonConfigError(
                    '%s: %s also given as dockerd command-line flags (%s); dockerd refuses to start with a key both '
                    'in the file and on the command line: drop the flag or leave the key alone'
                    % (self.path, ', '.join(sorted(conflicts)),
                       ', '.join('%s: %s' % (k, v) for k, v in sorted(conflicts.items()))))
        return self.changed

    @property
    def changed(self):
        return bool(self.keys)

    @property
    def after_text(self):
        return format_config(self.after)

    def _daemon_state(self):
        if self._daemon is None:
            pid = find_daemon_pid(self.pid_file, self.docker_host)
            unit = systemd_docker_unit(self.run_command, self.get_bin_path('systemctl'))
            managed = bool(unit and unit['active'] and pid and unit['main_pid'] == pid)
            self._daemon = {'pid': pid, 'unit': unit, 'systemd_managed': managed}
        return self._daemon

    def _flag_sources(self):
        state = self._daemon_state()
        sources = []
        if state['pid']:
            argv = read_cmdline(state['pid'])
            if argv:
                sources.append(('command line of dockerd pid %d' % state['pid'], argv))
        unit = state['unit']
        if unit and unit['exec_start'] and (state['systemd_managed'] or not state['pid']):
            sources.append(('ExecStart of docker.service', unit['exec_start']))
        return sources

    def diff(self):
        before = format_config(self.before) if self.before_bytes is not None else ''
        return {'before_header': self.path, 'after_header': self.path, 'before': before, 'after': self.after_text}

    # -- acting ---------------------------------------------------------------
    def write(self):
        """Validate with dockerd when it can, back up on request, write atomically. Returns backup path."""
        data = self.after_text.encode('utf-8')
        if self.validate:
            self._dockerd_validate(data)
        backup_file = None
        mode = 0o644
        if self.before_bytes is not None:
            mode = stat.S_IMODE(os.stat(self.path).st_mode)
            if self.backup:
                backup_file = '%s.%s~' % (self.path, time.strftime('%Y-%m-%d@%H:%M:%S'))
                shutil.copy2(self.path, backup_file)
        else:
            directory = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
        write_atomic(self.path, data, mode)
        return backup_file

    def _dockerd_validate(self, data):
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
            raise DaemonConfigError('%s: dockerd --validate refused the new configuration: %s'
                                    % (self.path, (err or out).strip()))

    def apply_change(self):
        """Make the running daemon take the written file. Returns dict(applied, restarted, restart_reason)."""
        result = {'applied': 'none', 'restarted': False, 'restart_reason': None}
        if self.apply == 'none':
            return result
        state = self._daemon_state()
        if not state['pid']:
            self.warnings.append('no running dockerd found (pid_file %s, docker_host %s): the new configuration '
                                 'takes effect when dockerd starts' % (self.pid_file, self.docker_host))
            result['applied'] = 'skipped'
            return result
        restart_keys = needs_restart(self.keys)
        if self.apply == 'restart' or (self.apply == 'auto' and restart_keys):
            reason = ('apply=restart' if self.apply == 'restart' else
                      'changed keys that dockerd cannot reload: %s' % ', '.join(restart_keys))
            self._restart(state)
            result.update(applied='restarted', restarted=True, restart_reason=reason)
        else:
            if restart_keys:
                self.warnings.append('dockerd cannot reload %s: the change takes effect at the next restart'
                                     % ', '.join(restart_keys))
            self._reload(state)
            result['applied'] = 'reloaded'
        self._verify()
        return result

    def _reload(self, state):
        if state['systemd_managed']:
            rc, out, err = self.run_command([self.get_bin_path('systemctl'), 'reload', 'docker'])
            if rc != 0:
                raise DaemonConfigError('systemctl reload docker failed: %s' % (err or out).strip())
        else:
            os.kill(state['pid'], signal.SIGHUP)

    def _restart(self, state):
        if self.restart_command:
            argv = list(self.restart_command)
        elif state['systemd_managed']:
            argv = [self.get_bin_path('systemctl'), 'restart', 'docker']
        elif self._is_system_daemon(state['pid']) and os.path.exists('/etc/init.d/docker'):
            service = self.get_bin_path('service')
            argv = [service, 'docker', 'restart'] if service else ['/etc/init.d/docker', 'restart']
        else:
            raise DaemonConfigError(
                'dockerd pid %d must be restarted for the change to take effect, but it is neither docker.service '
                'nor the init-script daemon; give restart_command, or apply=reload to restart it yourself later'
                % state['pid'])
        rc, out, err = self.run_command(argv)
        if rc != 0:
            raise DaemonConfigError('restarting dockerd (%s) failed: %s' % (' '.join(argv), (err or out).strip()))
        old_pid = state['pid']
        deadline = time.monotonic() + self.restart_timeout
        while time.monotonic() < deadline:
            pid = find_daemon_pid(self.pid_file, self.docker_host)
            if pid and pid != old_pid and self.engine.answers():
                self._daemon = None
                return
            time.sleep(0.2)
        raise DaemonConfigError('dockerd did not answer on %s within %d s after the restart'
                                % (self.docker_host, self.restart_timeout))

    def _is_system_daemon(self, pid):
        return self.docker_host == DEFAULT_DOCKER_HOST or socket_path(self.docker_host) == '/var/run/docker.sock' \
            or find_daemon_pid(DEFAULT_PID_FILE, DEFAULT_DOCKER_HOST) == pid

    def _verify(self):
        keys = [k for k in self.keys if k in ('insecure-registries', 'registry-mirrors')]
        if not keys:
            return
        deadline = time.monotonic() + self.verify_timeout
        diffs = None
        while True:
            try:
                diffs = engine_differences(self.after, keys, self.engine.info())
            except EngineError as e:
                diffs = {'engine': str(e)}
            if not diffs or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if diffs:
            raise DaemonConfigError('%s was written but the engine at %s does not show it after %d s (see the dockerd '
                                    'log): %s' % (self.path, self.docker_host, self.verify_timeout,
                                                  json.dumps(diffs, sort_keys=True)))
