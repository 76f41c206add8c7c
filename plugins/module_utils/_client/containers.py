# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The containers runtime unit: Podman, Buildah, Skopeo and CRI-O (containers/image and its files).

The CA goes to ``/etc/containers/certs.d/<host:port>/ca.crt`` (and ``<host>/`` for port 443); plain
HTTP and Docker Hub mirrors go to drop-ins of our own in ``registries.conf.d`` (_registries_conf.py).
Podman, Buildah and Skopeo have no daemon and read these files on every command; a running CRI-O gets
SIGHUP after a drop-in changed. A login is stored in root's ``~/.config/containers/auth.json``: the
first file containers/image reads that survives a reboot (``/run/containers/0/auth.json``, read
before it, is a tmpfs that ``podman login`` writes by default) - verified by the runtime's own
``login`` before it is written. The check asks skopeo (or podman) for a manifest that is not there.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile

from ansible_collections.berth.registry.plugins.module_utils._certs_d import ca_paths
from ansible_collections.berth.registry.plugins.module_utils._client.base import ClientUnit, PlannedFile
from ansible_collections.berth.registry.plugins.module_utils._client.client_pair import ClientPairFiles, pairs_next_to
from ansible_collections.berth.registry.plugins.module_utils._client.checks import (
    CHECK_REFERENCE, classify_probe, tool_message,
)
from ansible_collections.berth.registry.plugins.module_utils._client.parts import AuthEntry, CaFiles
from ansible_collections.berth.registry.plugins.module_utils._docker_auth import parse_config, stored_username
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import read_file
from ansible_collections.berth.registry.plugins.module_utils._names import endpoint_text
from ansible_collections.berth.registry.plugins.module_utils._registries_conf import (
    MIRRORS_DROPIN, mirrors_dropin, registry_dropin, registry_dropin_name,
)

DEFAULT_CERTS_DIR = '/etc/containers/certs.d'
DEFAULT_REGISTRIES_D = '/etc/containers/registries.conf.d'
DEFAULT_AUTH_FILE = '/root/.config/containers/auth.json'
RUNTIME_AUTH_FILE = '/run/containers/0/auth.json'
LOGIN_TOOLS = ('skopeo', 'podman', 'buildah')


