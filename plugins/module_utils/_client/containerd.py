# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The containerd runtime unit: a hosts.toml (and the CA it names) per registry directory under the
CRI's config_path, Docker Hub mirrors in docker.io/hosts.toml, config_path ensured in config.toml,
one restart when config.toml had to change, and a check through ``ctr``.

hosts.toml and CA files are read on every pull: they never need a restart. config.toml is read at
start only, so containerd is restarted exactly when this run changed config_path (or moved legacy
settings out), and only if it is running - never on a rerun. Which containerd this unit may touch
at all is detect.py's decision. containerd keeps no credentials: the kubelet passes them per pull
(imagePullSecrets) and ``ctr`` takes ``--user``.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os
import re

from ansible_collections.berth.registry.plugins.module_utils._certs_d import CA_FILE, dir_names
from ansible_collections.berth.registry.plugins.module_utils._client.base import ClientUnit, PlannedFile
from ansible_collections.berth.registry.plugins.module_utils._client.client_pair import ClientPairFiles, pairs_next_to
from ansible_collections.berth.registry.plugins.module_utils._client.checks import (
    CHECK_REFERENCE, classify_probe, tool_message,
)
from ansible_collections.berth.registry.plugins.module_utils._client.detect import socket_answers
from ansible_collections.berth.registry.plugins.module_utils._client.parts import CaFiles
from ansible_collections.berth.registry.plugins.module_utils._containerd_config import (
    DEFAULT_CONFIG, DOCKER_HUB, configured_hosts_dir, is_empty, plan_config, version_for_binary,
)
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._hosts_toml import (
    HOSTS_FILE, is_ours, mirror_url, mirrors_hosts_toml, registry_hosts_toml,
)
from ansible_collections.berth.registry.plugins.module_utils._names import endpoint_text, registry_endpoint


def _same_endpoint(url, registry):
    try:
        host, port = registry_endpoint(url.split('://', 1)[-1].rstrip('/'), 'mirrors')
    except BerthError:
        return False
    default = 443 if url.startswith('https://') else 80
    return host == registry.host and (port or default) == (registry.port or 443)


