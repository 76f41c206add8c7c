#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_client
short_description: Make one host's container runtimes trust and use a private registry, in one module call
description:
  - The whole client side of a registry rollout for one host in one pass, so a rollout over many hosts costs about
    one task. Needs only python3's standard library on the target (reading an existing containerd C(config.toml)
    needs Python 3.11's C(tomllib) or the C(tomli) package, see O(containerd_config)).
  - Configures each container runtime of the host (O(runtimes)) - B(docker) (dockerd), B(containerd) (its CRI, so
    Kubernetes nodes, and C(ctr)/C(nerdctl)) and B(containers) (Podman, Buildah, Skopeo, CRI-O) - and checks the
    registry through each runtime's own tool, so a broken trust fails on the host and runtime where it is broken.
  - B(docker) - the CA in dockerd's C(certs.d) (read on every pull, push and login, so no dockerd restart);
    C(insecure-registries) for a plain-HTTP registry (removed again under TLS) and the Docker Hub O(mirrors) in
    C(registry-mirrors) in daemon.json, every other key kept; then one reload (SIGHUP, never a restart - both keys are
    reloadable) confirmed through the engine; an optional login verified by the engine.
  - B(containerd) - per registry directory under the CRI's C(config_path) (C(/etc/containerd/certs.d)) a C(hosts.toml)
    and the CA file it names (TLS), or C(server = "http://...") (plain HTTP); Docker Hub mirrors in
    C(docker.io/hosts.toml). These are read on every pull. C(config_path) itself is ensured in C(config.toml) by an
    edit that keeps every other setting and comment; containerd is restarted once when that had to change, never on a
    rerun. Legacy C(mirrors)/C(configs.<host>.tls) entries, which make the CRI plugin fail to load next to
    C(config_path), fail the host naming them (or are moved with O(containerd_migrate)). containerd stores no
    credentials (the kubelet passes them, C(ctr) takes C(--user)).
  - B(containers) - the CA in C(/etc/containers/certs.d); plain HTTP and mirrors in drop-ins of its own in
    C(/etc/containers/registries.conf.d) (a running CRI-O gets SIGHUP when they change); a login in root's
    C(~/.config/containers/auth.json), verified by the runtime's own C(login) first.
  - Ensures one C(/etc/hosts) line for the registry name. O(state=absent) removes everything it wrote for the registry
    from every runtime's files.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._dockerd
attributes:
  check_mode:
    support: full
    details:
      - Nothing is written, no daemon is signalled or restarted and no login is attempted; the result says whether
        containerd would be restarted (RV(containerd.restart=needed)).
      - O(check=true) also runs in check mode (it only reads), but only when nothing else would change; otherwise
        its result says that pending changes would change the answer.
  diff_mode:
    support: full
    details: Metadata only, per part - CA paths and SHA-256 fingerprints, the values of the daemon.json keys this module
      owns (C(insecure-registries), C(registry-mirrors); never other keys such as C(proxies)), C(config_path) in
      containerd's config.toml, the text of the hosts.toml files and registries.conf.d drop-ins it owns (they hold no
      secret), the hosts lines, the login user name. Never a password.
  idempotent:
    support: full
