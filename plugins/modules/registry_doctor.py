#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_doctor
short_description: Say why a pull from the registry fails on this host, per container runtime
description:
  - Walks the path a pull takes, for every container runtime found on the host (or named in O(runtimes)), and stops
    at the first broken step with a verdict a person can act on.
  - "The steps, in order: C(runtime) (installed, running, its configuration readable), C(resolve) (C(/etc/hosts)
    vs DNS: what the name resolves to against O(address)), C(tcp), C(http-vs-https) (what the port speaks against
    O(tls) and against what the runtime sends), C(tls-handshake), C(tls-chain) (against the CA files this runtime
    reads, fingerprints shown), C(tls-san) (the name typed), C(auth) (anonymous C(GET /v2/) answers 401),
    C(credentials) (the stored login still works: C(GET /v2/) with it answers 200), C(clock-skew) (against the
    registry's C(Date) header) and C(cert-expiry) (days left of the certificate the registry presents)."
  - "Runtimes: V(docker) (C(/etc/docker/certs.d/<registry>/*.crt), C(insecure-registries) as the engine reports it
    over its unix socket, root's C(config.json)); V(containerd) (C(hosts.toml) under the CRI's C(config_path));
    V(containers) - Podman, Buildah, Skopeo, CRI-O (the first of O(containers_certs_dirs) that has the registry's
    directory, C(registries.conf) and its C(.d) drop-ins, C(auth.json) then root's C(config.json))."
  - With O(runtimes=[auto]), containerd is checked only where no dockerd is installed or a kubelet uses its CRI (Debian's
    docker.io runs on the system containerd; then dockerd's C(certs.d) is what applies).
  - One line per host in RV(msg) and RV(verdict); the details of every step per runtime in RV(runtimes).
  - Read-only in every mode - nothing is written, no engine or runtime is touched, and RV(changed) is always
    false. The network traffic is a resolver lookup, TCP connects, TLS handshakes and C(GET /v2/) (with the stored
    credentials when O(check_credentials=true)). Needs only python3's standard library on the target (3.11 or later
    to read TOML files).
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._info_module
options:
  registry:
    description: The registry as users type it in C(docker pull), C(host) (port 443 with TLS, 80 without) or C(host:port).
    type: str
    required: true
  address:
    description: The IP address the registry's name should resolve to on this host. Omit to accept any.
    type: str
  ca_content:
    description:
      - PEM text of the CA certificate(s) clients should trust (the current CA). Each runtime's CA files are compared
        with it by fingerprint, and a certificate from another CA is named as such.
    type: str
  tls:
    description: Whether the registry is expected to serve HTTPS (V(false) - plain HTTP).
    type: bool
    default: true
  check_credentials:
    description:
      - Check stored credentials by sending them in one C(GET /v2/) to the registry (401 means stale).
      - The secret is sent only to the registry, over the protocol the port speaks, and never returned or logged.
    type: bool
    default: true
  max_clock_skew:
    description: Seconds this host's clock may differ from the registry's C(Date) before the step fails.
    type: int
    default: 60
  expiry_warn_days:
    description: Warn when the registry's certificate has fewer days left than this.
    type: int
    default: 30
  runtimes:
    description:
      - V(auto) checks what is found on the host; or a list of V(docker), V(containerd), V(containers) - each must be
        present, and containerd is checked even under a dockerd.
    type: list
    elements: str
    choices: [auto, docker, containerd, containers]
    default: [auto]
  timeout:
    description: Seconds to wait for each connection and answer.
    type: float
    default: 5.0
  label:
    description: The host's name at the start of the verdict line (the role passes C(inventory_hostname)). Defaults
      to the host's node name.
    type: str
  hosts_path:
    description: The hosts file the resolver reads first.
    type: path
    default: /etc/hosts
  docker_host:
    description: dockerd's engine API, C(unix://) socket or plain C(tcp://host:port).
    type: str
    default: unix:///var/run/docker.sock
  docker_certs_dir:
    description: dockerd's certificate directory.
    type: path
    default: /etc/docker/certs.d
  docker_daemon_config:
    description: dockerd's daemon.json (read for its registry keys; the engine's answer decides).
    type: path
    default: /etc/docker/daemon.json
  docker_config:
    description: The Docker client configuration that holds root's login.
    type: path
    default: /root/.docker/config.json
  containerd_config:
    description: containerd's config.toml (read for the CRI's C(config_path)).
    type: path
    default: /etc/containerd/config.toml
  containerd_socket:
    description: containerd's socket (whether it runs).
    type: path
    default: /run/containerd/containerd.sock
  containers_certs_dirs:
    description: The certificate directories containers/image tries in order; the first with the registry's directory counts.
    type: list
    elements: path
    default: [/root/.config/containers/certs.d, /etc/containers/certs.d, /etc/docker/certs.d]
  containers_registries_conf:
    description: containers/image's registries.conf.
    type: path
    default: /etc/containers/registries.conf
  containers_registries_conf_d:
    description: Its drop-in directory (C(*.conf), read in name order).
    type: path
    default: /etc/containers/registries.conf.d
  containers_auth_files:
    description: Where containers/image looks for stored credentials, in order.
    type: list
    elements: path
    default: [/run/containers/0/auth.json, /root/.config/containers/auth.json, /root/.docker/config.json]
