# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The driver of the registry_client module: the client side of a registry for one host, in one pass.

Which runtimes the host has and which of them to configure is _client/detect.py's decision. For each
unit configured on this host (host-level parts, then each runtime: _client/, then the mirror record),
plan its part into the one difference tracker; then, outside check mode, apply each part; then check
each runtime through its own tool. Stdlib only on the target.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._certs_d import (
    DEFAULT_CERTS_DIR, certificates, foreign_blocks,
)
from ansible_collections.berth.registry.plugins.module_utils._client.base import Desired, Registry
from ansible_collections.berth.registry.plugins.module_utils._client.client_pair import ClientCertificate
from ansible_collections.berth.registry.plugins.module_utils._client.containerd import ContainerdRuntime
from ansible_collections.berth.registry.plugins.module_utils._client.containers import (
    DEFAULT_AUTH_FILE, DEFAULT_CERTS_DIR as CONTAINERS_CERTS_DIR, DEFAULT_REGISTRIES_D, ContainersRuntime,
)
from ansible_collections.berth.registry.plugins.module_utils._client.detect import (
    RUNTIME_CHOICES, RUNTIMES, probe, select, validate_runtimes,
)
from ansible_collections.berth.registry.plugins.module_utils._client.docker import DockerRuntime
from ansible_collections.berth.registry.plugins.module_utils._client.hosts import DEFAULT_HOSTS_PATH, HostsEntry
from ansible_collections.berth.registry.plugins.module_utils._client.record import DEFAULT_RECORD_PATH, MirrorRecord
from ansible_collections.berth.registry.plugins.module_utils._client.system import HostSystem
from ansible_collections.berth.registry.plugins.module_utils._containerd_config import DEFAULT_CONFIG
from ansible_collections.berth.registry.plugins.module_utils._daemon_config import DaemonConfigChange
from ansible_collections.berth.registry.plugins.module_utils._daemon_json import (
    DEFAULT_PATH, DaemonJson, validate_mirror,
)
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._docker_auth import DEFAULT_CONFIG_PATH, validate_login
from ansible_collections.berth.registry.plugins.module_utils._docker_engine import EngineClient
from ansible_collections.berth.registry.plugins.module_utils._dockerd import (
    Dockerd, dockerd_argument_spec, find_daemon_pid,
)
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter
from ansible_collections.berth.registry.plugins.module_utils._hosts_file import validate_entry
from ansible_collections.berth.registry.plugins.module_utils._names import userinfo_secrets

APPLY_CHOICES = ['auto', 'reload', 'none']  # registry keys are reloadable: never a restart


