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
    details: Metadata only, per part - CA path and SHA-256 fingerprints, the values of the daemon.json keys this module
      owns (C(insecure-registries), C(registry-mirrors); never other keys such as C(proxies)), the hosts lines, the
      login user name. Never a password.
  idempotent:
    support: full
options:
  registry:
    description:
      - The registry as users type it in C(docker pull), C(host:port) or C(host) (port 443 implied); the host is a
        DNS name or an IP address (IPv6 as C([address]:port)). No scheme, no path.
    type: str
    required: true
  ca_content:
    description:
      - PEM text of the CA certificate that signed the registry's certificate, or several CA certificates (a bundle,
        for example the old and the next CA during a rollover - dockerd trusts every certificate in the file). Omit
        for a plain-HTTP registry.
      - Only C(CERTIFICATE) blocks are accepted; any other PEM block (a private key, a CSR) is refused without being
        shown. Text outside the blocks is dropped; the certificates are written in canonical PEM.
      - Written to C(<certs_dir>/<host:port>/ca.crt), and for port 443 also to C(<certs_dir>/<host>/ca.crt).
        Missing directories are created 0755, the files are 0644.
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
    description: http(s) URLs merged into C(registry-mirrors), without credentials, path or query.
    type: list
    elements: str
    default: []
  hosts_entry:
    description:
      - Ensure exactly one line in O(hosts_path) mapping O(hosts_entry.hostname) to O(hosts_entry.address).
      - Host names compare case-insensitively. A line naming the host with another address is rewritten in place;
        other lines stay as they are, byte for byte (CRLF line endings and a missing final newline included).
      - A hosts file that is a mount point (C(/etc/hosts) in a container is a bind mount, where a rename fails with
        EBUSY) is rewritten in place instead of atomically.
    type: dict
    suboptions:
      hostname:
        description: The registry host name (a DNS name).
        type: str
        required: true
      address:
        description: Its IPv4 or IPv6 address (without a C(%zone), which a hosts file cannot carry).
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
        then is the entry written (file 0600, a missing directory is created 0700, other keys kept). An existing file
        is kept at 0600.
      - Credential helpers (C(credsStore), C(credHelpers)) are not supported yet; the module fails when they would
        apply to this registry.
    type: dict
    suboptions:
      username:
        description: Registry user (no C(:), no control characters).
        type: str
        required: true
      password:
        description: Its password (not empty).
        type: str
        required: true
      config_path:
        description: The client config.json.
        type: path
        default: /root/.docker/config.json
  client_certificate:
    description:
      - This node's client certificate for a registry that requires mutual TLS (the server role's
        C(registry_client_certificates)); the pair is issued on the controller, which holds the CA key, and given to
        this node's task only (the client role reads it with a lookup, under C(no_log)).
      - Written next to the CA where dockerd presents it - C(<certs_dir>/<host:port>/client.cert) and C(client.key)
        (and C(<host>/) for port 443). The key is written first, 0600; the certificate 0644. dockerd reads them on
        every connection - no reload, no restart.
      - Omitted - any pair there is left alone.
    type: dict
    suboptions:
      cert:
        description: PEM text of the certificate (EKU clientAuth, signed by the registry's CA). Required with
          O(client_certificate.state=present). Only C(CERTIFICATE) blocks are accepted.
        type: str
      key:
        description: PEM text of its private key, unencrypted (C(PRIVATE KEY), C(EC PRIVATE KEY) or
          C(RSA PRIVATE KEY)), exactly one block. Never shown, not even in a message that refuses it. Required with
          O(client_certificate.state=present).
        type: str
      state:
        description: V(absent) removes this registry's pair from certs.d.
        type: str
        choices: [present, absent]
        default: present
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
    description: dockerd's daemon.json. Created 0644 when missing; an existing file keeps its mode and every key this
      module does not own.
    type: path
    default: /etc/docker/daemon.json
  apply:
    description:
      - How dockerd takes a daemon.json change; same meaning as in M(berth.registry.docker_daemon_config).
      - Only reloadable keys change here, so V(auto) reloads and dockerd is never restarted (there is no V(restart)).
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
differences:
  description:
    - What differs (or differed) from the wanted state, one entry per difference, fields named after the unit -
      V(docker CA <path>) (before/after - SHA-256 fingerprints), V(docker daemon.json <key>) (before/after - the
      key's value; only the keys this module owns, never the rest of daemon.json), V(docker login <registry> in
      <path>) (before/after - the user name, never the password), V(docker client certificate <path>) (SHA-256
      fingerprints), V(docker client key <path>) (masked - only that it appears, changes or goes), V(hosts <path>)
      (before/after - the lines naming the host), and V(<field> mode)/V(owner)/V(group) for file attributes.
    - Empty when nothing changes.
  type: list
  elements: dict
  returned: always
  contains:
    field:
      description: What differs.
      type: str
    before:
      description: The current value (metadata only), or null when absent.
      type: raw
    after:
      description: The wanted value (metadata only), or null when it goes.
      type: raw
  sample:
    - field: 'docker daemon.json insecure-registries'
      before: ['registry.example.internal:5000']
      after: []
ca_paths:
  description: The CA files for the registry in certs.d.
  type: list
  elements: str
  returned: always
client_certificate_paths:
  description: Where dockerd finds this node's client certificate and key, one pair per certs.d directory.
  type: list
  elements: dict
  returned: when client_certificate is given with state present
  sample:
    - cert: /etc/docker/certs.d/registry.example.internal:443/client.cert
      key: /etc/docker/certs.d/registry.example.internal:443/client.key
applied:
  description: How dockerd took a daemon.json change - V(reloaded), V(none) (no change, or O(apply=none)) or
    V(skipped) (check mode, or no running dockerd).
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

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._registry_client import RegistryClient, argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: RegistryClient(module).run())


if __name__ == '__main__':
    main()
