#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_client
short_description: Make one Docker host trust and use a private registry, in one module call
description:
  - The whole client side of a registry rollout for one host in one pass, so a rollout over many hosts costs about
    one task.
  - Writes the registry CA to dockerd's C(certs.d) (read on every pull, push and login, so no dockerd restart).
  - Adds the registry to C(insecure-registries) for a plain-HTTP registry, or removes it from there for a TLS one,
    and merges O(mirrors) into C(registry-mirrors) in daemon.json; then reloads dockerd once (never restarts it,
    both keys are reloadable) and confirms through the engine that it took effect.
  - Ensures one C(/etc/hosts) line for the registry name, logs in (verified by the engine) and checks the registry
    through the engine, so a broken trust shows on the host where it is broken.
  - Needs only python3's standard library on the target; the engine API is reached over its unix socket.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._dockerd
attributes:
  check_mode:
    support: full
    details:
      - Nothing is written, dockerd is not signalled and no login is attempted.
      - O(check=true) also runs in check mode (it only reads), but only when nothing else would change; otherwise
        its result says that pending changes would change the answer.
  diff_mode:
    support: full
    details: Metadata only, per part - CA path and SHA-256 fingerprint, daemon.json text, hosts line, login user name.
      Never the password.
  idempotent:
    support: full
options:
  registry:
    description:
      - The registry as users type it in C(docker pull), C(host:port) or C(host) (port 443 implied).
    type: str
    required: true
  ca_content:
    description:
      - PEM text of the CA that signed the registry's certificate. Omit for a plain-HTTP registry.
      - Written to C(<certs_dir>/<host:port>/ca.crt), and for port 443 also to C(<certs_dir>/<host>/ca.crt).
        Directories 0755, files 0644.
    type: str
  certs_dir:
    description: dockerd's certificate directory.
    type: path
    default: /etc/docker/certs.d
  insecure:
    description:
      - V(true) for a plain-HTTP registry - adds O(registry) to C(insecure-registries).
      - V(false) removes it from there (written as C([]) when the list becomes empty), so switching a registry from
        HTTP to TLS clears the entry. CA files are never removed.
    type: bool
    default: false
  mirrors:
    description: http(s) URLs merged into C(registry-mirrors).
    type: list
    elements: str
    default: []
  hosts_entry:
    description:
      - Ensure exactly one line in O(hosts_path) mapping O(hosts_entry.hostname) to O(hosts_entry.address).
      - A line naming the host with another address is rewritten in place; other lines stay as they are.
      - A hosts file that is a mount point (C(/etc/hosts) in a container is a bind mount, where a rename fails with
        EBUSY) is rewritten in place instead of atomically.
    type: dict
    suboptions:
      hostname:
        description: The registry host name.
        type: str
        required: true
      address:
        description: Its IP address.
        type: str
        required: true
  hosts_path:
    description: The hosts file.
    type: path
    default: /etc/hosts
  login:
    description:
      - Store a login for O(registry) in a Docker client config.json, like C(docker login).
      - Idempotent without network - if C(auths[<registry>]) already holds these credentials nothing is done.
        Otherwise the engine logs in first (C(POST /auth), which also proves the engine trusts the registry) and only
        then is the entry written (file 0600, directory 0700, other keys kept).
      - Credential helpers (C(credsStore), C(credHelpers)) are not supported yet; the module fails when they would
        apply to this registry.
    type: dict
    suboptions:
      username:
        description: Registry user.
        type: str
        required: true
      password:
        description: Its password.
        type: str
        required: true
      config_path:
        description: The client config.json.
        type: path
        default: /root/.docker/config.json
  check:
    description:
      - Query the registry through the engine (an anonymous C(POST /auth)) and fail the host with the engine's
        message on an x509, TLS or connection error. The anonymous C(unauthorized) answer counts as reachable and
        trusted. Credentials are verified by the engine whenever O(login) is written, not on every run, so a
        fleet-wide rerun does not make the registry check a bcrypt hash per host.
      - Never reports a change; runs in check mode too (see the check_mode attribute).
    type: bool
    default: false
  daemon_config_path:
    description: dockerd's daemon.json.
    type: path
    default: /etc/docker/daemon.json
  apply:
    description:
      - How dockerd takes a daemon.json change; same meaning as in M(berth.registry.docker_daemon_config).
      - Only reloadable keys change here, so V(auto) reloads.
    type: str
    choices: [auto, reload, none]
    default: auto
  validate:
    description: Also run C(dockerd --validate) on the new daemon.json when the installed dockerd supports it.
    type: bool
    default: true
seealso:
  - module: berth.registry.docker_daemon_config