seealso:
  - module: berth.registry.registry_client
  - module: berth.registry.registry_report
'''

EXAMPLES = r'''
- name: Why does a pull fail here?
  berth.registry.registry_doctor:
    registry: registry.example.internal
    address: 192.0.2.10
    ca_content: "{{ lookup('ansible.builtin.file', 'pki/ca.crt') }}"
    label: "{{ inventory_hostname }}"
  register: doctor

- name: One line per host
  ansible.builtin.debug:
    msg: "{{ doctor.verdict }}"
'''

RETURN = r'''
changed:
  description: Always false.
  type: bool
  returned: always
differences:
  description: Always empty (the uniform result of berth.registry's modules).
  type: list
  elements: dict
  returned: always
msg:
  description: The verdict line.
  type: str
  returned: always
verdict:
  description: One line for the host - its name, V(OK), V(WARN) or V(FAIL), the first broken step and what to do.
  type: str
  returned: always
  sample: 'client3: FAIL tls-chain: the registry''s certificate is not signed by the CA in
    /etc/docker/certs.d/reg/ca.crt (sha256 AB:..); it is signed by "CN=Other CA" [docker]'
status:
  description: V(ok), V(warn) or V(fail) - the worst of the checked runtimes.
  type: str
  returned: always
failed_step:
  description: The first failing step of the first failing runtime, or null.
  type: str
  returned: always
host:
  description: The label the verdict starts with.
  type: str
  returned: always
registry:
  description: What the registry looks like from this host.
  type: dict
  returned: always
  contains:
    endpoint:
      description: O(registry) as typed (normalized).
      type: str
    host:
      description: Its host part.
      type: str
    port:
      description: The port connected to.
      type: int
    tls:
      description: O(tls).
      type: bool
    expected_address:
      description: O(address), normalized.
      type: str
    addresses:
      description: What the name resolved to, in order.
      type: list
      elements: str
    speaks:
      description: What the port speaks - V(tls), V(http) or V(unknown) (null when not reached).
      type: str
    certificate:
      description: The presented server certificate - subject, issuer, not_before, not_after, days_left, dns_names,
        ip_addresses, is_ca, key_type, serial, fingerprint_sha256 (null without TLS).
      type: dict
    expected_cas:
      description: The certificates of O(ca_content), same fields.
      type: list
      elements: dict
    client_certificate:
      description:
        - The client certificate the doctor presented (mutual TLS), as the node's runtimes do - C(client.cert) with
          C(client.key) in O(docker_certs_dir) or O(containers_certs_dirs) for the registry - or null when the node
          has none.
      type: str
runtimes:
  description: One entry per runtime (docker, containerd, containers), checked or not.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: V(docker), V(containerd) or V(containers).
      type: str
    present:
      description: Whether it is installed.
      type: bool
    checked:
      description: Whether the doctor walked its path.
      type: bool
    reason:
      description: Why it was not checked.
      type: str
    running:
      description: Whether its daemon answers (containers has none - always true).
      type: bool
    scheme:
      description: What it sends the registry - V(https), V(http), V(https-insecure) (HTTPS without verification,
        then HTTP - an insecure registry) or V(https-noverify).
      type: str
    scheme_source:
      description: Where that comes from (engine, daemon.json, hosts.toml, registries.conf).
      type: str
    trusted:
      description: The CA files it reads for the registry, each certificate with subject, fingerprint_sha256,
        not_after, days_left and current (= one of O(ca_content)).
      type: list
      elements: dict
    registry_keys:
      description: docker only - C(insecure-registries) and C(registry-mirrors) as in daemon.json.
      type: dict
    credentials:
      description: Stored login - source file, user (never the password), helper.
      type: dict
    status:
      description: V(ok), V(warn) or V(fail).
      type: str
    failed_step:
      description: Its first failing step, or null.
      type: str
    steps:
      description: Every step in order - step, status (V(ok), V(warn), V(fail), V(skip)), summary and its facts.
      type: list
      elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._doctor.driver import Doctor, argument_spec
from ansible_collections.berth.registry.plugins.module_utils._errors import run_module


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: Doctor(module).run())


if __name__ == '__main__':
    main()