options:
  registry:
    description:
      - The registry as users type it in C(docker pull), C(host:port) or C(host) (port 443 implied); the host is a
        DNS name or an IP address (IPv6 as C([address]:port)). No scheme, no path.
    type: str
    required: true
  state:
    description:
      - V(present) makes every configured runtime trust and use the registry.
      - V(absent) removes what this module wrote for the registry from every runtime's files - CA files (and their
        directories when left empty), the C(insecure-registries) entries for its host, containerd's C(hosts.toml)
        (ours only, recognised by its first line), the containers drop-in, the stored logins for it, the hosts line
        (with O(hosts_entry)) and the Docker Hub mirrors only it asked for. containerd's C(config_path) stays (other
        registries use it) and nothing is restarted. With O(runtimes=[auto]) every runtime is cleaned up, installed
        or not.
    type: str
    choices: [present, absent]
    default: present
  runtimes:
    description:
      - V(auto) (alone) configures every runtime installed on the host, with one exception - on a Docker host
        (dockerd installed) containerd is configured only when a kubelet runs, since Debian's C(docker.io) runs on the
        system containerd and a containerd that only serves dockerd needs nothing (and must not be restarted for
        nothing). A dockerd-managed containerd (C(/var/run/docker/containerd)) reads none of these files and is never
        touched.
      - Or a list of V(docker), V(containerd), V(containers) - exactly those are configured, installed or not (a missing
        tool skips that runtime's check or restart).
      - The result's RV(runtimes) says what was found and why each runtime was or was not configured.
    type: list
    elements: str
    choices: [auto, docker, containerd, containers]
    default: [auto]
  ca_content:
    description:
      - PEM text of the CA certificate that signed the registry's certificate, or several CA certificates (a bundle,
        for example the old and the next CA during a rollover - dockerd trusts every certificate in the file). Omit
        for a plain-HTTP registry.
      - Only C(CERTIFICATE) blocks are accepted; any other PEM block (a private key, a CSR) is refused without being
        shown. Text outside the blocks is dropped; the certificates are written in canonical PEM.
      - Written, per runtime, to C(<dir>/<host:port>/ca.crt), and for port 443 also to C(<dir>/<host>/ca.crt) -
        dir being O(certs_dir), O(containerd_certs_dir) (where C(hosts.toml) names it) and O(containers_certs_dir).
        Missing directories are created 0755, the files are 0644. Without O(ca_content) existing CA files are left
        alone (O(state=absent) removes them).
    type: str
  certs_dir:
    description: dockerd's certificate directory.
    type: path
    default: /etc/docker/certs.d
  insecure:
    description:
      - V(true) for a plain-HTTP registry - adds O(registry) to C(insecure-registries).
      - V(false) removes it from there (written as C([]) when the list becomes empty), so switching a registry from
        HTTP to TLS clears the entry; likewise containerd's C(hosts.toml) turns to C(https://) and the containers
        drop-in goes.
      - Also C(server = "http://...") in containerd's C(hosts.toml) and C(insecure = true) in a containers drop-in.
    type: bool
    default: false
  mirrors:
    description:
      - Docker Hub mirrors, http(s) URLs without credentials, path or query, tried in order before Docker Hub -
        merged into dockerd's C(registry-mirrors), written as pull hosts to containerd's C(docker.io/hosts.toml) and
        as C([[registry.mirror]]) entries of C(docker.io) in a containers drop-in.
      - The mirrors this module wrote are recorded per registry in O(record_path); one that leaves this list (or whose
        registry goes with O(state=absent)) is removed from every runtime again, while mirrors configured by other
        means stay in daemon.json.
      - A mirror served by this registry itself is trusted with O(ca_content) in containerd's file as well.
    type: list
    elements: str
    default: []
  caches:
    description:
      - Pull-through caches of this registry (registries running with C(proxy.remoteurl) pointing at it), as
        C(host[:port]), tried in order before the registry itself for pulls; one that does not answer is skipped.
      - containerd - a pull/resolve C([host]) of each cache in the registry's C(hosts.toml), trusted with the C(ca.crt)
        the cache's own run put in its directory there. containers/image - a C([[registry.mirror]]) of each cache in
        the registry's drop-in (credentials per cache from C(auth.json)).
      - dockerd mirrors Docker Hub only (C(registry-mirrors)); Docker clients pull from a cache by its own name
        (C(<cache>/<repository>)). For a cache of Docker Hub use O(mirrors).
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
      - Store a login for O(registry) for root, like C(docker login) - for docker in O(login.config_path), for
        containers in O(containers_auth_file). containerd keeps no credentials (the kubelet passes image pull secrets,
        C(ctr) takes C(--user)).
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
      - Written where every configured runtime presents it - docker C(<certs_dir>/<host:port>/client.cert) and
        C(client.key) (and C(<host>/) for port 443); containers the same names in O(containers_certs_dir)
        (containers/image takes any C(*.cert) with its C(*.key)); containerd the same names next to the CA in its
        hosts directory, named by C(client = [[cert, key]]) in C(hosts.toml). The key is written first, 0600; the
        certificate 0644. Every runtime reads them per connection - no reload, no restart.
      - Omitted - any pair there is left alone (containerd's C(hosts.toml) keeps naming a pair that is there).
        O(state=absent) removes it with the rest.
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
        description: V(absent) removes this registry's pair from every runtime's directory.
        type: str
        choices: [present, absent]
        default: present
  check:
    description:
      - Query the registry through each configured runtime's own tool and fail the host with the tool's message on an
        x509, TLS or connection error. Anonymous on purpose - an C(unauthorized) or C(not found) answer proves a
        trusted connection, and a fleet-wide rerun does not make the registry check a bcrypt hash per host;
        credentials are verified whenever O(login) is written.
      - docker - the engine's C(POST /auth). containerd - C(ctr content fetch-object --hosts-dir <containerd_certs_dir>)
        of a manifest that is not there (C(berth/registry-client-check:absent)) - containerd's own hosts.toml code with
        exactly the CA files C(hosts.toml) names; nothing is stored and the daemon is not involved. containers -
        C(skopeo inspect --raw --no-creds) of the same reference (else C(podman manifest inspect) with an empty auth
        file) - containers/image with this host's C(certs.d) and C(registries.conf.d).
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
  containerd_config:
    description:
      - containerd's C(config.toml). A missing (or empty) file gets a minimal one - C(version = 2) for containerd
        1.x, C(version = 3) for 2.x (asked of C(containerd --version)) - with only C(config_path) set.
      - An existing file is edited as text - C(config_path) set in
        C([plugins."io.containerd.grpc.v1.cri".registry]) (version 2), C([plugins."io.containerd.cri.v1.images".registry])
        (version 3) or C([plugins.cri.registry]) (version 1) - and the result is parsed back; it must hold exactly the
        old settings plus C(config_path), else the host fails and the file is left as it was. Comments, order and
        layout stay.
      - An existing C(config_path) is kept and its first directory used; O(containerd_certs_dir) given and not in it
        is put first.
      - Reading it needs Python 3.11 (C(tomllib)) or the C(tomli) package on the host (Debian/Ubuntu
        C(python3-tomli)); without either the host fails naming them, nothing is guessed.
    type: path
    default: /etc/containerd/config.toml
  containerd_certs_dir:
    description: containerd's hosts directory (C(config_path)); default the first directory of an existing
      C(config_path), else C(/etc/containerd/certs.d).
    type: path
  containerd_migrate:
    description:
      - Move legacy C(mirrors) and C(configs.<host>.tls) entries of C(config.toml), which make containerd's CRI plugin
        fail to load next to C(config_path), into C(hosts.toml) files (C(server), pull/resolve hosts, C(ca),
        C(client), C(skip_verify)) and out of C(config.toml), proven by parsing both like every edit. A hosts.toml that
        exists already, or a legacy C(docker.io) mirror next to O(mirrors), fails the host instead.
      - V(false) fails the host naming the entries, with C(config.toml) left as it was.
    type: bool
    default: false
  containerd_restart:
    description:
      - Restart a running containerd (C(systemctl restart containerd) under systemd, else C(service containerd
        restart) / its init script) when C(config.toml) changed - once, and only then; the CRI plugin must then report
        C(ok) in C(ctr plugins ls). A containerd that is not running is not started.
      - V(false) writes the files and warns that the restart is yours to do.
    type: bool
    default: true
  containers_certs_dir:
    description: The containers/image certificate directory (Podman, Buildah, Skopeo, CRI-O).
    type: path
    default: /etc/containers/certs.d
  containers_registries_d:
    description:
      - The containers-registries.conf.d directory. This module owns C(50-berth-registry-<host_port>.conf)
        (C(insecure = true) for a plain-HTTP registry; removed under TLS) and C(50-berth-mirrors.conf) (Docker Hub
        mirrors; removed when there are none). A later file with the same prefix overrides them.
    type: path
    default: /etc/containers/registries.conf.d
  containers_auth_file:
    description:
      - Where the containers login is stored. Root's C(~/.config/containers/auth.json) is the first file
        containers/image reads that survives a reboot; C(/run/containers/0/auth.json), read before it (and where
        C(podman login) writes by default), is a tmpfs - a login found there for the registry is named in a warning,
        since it wins until the next reboot.
    type: path
    default: /root/.config/containers/auth.json
  record_path:
    description: The module's record of the Docker Hub mirrors it wrote, per registry (JSON, 0644, no secrets; removed
      when empty).
    type: path
    default: /var/lib/berth/registry_client.json