'''

EXAMPLES = r'''
- name: Trust the TLS registry, name it in /etc/hosts, log in and check it through the engine
  berth.registry.registry_client:
    registry: registry.example.internal:5000
    ca_content: "{{ lookup('ansible.builtin.file', 'pki/ca.crt') }}"
    hosts_entry:
      hostname: registry.example.internal
      address: 192.0.2.10
    login:
      username: ci
      password: "{{ registry_password }}"
    check: true

- name: A plain-HTTP registry
  berth.registry.registry_client:
    registry: 192.0.2.10:5000
    insecure: true
'''

RETURN = r'''
changes:
  description: The parts that changed (or would change) - V(ca), V(daemon.json), V(hosts), V(login).
  type: list
  elements: str
  returned: always
ca_paths:
  description: The CA files for the registry in certs.d.
  type: list
  elements: str
  returned: always
daemon:
  description: The daemon.json part, as M(berth.registry.docker_daemon_config) reports it.
  type: dict
  returned: always
  contains:
    path:
      description: The daemon.json file.
      type: str
    changed:
      description: Whether daemon.json changed.
      type: bool
    config:
      description: The resulting configuration.
      type: dict
    changed_keys:
      description: Keys whose value changed.
      type: list
      elements: str
applied:
  description: V(reloaded), V(none) or V(skipped) (check mode, or no running dockerd).
  type: str
  returned: always
restarted:
  description: Whether dockerd was restarted (never, by design).
  type: bool
  returned: always
check:
  description: The engine's answer when O(check=true).
  type: str
  returned: when check is true
  sample: 'reachable and trusted: Login Succeeded'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._certs_d import CertsDirError, DEFAULT_CERTS_DIR
from ansible_collections.berth.registry.plugins.module_utils._daemon_config import DEFAULT_PATH, DaemonConfigError
from ansible_collections.berth.registry.plugins.module_utils._docker_auth import DEFAULT_CONFIG_PATH, DockerAuthError
from ansible_collections.berth.registry.plugins.module_utils._docker_engine import (
    EngineError, dockerd_argument_spec,
)
from ansible_collections.berth.registry.plugins.module_utils._hosts_file import HostsFileError
from ansible_collections.berth.registry.plugins.module_utils._registry_client import (
    RegistryClient, RegistryClientError,
)

ERRORS = (CertsDirError, DaemonConfigError, DockerAuthError, EngineError, HostsFileError, RegistryClientError,
          OSError, ValueError)


def main():
    argument_spec = dockerd_argument_spec()
    argument_spec.update(
        registry=dict(type='str', required=True),
        ca_content=dict(type='str'),
        certs_dir=dict(type='path', default=DEFAULT_CERTS_DIR),
        insecure=dict(type='bool', default=False),
        mirrors=dict(type='list', elements='str', default=[]),
        hosts_entry=dict(type='dict', options=dict(
            hostname=dict(type='str', required=True),
            address=dict(type='str', required=True),
        )),
        hosts_path=dict(type='path', default='/etc/hosts'),
        login=dict(type='dict', options=dict(
            username=dict(type='str', required=True),
            password=dict(type='str', required=True, no_log=True),
            config_path=dict(type='path', default=DEFAULT_CONFIG_PATH),
        )),
        check=dict(type='bool', default=False),
        daemon_config_path=dict(type='path', default=DEFAULT_PATH),
        apply=dict(type='str', default='auto', choices=['auto', 'reload', 'none']),
        validate=dict(type='bool', default=True),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
    )
    client = RegistryClient(module.params, module.run_command, module.get_bin_path,
                            module.check_mode)
    result = dict(changed=False, changes=[], ca_paths=client.ca_paths, applied='none', restarted=False)
    try:
        differences = client.plan()
        daemon = client.daemon
        result.update(changed=differences.changed, changes=differences.names,
                      daemon=dict(path=daemon.path, changed=daemon.changed, config=daemon.after,
                                  changed_keys=daemon.keys))
        if differences.changed:
            if module._diff:
                result['diff'] = differences.diff()
            if module.check_mode:
                result['applied'] = 'skipped' if daemon.changed else 'none'
            else:
                result.update(client.apply())
        if module.params['check']:
            passed, text = client.check()
            result['check'] = text
            if not passed:
                raise RegistryClientError('check of %s through the engine at %s failed: %s'
                                          % (module.params['registry'], module.params['docker_host'], text))
    except ERRORS as e:
        for warning in client.daemon.warnings:
            module.warn(warning)
        module.fail_json(msg=str(e), **result)
    for warning in client.daemon.warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
