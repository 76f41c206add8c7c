# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The docker runtime unit: the CA in dockerd's certs.d, insecure-registries / registry-mirrors in
daemon.json (one reload, never a restart), a login verified by the engine, and the engine check.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._certs_d import DEFAULT_CERTS_DIR, ca_paths
from ansible_collections.berth.registry.plugins.module_utils._client.base import ClientUnit
from ansible_collections.berth.registry.plugins.module_utils._client.client_pair import ClientPairFiles, pairs_next_to
from ansible_collections.berth.registry.plugins.module_utils._client.parts import AuthEntry, CaFiles
from ansible_collections.berth.registry.plugins.module_utils._daemon_json import shown
from ansible_collections.berth.registry.plugins.module_utils._docker_auth import DEFAULT_CONFIG_PATH
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
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
        self.ca_files = CaFiles(writer, self.name, self.ca_paths, 'certs_dir')
        self.client_pair = ClientPairFiles(writer, self.name, pairs_next_to(self.ca_paths), 'certs_dir')
        self.auth = AuthEntry(writer, self.name, auth_path, 'login.config_path', desired.registry.text,
                              desired.login, desired.absent)
        self.apply_mode = apply
        self.validate = validate
        self.keys = []
        self.logged_in = False
        self.applied = 'none'
        self.restarted = False

    # -- planning (read-only) -------------------------------------------------------------
    def plan(self, tracker):
        self.ca_files.plan(tracker, self.desired)
        self.client_pair.plan(tracker, self.desired)
        self._plan_daemon_json(tracker)
        self.auth.plan(tracker)

    def _plan_daemon_json(self, tracker):
        registry, desired = self.desired.registry, self.desired
        merge, remove = {}, {}
        if desired.insecure and not desired.absent:
            merge['insecure-registries'] = [registry.text]
        else:
            # Under TLS (or when the registry goes) no insecure entry for this host may stay, whatever port
            # plain HTTP used.
            current = self.daemon_config.load().get('insecure-registries')
            stale = [e for e in current if isinstance(e, str) and _host_of(e) == registry.host] \
                if isinstance(current, list) else []
            remove['insecure-registries'] = [registry.text] + [e for e in stale if e != registry.text]
        if desired.mirrors and not desired.absent:  # other registries' mirrors are there already
            merge['registry-mirrors'] = list(desired.mirrors)
        if desired.stale_mirrors:
            remove['registry-mirrors'] = list(desired.stale_mirrors)
        self.keys = self.daemon_config.plan(tracker, merge=merge, remove=remove, prefix='docker daemon.json ')
        self.applied = 'skipped' if self.keys and self.apply_mode != 'none' else 'none'

    # -- acting -----------------------------------------------------------------------------
    def apply(self):
        self.client_pair.apply()  # first: a removed pair leaves the CA's directory empty, to be pruned with the CA
        self.ca_files.apply()
        if self.keys:
            # only reloadable keys change here: auto means reload, and dockerd is never restarted
            outcome = self.daemon_config.apply(self.writer, 'reload' if self.apply_mode == 'auto' else self.apply_mode,
                                               self.validate)
            self.applied, self.restarted = outcome['applied'], outcome['restarted']
        self.auth.apply(self._login)

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
        if self.desired.caches:
            # registry-mirrors is for Docker Hub only: dockerd has no mirror for any other registry
            facts['caches'] = 'not used by dockerd (it mirrors Docker Hub only): pull from %s/<repository> by its name' \
                % self.desired.caches[0].text
        return facts

    def state(self):
        after = self.daemon_config.daemon_json.after
        if after is None:  # not planned: the run failed before (daemon.json itself may be what failed)
            try:
                after = self.daemon_config.load()
            except BerthError:
                after = {}
        keys = dict((k, shown(after[k])) for k in ('insecure-registries', 'registry-mirrors') if k in after)
        return {'trusted': self.ca_files.trusted(), 'login': self.auth.state(), 'registry_keys': keys}

    def warnings(self):
        return self.daemon_config.warnings