class ContainersRuntime(ClientUnit):
    """containers/image users on this host. system: _client/system.HostSystem."""

    name = 'containers'

    def __init__(self, writer, desired, system, certs_dir=DEFAULT_CERTS_DIR, registries_d=DEFAULT_REGISTRIES_D,
                 auth_path=DEFAULT_AUTH_FILE, runtime_auth_path=RUNTIME_AUTH_FILE):
        super(ContainersRuntime, self).__init__(writer)
        registry = desired.registry
        self.desired = desired
        self.system = system
        self.registries_d = registries_d
        self.runtime_auth_path = runtime_auth_path
        self.ca_files = CaFiles(writer, self.name, ca_paths(certs_dir, registry.host, registry.port),
                                'containers_certs_dir')
        self.client_pair = ClientPairFiles(writer, self.name, pairs_next_to(self.ca_files.paths), 'containers_certs_dir')
        self.auth = AuthEntry(writer, self.name, auth_path, 'containers_auth_file', registry.text, desired.login,
                              desired.absent)
        self.dropins = []
        self.reloaded = []
        self.login_tool = None
        self.notes = []

    # -- planning (read-only) -------------------------------------------------------------
    def plan(self, tracker):
        desired = self.desired
        self.ca_files.plan(tracker, desired)
        self.client_pair.plan(tracker, desired)
        insecure = desired.insecure and not desired.absent
        own = registry_dropin_name(desired.registry.text)
        self._plan_dropin(tracker, own, None if desired.absent else registry_dropin(
            desired.registry.text, insecure, [c.text for c in desired.caches]))
        if not insecure:
            # plain HTTP of the same host on another port goes too, as dockerd's insecure entries do
            host = registry_dropin_name(endpoint_text(desired.registry.host))[:-len('.conf')]
            pattern = re.compile(r'^%s(_[0-9]+)?\.conf$' % re.escape(host))
            try:
                names = sorted(os.listdir(self.registries_d))
            except OSError:
                names = []
            for name in names:
                if name != own and pattern.match(name):
                    self._plan_dropin(tracker, name, None)
        if not desired.absent or os.path.exists(os.path.join(self.registries_d, MIRRORS_DROPIN)):
            # (when the registry goes, other registries' mirrors are rewritten, never written anew)
            self._plan_dropin(tracker, MIRRORS_DROPIN, mirrors_dropin(desired.mirrors) if desired.mirrors else None)
        self.auth.plan(tracker)
        if desired.login and not desired.absent:
            self._warn_if_shadowed()

    def _plan_dropin(self, tracker, name, data):
        path = os.path.join(self.registries_d, name)
        planned = PlannedFile(self.writer, path, 'containers_registries_d', mode=0o644, text=True)
        field = 'containers registries.conf.d %s' % path
        if data is None:
            planned.plan_absent(tracker, field, planned.text)
        else:
            planned.plan(tracker, field, data.encode('utf-8'), planned.text, data, text=True)
        if planned.pending:
            self.dropins.append(planned)

    def _warn_if_shadowed(self):
        """A login in the tmpfs auth file (``podman login``'s default) is read first and would win until reboot."""
        try:
            config = parse_config(read_file(self.runtime_auth_path, 'containers_auth_file'), self.runtime_auth_path)
            user = stored_username(config, self.desired.registry.text, self.runtime_auth_path)
        except BerthError:
            return
        if user is not None:
            self.notes.append('%s holds a login for %s as %s, which Podman, Buildah and Skopeo read before %s until '
                              'the next reboot (or podman logout %s)' % (
                                  self.runtime_auth_path, self.desired.registry.text, user, self.auth.path,
                                  self.desired.registry.text))

    # -- acting -----------------------------------------------------------------------------
    def apply(self):
        self.client_pair.apply()  # first: a removed pair leaves the CA's directory empty, to be pruned with the CA
        self.ca_files.apply()
        for planned in self.dropins:
            planned.apply()
        self.auth.apply(self._login)
        if self.dropins:
            # CRI-O rereads registries.conf(.d) on SIGHUP; the others have no daemon
            self.reloaded = ['crio pid %d' % pid for pid in self.system.hangup('crio')]

    def _login(self):
        """Log in through the runtime's own tool into a throw-away auth file: proves the credentials and the
        trust (certs.d, registries.conf.d) as Podman will use them, before our auth.json is written."""
        tool = next((t for t in LOGIN_TOOLS if self.system.which(t)), None)
        if tool is None:
            self.notes.append('the login for %s was stored without verification: none of %s is installed'
                              % (self.desired.registry.text, ', '.join(LOGIN_TOOLS)))
            return
        login = self.desired.login
        scratch = tempfile.mkdtemp(prefix='berth-login-')
        try:
            argv = [self.system.which(tool), 'login', '--authfile', os.path.join(scratch, 'auth.json'),
                    '--username', login['username'], '--password-stdin', self.desired.registry.text]
            rc, out, err = self.system.run(argv, data=login['password'] + '\n')
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if rc != 0:
            raise BerthError('login to %s through %s login failed: %s'
                             % (self.desired.registry.text, tool, tool_message(out, err)))
        self.login_tool = tool

    def check(self):
        """Ask for a manifest that is not there, anonymously, through skopeo (else podman): containers/image
        with this host's certs.d and registries.conf(.d), without making the registry check a password."""
        if self.desired.absent:
            return None
        ref = '%s/%s' % (self.desired.registry.text, CHECK_REFERENCE)
        skopeo, podman = self.system.which('skopeo'), self.system.which('podman')
        scratch = None
        if skopeo:
            tool, argv = 'skopeo', [skopeo, 'inspect', '--raw', '--no-creds', 'docker://' + ref]
            env = None
        elif podman:
            scratch = tempfile.mkdtemp(prefix='berth-check-')
            empty = os.path.join(scratch, 'auth.json')
            with open(empty, 'w') as f:
                json.dump({'auths': {}}, f)
            tool, argv, env = 'podman', [podman, 'manifest', 'inspect', ref], {'REGISTRY_AUTH_FILE': empty}
        else:
            return None, 'containers: not checked (no skopeo or podman)'
        try:
            rc, out, err = self.system.run(argv, env=env)
        finally:
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
        message = tool_message(out, err)
        if classify_probe(rc, message):
            return True, 'reachable and trusted (%s: %s)' % (tool, message if rc else 'found')
        return False, '%s: %s' % (' '.join([tool] + argv[1:]), message)

    def facts(self):
        return {'containers': {
            'ca_paths': self.ca_files.paths,
            'client_certificate_paths': self.client_pair.paths() if self.desired.client_certificate else [],
            'registries_d': self.registries_d,
            'auth_file': self.auth.path,
            'login_verified_by': self.login_tool,
            'reloaded': self.reloaded,
        }}

    def state(self):
        return {'trusted': self.ca_files.trusted(), 'login': self.auth.state()}

    def warnings(self):
        return self.notes