class ContainerdRuntime(ClientUnit):
    """containerd on this host. system: _client/system.HostSystem. hosts_dir None: the first directory of an
    existing config_path, else /etc/containerd/certs.d. restart False: never restart (a warning says so)."""

    name = 'containerd'

    def __init__(self, writer, desired, system, config=DEFAULT_CONFIG, hosts_dir=None, migrate=False, restart=True):
        super(ContainerdRuntime, self).__init__(writer)
        self.desired = desired
        self.system = system
        self.config = config
        self.hosts_dir_option = hosts_dir
        self.migrate = migrate
        self.restart_allowed = restart
        self.hosts_dir = hosts_dir
        self.config_plan = None
        self.config_file = None
        self.ca_files = None
        self.client_pair = None
        self.files = []
        self.restart = 'not needed'
        self.restart_command = None
        self.notes = []

    # -- planning (read-only) -------------------------------------------------------------
    def plan(self, tracker):
        config = PlannedFile(self.writer, self.config, 'containerd_config', text=True)
        if self.desired.absent:
            self.hosts_dir = self.hosts_dir_option or configured_hosts_dir(config.text, self.config)
        else:
            self._plan_config(tracker, config)
        registry = self.desired.registry
        names = dir_names(registry.host, registry.port)
        ca_paths = [os.path.join(self.hosts_dir, name, CA_FILE) for name in names]
        self.ca_files = CaFiles(self.writer, self.name, ca_paths, 'containerd_certs_dir')
        self.ca_files.plan(tracker, self.desired)
        self.client_pair = ClientPairFiles(self.writer, self.name, pairs_next_to(ca_paths), 'containerd_certs_dir')
        self.client_pair.plan(tracker, self.desired)
        presented = self.client_pair.presented(self.desired)
        trust_ca = bool(self.desired.ca_certificates) and not self.desired.insecure
        caches = self._caches()
        for name, ca_path, pair in zip(names, ca_paths, presented):
            data = None if self.desired.absent else registry_hosts_toml(
                endpoint_text(registry.host, registry.port), self.desired.insecure, ca_path if trust_ca else None,
                client_pair=None if self.desired.insecure else pair, caches=caches)
            self._plan_hosts_file(tracker, name, data)
        if not self.desired.insecure or self.desired.absent:
            for name in self._stale_plain_http(names):
                self._plan_hosts_file(tracker, name, None)
        self._plan_mirrors(tracker, ca_paths[0] if trust_ca else None)
        for namespace, text in sorted(((self.config_plan.migrated if self.config_plan else None) or {}).items()):
            if namespace == DOCKER_HUB and self.desired.mirrors:
                raise BerthError('%s: the legacy mirrors."docker.io" cannot be moved to %s: this module writes Docker '
                                 'Hub mirrors there; give them in mirrors instead; the file was left as it was'
                                 % (self.config, os.path.join(self.hosts_dir, DOCKER_HUB, HOSTS_FILE)))
            self._plan_migrated(tracker, namespace, text)

    def _caches(self):
        """[(endpoint, CA file or None)] of the registry's pull-through caches: each trusted with the CA file its own
        registry_client run installed in its directory here (without one, the system roots; containerd then skips
        a cache it cannot verify and pulls from the registry itself)."""
        caches = []
        for cache in self.desired.caches:
            candidates = [os.path.join(self.hosts_dir, name, CA_FILE) for name in dir_names(cache.host, cache.port)]
            ca_path = next((path for path in candidates if os.path.isfile(path)), None)
            if ca_path is None:
                self.notes.append('no CA for the cache %s in %s yet (configure the cache as a registry on this host '
                                  'first): containerd trusts it with the system roots until then'
                                  % (cache.text, candidates[0]))
            caches.append((cache.text, ca_path))
        return caches

    def _new_version(self):
        containerd = self.system.which('containerd')
        if not containerd:
            return 2
        dummy, out, err = self.system.run([containerd, '--version'], timeout=10)
        return version_for_binary(out or err)

    def _plan_config(self, tracker, config):
        new_version = self._new_version() if is_empty(config.text, self.config) else 2
        own = dir_names(self.desired.registry.host, self.desired.registry.port)
        plan = plan_config(config.text, self.config, self.hosts_dir_option, new_version, self.migrate, own)
        self.config_plan, self.hosts_dir = plan, plan.hosts_dir
        if plan.text is None:
            return
        before = None if config.current is None else {'config_path': plan.before}
        if before is not None and plan.legacy:
            before['legacy'] = plan.legacy
        after = {'config_path': plan.after}
        if plan.legacy:
            after['legacy'] = 'moved to hosts.toml under %s' % self.hosts_dir
        if config.plan(tracker, 'containerd config %s' % self.config, plan.text.encode('utf-8'), before, after):
            self.config_file = config
            self.restart = 'needed'

    def _stale_plain_http(self, own):
        """Our plain-HTTP hosts.toml files of the registry's host on another port: under TLS (or when the registry
        goes) they go, whatever port plain HTTP used - as its insecure-registries entries do for dockerd."""
        pattern = re.compile(r'^%s:[0-9]+$' % re.escape(endpoint_text(self.desired.registry.host)))
        try:
            names = sorted(os.listdir(self.hosts_dir))
        except OSError:
            return []
        stale = []
        for name in names:
            if name in own or not pattern.match(name):
                continue
            data = PlannedFile(self.writer, os.path.join(self.hosts_dir, name, HOSTS_FILE), 'containerd_certs_dir').current
            if is_ours(data) and b'server = "http://' in data:
                stale.append(name)
        return stale

    def _plan_hosts_file(self, tracker, name, data, label='hosts.toml'):
        """hosts.toml in directory name: data written over whatever is there, or (data None) removed when
        it is ours (a file without our marker is someone else's and stays)."""
        directory = os.path.join(self.hosts_dir, name)
        path = os.path.join(directory, HOSTS_FILE)
        planned = PlannedFile(self.writer, path, 'containerd_certs_dir', mode=0o644, text=True)
        field = 'containerd %s %s' % (label, path)
        if data is None:
            if is_ours(planned.current):
                planned.plan_absent(tracker, field, planned.text, prune_dirs=[directory])
        else:
            planned.plan(tracker, field, data.encode('utf-8'), planned.text, data, text=True)
        if planned.pending:
            self.files.append(planned)

    def _plan_mirrors(self, tracker, registry_ca):
        path = os.path.join(self.hosts_dir, DOCKER_HUB, HOSTS_FILE)
        mirrors = self.desired.mirrors
        current = PlannedFile(self.writer, path, 'containerd_certs_dir').current
        if self.desired.absent and not is_ours(current):
            return  # the registry goes: nothing new is written, nothing of someone else's touched
        if mirrors:
            if current is not None and not is_ours(current):
                raise BerthError('%s exists and was not written by berth.registry: merge the Docker Hub mirrors (%s) '
                                 'into it yourself or remove it; nothing was written'
                                 % (path, ', '.join(mirror_url(m) for m in mirrors)))
            cas = dict((m, registry_ca) for m in mirrors if registry_ca and _same_endpoint(m, self.desired.registry))
            self._plan_hosts_file(tracker, DOCKER_HUB, mirrors_hosts_toml(mirrors, cas), 'mirrors')
        else:
            self._plan_hosts_file(tracker, DOCKER_HUB, None, 'mirrors')

    def _plan_migrated(self, tracker, namespace, text):
        path = os.path.join(self.hosts_dir, namespace, HOSTS_FILE)
        planned = PlannedFile(self.writer, path, 'containerd_certs_dir', mode=0o644, text=True)
        if planned.current is not None and planned.text != text:
            raise BerthError('%s: the legacy settings for %s cannot be moved to %s: that file exists already; merge '
                             'them by hand; the file was left as it was' % (self.config, namespace, path))
        if planned.plan(tracker, 'containerd hosts.toml %s (migrated)' % path, text.encode('utf-8'), planned.text,
                        text, text=True):
            self.files.append(planned)

    # -- acting -----------------------------------------------------------------------------
    def apply(self):
        self.client_pair.apply()  # before hosts.toml names it; a removed pair before the CA prunes the directory
        self.ca_files.apply()
        for planned in self.files:
            planned.apply()
        if self.config_file is not None:
            self.config_file.apply()
        if self.restart == 'needed':
            self._restart()

    def _restart(self):
        socket = self.config_plan.socket
        if not self.restart_allowed:
            self.restart = 'pending'
            self.notes.append('%s changed: restart containerd for its CRI to read hosts.toml under %s (containerd_restart '
                              'is false)' % (self.config, self.hosts_dir))
            return
        if not socket_answers(socket):
            self.restart = 'not running'
            return
        self.restart_command = ' '.join(self.system.restart('containerd', socket))
        self.restart = 'restarted'
        self._confirm_cri(socket)

    def _confirm_cri(self, socket):
        """After a restart: the CRI plugin loaded (``ctr plugins ls``), else the host fails naming it."""
        ctr = self.system.which('ctr')
        if not ctr:
            return
        rc, out, err = self.system.run([ctr, '--address', socket, 'plugins', 'ls'])
        if rc != 0:
            raise BerthError('containerd was restarted but ctr plugins ls failed: %s' % tool_message(out, err, 'ctr: '))
        broken = [' '.join(line.split()) for line in out.splitlines()
                  if len(line.split()) >= 3 and ('cri' in line.split()[:2] or line.split()[0].startswith(
                      'io.containerd.cri.')) and line.split()[-1] == 'error']
        if broken:
            raise BerthError('containerd was restarted after %s changed, but its CRI plugin did not load (%s): see '
                             '%s' % (self.config, '; '.join(broken),
                                     'journalctl -u containerd' if self.system.systemd else 'the containerd log'))

    def check(self):
        """Resolve a manifest that is not there through ``ctr content fetch-object --hosts-dir``: containerd's
        own hosts.toml code (the CRI's too) with exactly the CA files hosts.toml names; nothing is stored and
        containerd's daemon is not involved."""
        if self.desired.absent:
            return None
        ctr = self.system.which('ctr')
        if not ctr:
            return None, 'containerd: not checked (no ctr)'
        argv = [ctr, 'content', 'fetch-object', '--hosts-dir', self.hosts_dir,
                '%s/%s' % (self.desired.registry.text, CHECK_REFERENCE)]
        rc, out, err = self.system.run(argv)
        message = tool_message(out, err, 'ctr: ')
        if classify_probe(rc, message):
            pending = ('; the CRI reads them after containerd restarts (config_path changed)'
                       if self.restart in ('pending', 'not running') else '')
            answer = message if rc else 'found'
            return True, 'reachable and trusted through %s (ctr: %s)%s' % (self.hosts_dir, answer, pending)
        return False, 'ctr content fetch-object --hosts-dir %s: %s' % (self.hosts_dir, message)

    def facts(self):
        plan = self.config_plan
        return {'containerd': {
            'config': self.config,
            'hosts_dir': self.hosts_dir,
            'config_path': plan.after if plan else None,
            'config_version': plan.version if plan else None,
            'ca_paths': self.ca_files.paths if self.ca_files else [],
            'client_certificate_paths': self.client_pair.paths() if self.client_pair and self.desired.client_certificate
            else [],
            'migrated': plan.legacy if plan else [],
            'restart': self.restart,
            'restart_command': self.restart_command,
            'restarted': self.restart == 'restarted',
        }}

    def state(self):
        wrote = self.ca_files is not None and self.desired.ca_certificates and not self.desired.insecure
        trusted = self.ca_files.trusted() if wrote else []
        return {'trusted': trusted}

    def warnings(self):
        return self.notes
