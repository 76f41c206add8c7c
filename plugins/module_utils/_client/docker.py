# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The docker runtime unit: the CA in dockerd's certs.d, insecure-registries / registry-mirrors in
daemon.json (one reload, never a restart), a login verified by the engine, and the engine check.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._certs_d import (
    DEFAULT_CERTS_DIR, ca_paths, fingerprints,
)
from ansible_collections.berth.registry.plugins.module_utils._client.base import ClientUnit, PlannedFile
from ansible_collections.berth.registry.plugins.module_utils._client.client_pair import ClientPairFiles, docker_pairs
from ansible_collections.berth.registry.plugins.module_utils._docker_auth import (
    DEFAULT_CONFIG_PATH, check_no_helper, format_config, has_auth, parse_config, stored_username, with_auth,
)
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._json_file import MAX_BYTES
from ansible_collections.berth.registry.plugins.module_utils._names import registry_endpoint

# Engine answers that prove the registry was reached over a trusted connection
# although no (valid) credentials were given.
_REACHABLE_WITHOUT_LOGIN = ('no basic auth credentials', 'unauthorized', '401')


def classify_auth(ok, message, with_credentials):
    """(passed, text) for the engine's /auth answer."""
    if ok:
        return True, 'reachable and trusted: %s' % message
    lowered = message.lower()
    if not with_credentials and any(s in lowered for s in _REACHABLE_WITHOUT_LOGIN):
        return True, 'reachable and trusted (anonymous: %s)' % message
    return False, message


def _host_of(entry):
    try:
        return registry_endpoint(entry)[0]
    except BerthError:  # a CIDR or something else that names no single host
        return None


class DockerRuntime(ClientUnit):
    """dockerd on this host. daemon_config: the DaemonConfigChange of its daemon.json and process;
    engine: the EngineClient of the same dockerd (login and check)."""

    name = 'docker'

    def __init__(self, writer, desired, engine, daemon_config, certs_dir=DEFAULT_CERTS_DIR,
                 auth_path=DEFAULT_CONFIG_PATH, apply='auto', validate=True):
        super(DockerRuntime, self).__init__(writer)
        self.desired = desired
        self.engine = engine
        self.daemon_config = daemon_config
        self.ca_paths = ca_paths(certs_dir, desired.registry.host, desired.registry.port)
        self.client_pair = ClientPairFiles(writer, self.name, docker_pairs(self.ca_paths), 'certs_dir')
        self.auth_path = auth_path
        self.apply_mode = apply
        self.validate = validate
        self.ca_files = []
        self.keys = []
        self.login_file = None
        self.logged_in = False
        self.applied = 'none'
        self.restarted = False

    # -- planning (read-only) -------------------------------------------------------------
    def plan(self, tracker):
        self._plan_ca(tracker)
        self.client_pair.plan(tracker, self.desired.client_certificate, self.desired.client_certificate_absent)
        self._plan_daemon_json(tracker)
        self._plan_login(tracker)

    def _plan_ca(self, tracker):
        if not self.desired.ca_certificates:
            return
        data = ''.join(self.desired.ca_certificates).encode('ascii')
        for path in self.ca_paths:
            planned = PlannedFile(self.writer, path, 'certs_dir', mode=0o644)
            if planned.plan(tracker, 'docker CA %s' % path, data, fingerprints(planned.current), fingerprints(data)):
                self.ca_files.append(planned)

    def _plan_daemon_json(self, tracker):
        registry = self.desired.registry
        merge, remove = {}, {}
        if self.desired.insecure:
            merge['insecure-registries'] = [registry.text]
        else:
            # Under TLS no insecure entry for this host may stay, whatever port plain HTTP used.
            current = self.daemon_config.load().get('insecure-registries')
            stale = [e for e in current if isinstance(e, str) and _host_of(e) == registry.host] \
                if isinstance(current, list) else []
            remove['insecure-registries'] = [registry.text] + [e for e in stale if e != registry.text]
        if self.desired.mirrors:
            merge['registry-mirrors'] = list(self.desired.mirrors)
        self.keys = self.daemon_config.plan(tracker, merge=merge, remove=remove, prefix='docker daemon.json ')
        self.applied = 'skipped' if self.keys and self.apply_mode != 'none' else 'none'

    def _plan_login(self, tracker):
        login = self.desired.login
        if not login:
            return
        registry, path = self.desired.registry.text, self.auth_path
        planned = PlannedFile(self.writer, path, 'login.config_path', mode=0o600, dir_mode=0o700, max_bytes=MAX_BYTES)
        config = parse_config(planned.current, path)
        check_no_helper(config, registry, path)
        if has_auth(config, registry, login['username'], login['password'], path):
            data = planned.current
        else:
            data = format_config(with_auth(config, registry, login['username'], login['password'], path)).encode()
        user = stored_username(config, registry, path)
        after = 'user %s' % login['username'] + (', new credentials' if user == login['username'] else '')
        if planned.plan(tracker, 'docker login %s in %s' % (registry, path), data,
                        None if user is None else 'user %s' % user, after):
            self.login_file = planned

    # -- acting -----------------------------------------------------------------------------
    def apply(self):
        for planned in self.ca_files:
            planned.apply()
        self.client_pair.apply()
        if self.keys:
            # only reloadable keys change here: auto means reload, and dockerd is never restarted
            outcome = self.daemon_config.apply(self.writer, 'reload' if self.apply_mode == 'auto' else self.apply_mode,
                                               self.validate)
            self.applied, self.restarted = outcome['applied'], outcome['restarted']
        if self.login_file is not None:
            if self.login_file.data is not None:
                self._login()
            self.login_file.apply()

    def _login(self):
        login = self.desired.login
        ok, message = self.engine.auth(self.desired.registry.text, login['username'], login['password'])
        if not ok:
            raise BerthError('login to %s through the engine at %s failed: %s'
                             % (self.desired.registry.text, self.engine.docker_host, message))
        self.logged_in = True

    def check(self):
        """Query the registry through the engine: anonymous on purpose, it proves reachability and TLS
        trust without making the registry verify a bcrypt hash on every run of every host;
        credentials are verified whenever a login is written."""
        if self.logged_in:
            return True, 'reachable and trusted: logged in as %s just now' % self.desired.login['username']
        ok, message = self.engine.auth(self.desired.registry.text, '', '')
        passed, text = classify_auth(ok, message, False)
        return passed, text if passed else '%s (through the engine at %s)' % (text, self.engine.docker_host)

    def facts(self):
        facts = {'ca_paths': self.ca_paths, 'applied': self.applied, 'restarted': self.restarted}
        if self.desired.client_certificate is not None:
            facts['client_certificate_paths'] = self.client_pair.paths()
        return facts

    def warnings(self):
        return self.daemon_config.warnings
