# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The driver of the registry_client module: the client side of a registry for one host, in one pass.

For each unit configured on this host (host-level parts, then each runtime: _client/), plan its
part into the one difference tracker; then, outside check mode, apply each part; then check.
Stdlib only on the target.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._certs_d import (
    DEFAULT_CERTS_DIR, certificates, foreign_blocks,
)
from ansible_collections.berth.registry.plugins.module_utils._client.base import Desired, Registry
from ansible_collections.berth.registry.plugins.module_utils._client.client_pair import ClientCertificate
from ansible_collections.berth.registry.plugins.module_utils._client.docker import DockerRuntime
from ansible_collections.berth.registry.plugins.module_utils._client.hosts import DEFAULT_HOSTS_PATH, HostsEntry
from ansible_collections.berth.registry.plugins.module_utils._daemon_config import DaemonConfigChange
from ansible_collections.berth.registry.plugins.module_utils._daemon_json import (
    DEFAULT_PATH, DaemonJson, validate_mirror,
)
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._docker_auth import DEFAULT_CONFIG_PATH, validate_login
from ansible_collections.berth.registry.plugins.module_utils._docker_engine import EngineClient
from ansible_collections.berth.registry.plugins.module_utils._dockerd import Dockerd, dockerd_argument_spec
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
        ca_content=dict(type='str'),
        certs_dir=dict(type='path', default=DEFAULT_CERTS_DIR),
        insecure=dict(type='bool', default=False),
        mirrors=dict(type='list', elements='str', default=[]),
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
    )
    return spec


def desired_state(params):
    """The validated desired state every runtime shares, from the module's options."""
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
    return Desired(
        Registry.parse(params['registry'], 'registry'),
        certificates(params['ca_content'], 'ca_content') if params['ca_content'] is not None else [],
        params['insecure'], mirrors, login,
        client_certificate=ClientCertificate.parse(pair['cert'], pair['key']) if present else None,
        client_certificate_absent=pair is not None and pair['state'] == 'absent')


class RegistryClient(object):
    """The registry_client module."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def units(self, desired):
        """The units of this host, in apply order: host-level parts first, then each runtime."""
        p, module = self.params, self.module
        writer = FileWriter(module)
        units = []
        if p['hosts_entry']:
            hostname, address = validate_entry(p['hosts_entry']['hostname'], p['hosts_entry']['address'])
            units.append(HostsEntry(writer, hostname, address, p['hosts_path']))
        engine = EngineClient(p['docker_host'])
        dockerd = Dockerd(engine, module.run_command, module.get_bin_path, p['pid_file'])
        units.append(DockerRuntime(writer, desired, engine,
                                   DaemonConfigChange(DaemonJson(p['daemon_config_path'], 'daemon_config_path'), dockerd),
                                   p['certs_dir'], (p['login'] or {}).get('config_path', DEFAULT_CONFIG_PATH),
                                   p['apply'], p['validate']))
        return units

    def run(self):
        module, p = self.module, self.params
        # a key pasted into ca_content or the client certificate, a mirror's user:password: masked wherever
        # they would show
        module.no_log_values.update(foreign_blocks(p['ca_content']) + userinfo_secrets(p['mirrors']) +
                                    foreign_blocks((p.get('client_certificate') or {}).get('cert')))
        units = self.units(desired_state(p))
        tracker = Differences()
        facts = {}
        try:
            for unit in units:
                unit.plan(tracker)
            if tracker.changed and not module.check_mode:
                for unit in units:
                    unit.apply()
            if p['check']:
                facts['check'] = self.check(units, tracker)
        except BerthError as exc:
            exc.result.update(self.result(tracker, units, facts))
            raise
        finally:
            for unit in units:
                for warning in unit.warnings():
                    module.warn(warning)
        return self.result(tracker, units, facts)

    def check(self, units, tracker):
        """Each unit's check through its runtime; the text of all, or BerthError naming the first that failed."""
        if self.module.check_mode and tracker.changed:
            pending = []
            for field in tracker.fields:
                if field.split(' ')[0] not in pending:
                    pending.append(field.split(' ')[0])
            return 'not checked in check mode: pending changes (%s) would change the result' % ', '.join(pending)
        texts = []
        for unit in units:
            outcome = unit.check()
            if outcome is None:
                continue
            passed, text = outcome
            if not passed:
                raise BerthError('check of %s failed on %s: %s' % (self.params['registry'], unit.name, text))
            texts.append(text)
        return '; '.join(texts)

    def result(self, tracker, units, facts):
        for unit in units:
            facts = dict(unit.facts(), **facts)
        return tracker.result(self.module._diff, **facts)