def argument_spec():
    """registry_client's options (docker_host and pid_file: doc_fragments/_dockerd.py)."""
    spec = dockerd_argument_spec()
    spec.update(
        registry=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        runtimes=dict(type='list', elements='str', default=['auto'], choices=RUNTIME_CHOICES),
        ca_content=dict(type='str'),
        certs_dir=dict(type='path', default=DEFAULT_CERTS_DIR),
        insecure=dict(type='bool', default=False),
        mirrors=dict(type='list', elements='str', default=[]),
        caches=dict(type='list', elements='str', default=[]),
        hosts_entry=dict(type='dict', options=dict(
            hostname=dict(type='str', required=True),
            address=dict(type='str', required=True),
        )),
        hosts_path=dict(type='path', default=DEFAULT_HOSTS_PATH),
        login=dict(type='dict', options=dict(
            username=dict(type='str', required=True),
            password=dict(type='str', required=True, no_log=True),
            config_path=dict(type='path', default=DEFAULT_CONFIG_PATH),
        )),
        client_certificate=dict(type='dict', options=dict(
            cert=dict(type='str'),
            key=dict(type='str', no_log=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ), required_if=[('state', 'present', ('cert', 'key'))]),
        check=dict(type='bool', default=False),
        daemon_config_path=dict(type='path', default=DEFAULT_PATH),
        apply=dict(type='str', default='auto', choices=APPLY_CHOICES),
        validate=dict(type='bool', default=True),
        containerd_config=dict(type='path', default=DEFAULT_CONFIG),
        containerd_certs_dir=dict(type='path'),
        containerd_migrate=dict(type='bool', default=False),
        containerd_restart=dict(type='bool', default=True),
        containers_certs_dir=dict(type='path', default=CONTAINERS_CERTS_DIR),
        containers_registries_d=dict(type='path', default=DEFAULT_REGISTRIES_D),
        containers_auth_file=dict(type='path', default=DEFAULT_AUTH_FILE),
        record_path=dict(type='path', default=DEFAULT_RECORD_PATH),
    )
    return spec


def desired_state(params):
    """The validated desired state every runtime shares, from the module's options (mirrors: as given; the
    driver replaces them with the ones the record says this module manages)."""
    mirrors = list(params['mirrors'])
    for mirror in mirrors:
        problem = validate_mirror(mirror, 'mirrors')
        if problem:
            raise BerthError(problem)
    login = params['login']
    if login:
        validate_login(login['username'], login['password'])
    pair = params.get('client_certificate')
    present = pair is not None and pair['state'] == 'present'
    if present and params['insecure']:
        raise BerthError('client_certificate: a client certificate needs TLS; insecure=true is plain HTTP')
    registry = Registry.parse(params['registry'], 'registry')
    caches, seen = [], set()
    for cache in params.get('caches') or []:
        parsed = Registry.parse(cache, 'caches')
        key = (parsed.host, parsed.port or 443)
        if key == (registry.host, registry.port or 443):
            raise BerthError('caches: %r is the registry itself; a pull-through cache is another registry' % cache)
        if key not in seen:
            seen.add(key)
            caches.append(parsed)
    return Desired(
        registry, certificates(params['ca_content'], 'ca_content') if params['ca_content'] is not None else [],
        params['insecure'], mirrors, login, params['state'],
        client_certificate=ClientCertificate.parse(pair['cert'], pair['key']) if present else None,
        client_certificate_absent=pair is not None and pair['state'] == 'absent', caches=caches)


def check_text(outcomes):
    """One text for the checks' outcomes [(unit name, passed, text)]: a single runtime's text as it is."""
    if len(outcomes) == 1:
        return outcomes[0][2]
    return '; '.join('%s: %s' % (name, text) for name, dummy, text in outcomes)


class RegistryClient(object):
    """The registry_client module."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.chosen = {}
        self.check_outcome = None

    def runtimes(self):
        """{runtime: {present, configured, reason}} for this host (detect.py's rules)."""
        p, module = self.params, self.module
        wanted = validate_runtimes(p['runtimes'])
        facts = probe(module.get_bin_path, lambda: find_daemon_pid(p['pid_file'], p['docker_host']))
        return select(wanted, facts, p['state'])

    def units(self, desired, writer):
        """The units of this host, in apply order: host-level parts first, then each runtime configured."""
        p, module = self.params, self.module
        units = []
        if p['hosts_entry']:
            hostname, address = validate_entry(p['hosts_entry']['hostname'], p['hosts_entry']['address'])
            units.append(HostsEntry(writer, hostname, address, p['hosts_path'], desired.absent))
        system = HostSystem(module.get_bin_path)
        if self.chosen['docker']['configured']:
            engine = EngineClient(p['docker_host'])
            dockerd = Dockerd(engine, module.run_command, module.get_bin_path, p['pid_file'])
            units.append(DockerRuntime(writer, desired, engine,
                                       DaemonConfigChange(DaemonJson(p['daemon_config_path'], 'daemon_config_path'),
                                                          dockerd),
                                       p['certs_dir'], (p['login'] or {}).get('config_path', DEFAULT_CONFIG_PATH),
                                       p['apply'], p['validate']))
        if self.chosen['containerd']['configured']:
            units.append(ContainerdRuntime(writer, desired, system, p['containerd_config'], p['containerd_certs_dir'],
                                           p['containerd_migrate'], p['containerd_restart']))
        if self.chosen['containers']['configured']:
            units.append(ContainersRuntime(writer, desired, system, p['containers_certs_dir'],
                                           p['containers_registries_d'], p['containers_auth_file']))
        return units

    def run(self):
        module, p = self.module, self.params
        # a key pasted into ca_content or the client certificate, a mirror's user:password: masked wherever
        # they would show
        module.no_log_values.update(foreign_blocks(p['ca_content']) + userinfo_secrets(p['mirrors']) +
                                    foreign_blocks((p.get('client_certificate') or {}).get('cert')))
        desired = desired_state(p)
        self.chosen = self.runtimes()
        writer = FileWriter(module)
        record = MirrorRecord(writer, p['record_path'], desired.registry.host, desired.mirrors, desired.absent)
        desired.mirrors, desired.stale_mirrors = record.managed, record.stale
        units = self.units(desired, writer) + [record]
        tracker = Differences()
        facts = {'check': None}
        try:
            for unit in units:
                unit.plan(tracker)
            if tracker.changed and not module.check_mode:
                for unit in units:
                    unit.apply()
            if p['check'] and not desired.absent:
                facts['check'] = self.check(units, tracker)
        except BerthError as exc:
            exc.result.update(self.result(tracker, units, facts))
            raise
        finally:
            if not any(c['configured'] for c in self.chosen.values()):
                module.warn('no container runtime configured on this host: none of %s is installed (runtimes=auto)'
                            % ', '.join(RUNTIMES))
            for unit in units:
                for warning in unit.warnings():
                    module.warn(warning)
        return self.result(tracker, units, facts)

    def check(self, units, tracker):
        """Each unit's check through its runtime; the text of all, or BerthError naming those that failed."""
        if self.module.check_mode and tracker.changed:
            pending = []
            for field in tracker.fields:
                if field.split(' ')[0] not in pending:
                    pending.append(field.split(' ')[0])
            return 'not checked in check mode: pending changes (%s) would change the result' % ', '.join(pending)
        outcomes = []
        for unit in units:
            outcome = unit.check()
            if outcome is not None:
                outcomes.append((unit.name, outcome[0], outcome[1]))
        self.check_outcome = {'passed': not any(o[1] is False for o in outcomes), 'text': check_text(outcomes)}
        failed = [o for o in outcomes if o[1] is False]
        if failed:
            raise BerthError('check of %s failed on %s' % (self.params['registry'], '; '.join(
                '%s: %s' % (name, text) for name, dummy, text in failed)))
        return self.check_outcome['text']

    def state(self, units):
        """The summary the fleet report reads (docs/report.schema.json, $defs/registry_client_state)."""
        parts = [unit.state() for unit in units]
        present = self.params['state'] == 'present'
        state = {
            'runtimes': [{'name': name, 'present': bool(c['present']), 'configured': bool(c['configured'] and present)}
                         for name, c in self.chosen.items()],
            'trusted': [t for part in parts for t in part.get('trusted', [])],
            'login': next((part['login'] for part in parts if part.get('login')), None),
            'check': self.check_outcome,
        }
        keys = next((part['registry_keys'] for part in parts if 'registry_keys' in part), None)
        if keys is not None:
            state['registry_keys'] = keys
        return state

    def result(self, tracker, units, facts):
        for unit in units:
            facts = dict(unit.facts(), **facts)
        facts.setdefault('ca_paths', [])
        facts.setdefault('applied', 'none')
        facts.setdefault('restarted', False)
        if facts.get('check') is None:
            facts.pop('check')
        facts['containerd_restarted'] = bool((facts.get('containerd') or {}).get('restarted'))
        facts['runtimes'] = self.chosen
        facts['state'] = self.state(units)
        return tracker.result(self.module._diff, **facts)