seealso:
  - module: berth.registry.docker_daemon_config
  - module: berth.registry.registry_doctor
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

- name: Only containerd and Podman, with containerd's legacy mirrors moved into hosts.toml
  berth.registry.registry_client:
    registry: registry.example.internal:5000
    ca_content: "{{ lookup('ansible.builtin.file', 'pki/ca.crt') }}"
    runtimes: [containerd, containers]
    containerd_migrate: true
    check: true

- name: Forget the registry on every runtime
  berth.registry.registry_client:
    registry: registry.example.internal:5000
    state: absent
'''

RETURN = r'''
differences:
  description:
    - What differs (or differed) from the wanted state, one entry per difference, fields named after the unit -
      V(<runtime> CA <path>) (before/after - SHA-256 fingerprints), V(docker daemon.json <key>) (before/after - the
      key's value; only the keys this module owns, never the rest of daemon.json), V(<runtime> login <registry> in
      <path>) (before/after - the user name, never the password), V(<runtime> client certificate <path>) (SHA-256
      fingerprints), V(<runtime> client key <path>) (masked - only that it appears, changes or goes),
      V(containerd config <path>) (before/after - C(config_path) and legacy entries), V(containerd hosts.toml <path>),
      V(containerd mirrors <path>) and V(containers registries.conf.d <path>) (before/after - the file's text),
      V(record <path> mirrors of <registry>), V(hosts <path>) (before/after - the lines naming the host), and
      V(<field> mode)/V(owner)/V(group) for file attributes.
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
  description: dockerd's CA files for the registry in certs.d (empty when docker is not configured).
  type: list
  elements: str
  returned: always
client_certificate_paths:
  description: Where dockerd finds this node's client certificate and key, one pair per certs.d directory (the other
    runtimes' are in their own results).
  type: list
  elements: dict
  returned: when client_certificate is given with state present
  sample:
    - cert: /etc/docker/certs.d/registry.example.internal:443/client.cert
      key: /etc/docker/certs.d/registry.example.internal:443/client.key
runtimes:
  description: Per runtime, whether it was found and whether this run configured it, and why not.
  type: dict
  returned: always
  sample:
    docker: {present: true, configured: true, reason: null}
    containerd: {present: true, configured: false, reason: "serves dockerd (...) and no kubelet uses its CRI: ..."}
    containers: {present: false, configured: false, reason: "not installed (no podman, buildah, skopeo, crio)"}
containerd:
  description: What the containerd unit did.
  type: dict
  returned: when containerd is configured
  contains:
    config:
      description: config.toml.
      type: str
    hosts_dir:
      description: The hosts directory written to (in config_path).
      type: str
    config_path:
      description: config_path after the run.
      type: str
    config_version:
      description: The version of config.toml.
      type: int
    ca_paths:
      description: The CA files hosts.toml names.
      type: list
      elements: str
    client_certificate_paths:
      description: The client certificate and key hosts.toml names (C(client)), one pair per directory.
      type: list
      elements: dict
    migrated:
      description: The legacy entries moved to hosts.toml.
      type: list
      elements: str
    restart:
      description: V(not needed), V(needed) (check mode), V(restarted), V(not running) (takes effect at its next start)
        or V(pending) (O(containerd_restart=false)).
      type: str
    restart_command:
      description: The command that restarted containerd.
      type: str
    restarted:
      description: Whether containerd was restarted.
      type: bool
containerd_restarted:
  description: Whether containerd was restarted by this run (only when config.toml had to change; never on a rerun).
  type: bool
  returned: always
containers:
  description: What the containers unit did.
  type: dict
  returned: when containers is configured
  contains:
    ca_paths:
      description: The CA files.
      type: list
      elements: str
    client_certificate_paths:
      description: The client certificate and key (C(client.cert), C(client.key)) next to each CA file.
      type: list
      elements: dict
    registries_d:
      description: The drop-in directory.
      type: str
    auth_file:
      description: Where a login is stored.
      type: str
    login_verified_by:
      description: The tool whose login verified new credentials in this run.
      type: str
    reloaded:
      description: CRI-O processes sent SIGHUP.
      type: list
      elements: str
state:
  description:
    - A summary for the fleet report (M(berth.registry.registry_report); schema C($defs/registry_client_state) of
      docs/report.schema.json).
  type: dict
  returned: always
  contains:
    runtimes:
      description: "[{name, present, configured}] per runtime (configured - this run wrote or found the registry's
        trust for it; false with O(state=absent))."
      type: list
      elements: dict
    trusted:
      description: "[{runtime, path, fingerprint_sha256}] - every CA certificate in the files the runtimes trust for
        the registry after the run (one entry per certificate, fingerprints C(AB:CD:..) upper case)."
      type: list
      elements: dict
    registry_keys:
      description: daemon.json's C(insecure-registries) and C(registry-mirrors) after the run (only keys present;
        only when docker is configured).
      type: dict
    login:
      description: "{user, config_path} of the stored login (docker's, else containers'), or null. Never the password."
      type: dict
    check:
      description: "{passed, text} of the runtimes' checks, or null when not checked."
      type: dict
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
  description: The checks' answers when O(check=true) - one runtime's text as it is, several each prefixed with the
    runtime's name and joined by semicolons.
  type: str
  returned: when check is true
  sample: 'docker: reachable and trusted (anonymous: ...); containerd: reachable and trusted through
    /etc/containerd/certs.d (ctr: ...: not found)'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._registry_client import RegistryClient, argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: RegistryClient(module).run())


if __name__ == '__main__':
    main()
