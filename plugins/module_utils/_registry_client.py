# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client-side trust rollout for one registry (module registry_client), in one pass.

Plan every part read-only into one Differences object (it decides `changed` and the
diff), then, outside check mode, act part by part: CA files, daemon.json (+ one reload),
hosts line, login; finally the optional check through the engine.
"""

from __future__ import annotations

import os

from ansible_collections.berth.registry.plugins.module_utils._atomic_file import read_bytes, write_atomic
from ansible_collections.berth.registry.plugins.module_utils._certs_d import (
    CertsDirError, ca_paths, fingerprint, normalize_pem, split_registry,
)
from ansible_collections.berth.registry.plugins.module_utils._daemon_config import DaemonConfigManager
from ansible_collections.berth.registry.plugins.module_utils._docker_auth import (
    check_no_helper, format_config as format_auth_config, has_auth, parse_config as parse_auth_config,
    stored_username, with_auth,
)
from ansible_collections.berth.registry.plugins.module_utils._hosts_file import (
    find_lines, plan_hosts, validate_entry, write_hosts,
)

# Engine answers that prove the registry was reached over a trusted connection
# although no (valid) credentials were given.
_REACHABLE_WITHOUT_LOGIN = ('no basic auth credentials', 'unauthorized', '401')


class RegistryClientError(Exception):
    pass


class Differences(object):
    """What differs per part; decides `changed` and builds the diff (metadata only)."""

    def __init__(self):
        self.parts = []

    def add(self, part, header, before, after):
        self.parts.append({'part': part, 'header': header, 'before': before, 'after': after})

    @property
    def changed(self):
        return bool(self.parts)

    @property
    def names(self):
        names = []
        for p in self.parts:
            if p['part'] not in names:
                names.append(p['part'])
        return names

    def diff(self):
        return [{'before_header': '%s: %s' % (p['part'], p['header']), 'after_header': '%s: %s' % (p['part'], p['header']),
                 'before': _text(p['before']), 'after': _text(p['after'])} for p in self.parts]


def _text(value):
    return '' if value is None else value + '\n'


def _host_of(entry):
    try:
        return split_registry(entry)[0]
    except CertsDirError:  # a CIDR or something else that names no single host
        return None


def classify_auth(ok, message, with_credentials):
    """(passed, text) for the engine's /auth answer."""
    if ok:
        return True, 'reachable and trusted: %s' % message
    lowered = message.lower()
    if not with_credentials and any(s in lowered for s in _REACHABLE_WITHOUT_LOGIN):
        return True, 'reachable and trusted (anonymous: %s)' % message
    return False, message


class RegistryClient(object):
    def __init__(self, params, run_command, get_bin_path, check_mode):
        self.p = params
        self.check_mode = check_mode
        self.registry = params['registry']
        self.differences = Differences()
        self.daemon = DaemonConfigManager(
            run_command, get_bin_path, path=params['daemon_config_path'], docker_host=params['docker_host'],
            pid_file=params['pid_file'], apply=params['apply'], validate=params['validate'])
        self.ca_writes = []
        self.hosts_plan = None
        self.login_plan = None
        self.ca_paths = ca_paths(params['certs_dir'], self.registry)

    # -- planning ---------------------------------------------------------------
    def plan(self):
        self._plan_ca()
        self._plan_daemon()
        self._plan_hosts()
        self._plan_login()
        return self.differences

    def _plan_ca(self):
        if self.p['ca_content'] is None:
            return
        pem = normalize_pem(self.p['ca_content'])
        data = pem.encode('utf-8')
        for path in self.ca_paths:
            current = read_bytes(path)
            if current != data:
                self.ca_writes.append((path, data))
                before = None if current is None else 'sha256 %s' % fingerprint(current.decode('utf-8', 'replace'))
                self.differences.add('ca', path, before, 'sha256 %s' % fingerprint(pem))

    def _plan_daemon(self):
        merge, remove = {}, {}
        if self.p['insecure']:
            merge['insecure-registries'] = [self.registry]
        else:
            # Under TLS no insecure entry for this host may stay, whatever port plain HTTP used.
            host = split_registry(self.registry)[0]
            current = self.daemon.load().get('insecure-registries')
            stale = [e for e in current if isinstance(e, str) and _host_of(e) == host] if isinstance(current, list) else []
            remove['insecure-registries'] = [self.registry] + stale
        if self.p['mirrors']:
            merge['registry-mirrors'] = list(self.p['mirrors'])
        self.daemon.plan(merge=merge, remove=remove)
        if self.daemon.changed:
            d = self.daemon.diff()
            self.differences.add('daemon.json', self.daemon.path, d['before'].rstrip('\n') or None,
                                 d['after'].rstrip('\n'))

    def _plan_hosts(self):
        entry = self.p['hosts_entry']
        if not entry:
            return
        validate_entry(entry['hostname'], entry['address'])
        path = self.p['hosts_path']
        data = read_bytes(path)
        text = '' if data is None else data.decode('utf-8')
        new, before, after = plan_hosts(text, entry['hostname'], entry['address'])
        if new != text:
            self.hosts_plan = (path, new.encode('utf-8'))
            old_lines = find_lines(text, entry['hostname'])
            self.differences.add('hosts', path, '\n'.join(old_lines) if old_lines else before, after)

    def _plan_login(self):
        login = self.p['login']
        if not login:
            return
        path = login['config_path']
        config = parse_auth_config(read_bytes(path), path)
        check_no_helper(config, self.registry, path)
        if has_auth(config, self.registry, login['username'], login['password']):
            return
        self.login_plan = (path, with_auth(config, self.registry, login['username'], login['password']))
        before = stored_username(config, self.registry)
        self.differences.add('login', '%s auths[%s]' % (path, self.registry),
                             None if before is None else 'user %s' % before, 'user %s' % login['username'])

    # -- acting -------------------------------------------------------------------
    def apply(self):
        result = {'applied': 'none', 'restarted': False}
        for path, data in self.ca_writes:
            directory = os.path.dirname(path)
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
                os.chmod(directory, 0o755)
            write_atomic(path, data, 0o644)
        if self.daemon.changed:
            self.daemon.write()
            applied = self.daemon.apply_change()
            if applied['restarted']:  # only insecure-registries / registry-mirrors change here: both reloadable
                raise RegistryClientError('unexpected dockerd restart: %s' % applied['restart_reason'])
            result.update(applied)
        if self.hosts_plan:
            write_hosts(*self.hosts_plan)
        if self.login_plan:
            self._login()
        return result

    def _login(self):
        login = self.p['login']
        ok, message = self.daemon.engine.auth(self.registry, login['username'], login['password'])
        if not ok:
            raise RegistryClientError('login to %s through the engine at %s failed: %s'
                                      % (self.registry, self.p['docker_host'], message))
        path, config = self.login_plan
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
            os.chmod(directory, 0o700)
        write_atomic(path, format_auth_config(config).encode('utf-8'), 0o600)

    def check(self):
        """Query the registry through the engine. Returns (passed, text)."""
        if self.check_mode and self.differences.changed:
            return True, ('not checked in check mode: pending changes (%s) would change the result'
                          % ', '.join(self.differences.names))
        if self.login_plan and not self.check_mode:
            return True, 'reachable and trusted: logged in as %s just now' % self.p['login']['username']
        # Anonymous on purpose: it proves reachability and TLS trust without making the registry verify a
        # bcrypt hash on every run of every host; credentials are verified whenever a login is written.
        ok, message = self.daemon.engine.auth(self.registry, '', '')
        return classify_auth(ok, message, False)
