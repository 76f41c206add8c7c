# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dockerd's daemon.json: which keys change how (merge/remove/settings), what is valid, which
keys dockerd reloads, which are also command-line flags — and ``DaemonJson``, the plan and the
write of one file that owns only the keys it is given.

Pure functions first (unit-tested without Ansible). Making the running dockerd take the file is
_dockerd.py's concern.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
from urllib.parse import urlsplit

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._json_file import check_json_value, read_json_object
from ansible_collections.berth.registry.plugins.module_utils._names import redact_userinfo, registry_endpoint

DEFAULT_PATH = '/etc/docker/daemon.json'

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


class DaemonConfigError(BerthError):
    """daemon.json cannot be read back, or the change asked for is not valid."""


def format_config(config):
    """The file text: 2-space indent, key order as in the dict, trailing newline."""
    return json.dumps(config, indent=2, ensure_ascii=False, allow_nan=False) + '\n'


def owned_keys(merge=None, remove=None, settings=None):
    """The keys a change owns, in the order given (settings, merge, remove)."""
    keys = []
    for key in list(settings or {}) + list(merge or {}) + list(remove or {}):
        if key not in keys:
            keys.append(key)
    return keys


def _check_key_sets(merge, remove, settings):
    for name, spec in (('merge', merge), ('remove', remove)):
        for key, entries in spec.items():
            if not isinstance(entries, list):
                raise DaemonConfigError('%s.%s must be a list of entries, got %r' % (name, key, redact_userinfo(entries)))
    overlap = set(settings) & (set(merge) | set(remove))
    if overlap:
        raise DaemonConfigError('%s given both in settings and in merge/remove: give each key once'
                                % ', '.join(sorted(overlap)))
    for key in set(merge) & set(remove):
        both = [e for e in merge[key] if e in remove[key]]
        if both:
            raise DaemonConfigError('%s: entries %s are both merged and removed'
                                    % (key, ', '.join(redact_userinfo(str(e)) for e in both)))
    for key, value in settings.items():
        check_json_value(value, 'settings.%s' % key, DaemonConfigError)


def compute_config(current, merge=None, remove=None, settings=None, path='daemon.json'):
    """New config dict from the current one (read from path). Only the given keys are touched.

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
            raise DaemonConfigError('%s: %s holds %r, not a list: cannot merge/remove entries'
                                    % (path, key, redact_userinfo(existing)))
        result = list(existing)
        for entry in merge.get(key, []):
            if entry not in result:
                result.append(entry)
        drop = remove.get(key, [])
        result = [e for e in result if e not in drop]
        if key in new or key in merge:  # removing from an absent key writes nothing
            new[key] = result
    return new


def changed_keys(before, after, keys):
    """Those of keys whose value (or presence) differs between before and after."""
    return [k for k in keys if (k in before) != (k in after) or before.get(k) != after.get(k)]


def validate_insecure_registry(entry, option='insecure-registries entry'):
    """None, or what is wrong with an insecure-registries entry: host[:port] or a CIDR."""
    if '/' in entry and '://' not in entry:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            return '%s: %r is not a valid CIDR: %s' % (option, entry, exc)
        return None
    try:
        registry_endpoint(entry, option)
    except BerthError as exc:
        return str(exc)
    return None


def validate_mirror(entry, option='registry-mirrors entry'):
    """None, or what is wrong with a mirror URL. The URL is never echoed with its user:password."""
    shown = redact_userinfo(entry)
    try:
        parts = urlsplit(entry)
    except ValueError:
        return '%s: %r is not an http(s):// URL' % (option, shown)
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        return '%s: %r is not an http(s):// URL' % (option, shown)
    if '@' in parts.netloc:
        return '%s: %r must not contain credentials (user:password@); dockerd refuses them' % (option, shown)
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        return '%s: %r must not have a path, query or fragment (dockerd refuses them)' % (option, shown)
    try:
        registry_endpoint(parts.netloc, option)
    except BerthError as exc:
        return str(exc)
    return None


_ENTRY_VALIDATORS = {
    'insecure-registries': validate_insecure_registry,
    'allow-nondistributable-artifacts': validate_insecure_registry,
    'registry-mirrors': validate_mirror,
}


def validate_config(config, keys):
    """Own checks on the given keys of the resulting config. Returns a list of problems."""
    problems = []
    for key in keys:
        if key not in config:
            continue
        value = config[key]
        if key in STRING_LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append('%s must be a list of strings, got %r' % (key, redact_userinfo(value)))
                continue
            check = _ENTRY_VALIDATORS.get(key)
            for entry in value if check else []:
                problem = check(entry, '%s entry' % key)
                if problem:
                    problems.append(problem)
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


def shown(value):
    """A value as results and diffs show it: every URL's user:password replaced by ***."""
    if isinstance(value, dict):
        return dict((k, shown(v)) for k, v in value.items())
    if isinstance(value, list):
        return [shown(v) for v in value]
    return redact_userinfo(value)


class DaemonJson(object):
    """One daemon.json: read once, plan a change of the given keys only, write it.

    Nothing but the owned keys is compared, reported or changed: every other key keeps its value
    and position, and never shows in a result or a diff.
    """

    def __init__(self, path=DEFAULT_PATH, option='path'):
        self.path = path
        self.option = option
        self._before = None
        self.exists = False
        self.after = None
        self.owned = []
        self.keys = []

    def load(self):
        """The current configuration (read and parsed once; a missing file is {})."""
        if self._before is None:
            self._before, self.exists = read_json_object(self.path, self.option, DaemonConfigError)
        return self._before

    def plan(self, tracker, merge=None, remove=None, settings=None, prefix=''):
        """Record in tracker each owned key whose value changes (field ``prefix + key``). Returns those keys."""
        before = self.load()
        self.after = compute_config(before, merge, remove, settings, self.path)
        self.owned = owned_keys(merge, remove, settings)
        problems = validate_config(self.after, self.owned)
        if problems:
            raise DaemonConfigError('%s: invalid configuration: %s' % (self.path, '; '.join(problems)))
        self.keys = changed_keys(before, self.after, self.owned)
        for key in self.keys:
            tracker.add(prefix + key, shown(before.get(key)), shown(self.after.get(key)))
        return self.keys

    def managed(self):
        """The owned keys with their resulting values (as shown: no URL credentials)."""
        return dict((k, shown(self.after[k])) for k in self.owned if k in self.after)

    @property
    def data(self):
        return format_config(self.after).encode('utf-8')

    def write(self, writer, backup=False):
        """Write the planned configuration (FileWriter); a new file is 0644, an existing one keeps its mode.

        Returns the backup path (or None).
        """
        directory = os.path.dirname(os.path.abspath(self.path))
        if not self.exists and not os.path.isdir(directory):
            writer.ensure_directory(directory, 0o755)
        args = writer.attrs(self.path, mode=None if self.exists else 0o644)
        return writer.write(args, self.data, backup=backup)
