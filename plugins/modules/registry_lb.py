#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_lb
short_description: Put HAProxy in front of registry replicas, and wait until it sees them healthy
description:
  - Runs HAProxy (Debian's package, supervised by the host's init - systemd or the init script) as a TCP
    pass-through load balancer in front of several registry replicas that share one object store. Clients keep
    their TLS connection end to end with a replica; HAProxy never sees credentials or blobs.
  - HAProxy checks every replica with an HTTP GET of C(/v2/) (over TLS unless O(check.tls=false)) and counts
    200 (no auth) and 401 (basic auth) as healthy. A connection that cannot reach its replica is retried on
    another one, so a replica that goes away between two checks costs a client a retry, not a failure.
  - O(state=present) renders the whole C(haproxy.cfg) from the options, checks it with C(haproxy -c) before it
    replaces the old file, and reloads HAProxy gracefully when it changed (connections in flight finish on the
    old process); HAProxy is started when it is not running and never restarted.
  - O(state=healthy) changes nothing; it waits until HAProxy's admin socket (C(show stat)) reports every server
    in O(wait_for) as C(UP) without a failed check for one check interval plus the check timeout, so a replica
    that was replaced between two checks is seen healthy by a check that ran after it came back. This is the
    step a rolling update takes between two replicas.
  - With O(cache), the same host also runs redis (Debian's C(redis-server)) as the replicas' blob-descriptor
    cache - a drop-in file included last by C(/etc/redis/redis.conf), no persistence, least-recently-used
    eviction. A cache that is down or empty only costs the replicas extra object-store requests.
  - A missing C(haproxy) or C(redis-server) program is reported before anything changes. The action plugin of
    the same name then installs the Debian package with M(ansible.builtin.apt) and runs the module again
    (O(install_packages)); in check mode it reports the package as to be installed.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
attributes:
  check_mode:
    support: full
    details:
      - Nothing is written, validated, started or reloaded; the differences say what would change, missing packages
        included. O(state=healthy) reads HAProxy's view once instead of waiting and warns about servers not UP.
  diff_mode:
    support: full
    details:
      - haproxy.cfg as a line diff (it holds no secret). The redis drop-in as its directives, the password only as
        C((secret)) or C((secret, changed)).
  idempotent:
    support: full
options:
  state:
    description:
      - V(present) - configure HAProxy (and the cache), make it run, then wait for O(wait_for).
      - V(healthy) - change nothing; wait until HAProxy sees every server in O(wait_for) UP.
    type: str
    choices: [present, healthy]
    default: present
  name:
    description: Name of the C(listen) section; O(state=healthy) looks up O(wait_for) in it.
    type: str
    default: registry
  bind_address:
    description: Address HAProxy listens on, C(*) for every address.
    type: str
    default: '*'
  port:
    description: Port HAProxy listens on, what clients use (the registry port). Required with O(state=present).
    type: int
  servers:
    description:
      - The registry replicas. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the server in HAProxy (letters, digits, C(-_.:)), for example the inventory name.
        type: str
        required: true
      address:
        description: IP address or DNS name of the replica.
        type: str
        required: true
      port:
        description: Port the replica publishes.
        type: int
        required: true
  balance:
    description:
      - How new connections are spread. V(leastconn) suits long blob transfers; V(source) keeps a client on one
        replica.
    type: str
    choices: [leastconn, roundrobin, source]
    default: leastconn
  check:
    description: The health check of every server.
    type: dict
    default: {}
    suboptions:
      path:
        description: URL path requested.
        type: str
        default: /v2/
      host:
        description:
          - C(Host) header and TLS server name (SNI) of the check, the registry's service name. Without it the check
            speaks HTTP/1.0 without a C(Host) header.
        type: str
      tls:
        description: Check over TLS (the replicas serve HTTPS). V(false) for plain-HTTP replicas.
        type: bool
        default: true
      ca_file:
        description:
          - A CA file on this host that the replicas' certificate must chain to (with O(check.host), the certificate
            must also name it). Without it the check does not verify the certificate - it only tells whether a
            replica answers; the clients verify it on their own connections.
        type: path
      expect_status:
        description: HTTP status codes that count as healthy.
        type: list
        elements: int
        default: [200, 401]
      interval:
        description: Milliseconds between two checks of a server.
        type: int
        default: 2000
      timeout:
        description: Milliseconds a check may take.
        type: int
        default: 2000
      rise:
        description: Good checks in a row before a DOWN server is UP again.
        type: int
        default: 2
      fall:
        description: Failed checks in a row before an UP server is DOWN.
        type: int
        default: 2
  timeouts:
    description: HAProxy timeouts in milliseconds.
    type: dict
    default: {}
    suboptions:
      connect:
        description: To connect to a server before the connection is retried (on another server).
        type: int
        default: 2000
      client:
        description: A client connection may stay idle this long (a slow push).
        type: int
        default: 300000
      server:
        description: A server connection may stay idle this long.
        type: int
        default: 300000
  maxconn:
    description: Most connections HAProxy accepts at once.
    type: int
    default: 4096
  config_path:
    description: The HAProxy configuration file. The module owns all of it (mode 0644).
    type: path
    default: /etc/haproxy/haproxy.cfg
  stats_socket:
    description: HAProxy's admin socket, declared in the configuration and read by O(state=healthy) and O(wait_for).
    type: path
    default: /run/haproxy/admin.sock
  cache:
    description:
      - Also run redis on this host as the blob-descriptor cache of the replicas (Distribution's
        C(storage.cache.blobdescriptor=redis) with C(redis.addr) pointing here). Omit it for no cache.
    type: dict
    suboptions:
      bind:
        description: Addresses redis listens on - this host's address the replicas reach, and C(127.0.0.1).
        type: list
        elements: str
        default: ['127.0.0.1']
      port:
        description: The redis port.
        type: int
        default: 6379
      password:
        description:
          - The password replicas authenticate with (C(requirepass)); 1 to 512 printable ASCII characters without spaces,
            double quotes or backslashes. Never shown.
          - Without it redis answers anyone who reaches O(cache.bind) (protected mode is turned off).
        type: str
      maxmemory:
        description: Memory limit of the cache, a redis size such as V(256mb); V(0) for none.
        type: str
        default: 256mb
      config_path:
        description: The drop-in this module owns (mode 0640, group redis).
        type: path
        default: /etc/redis/berth-registry.conf
      redis_config_path:
        description: Debian's redis configuration; one C(include) line of the drop-in is appended to it once.
        type: path
        default: /etc/redis/redis.conf
  wait_for:
    description:
      - Server names (from O(servers)) that must be UP in HAProxy before the task returns; required with
        O(state=healthy).
    type: list
    elements: str
    default: []
  wait_timeout:
    description: Seconds to wait for O(wait_for) before failing with each server's last status.
    type: int
    default: 120
  install_packages:
    description:
      - Whether the action plugin installs missing Debian packages (C(haproxy), C(redis-server)) with
        M(ansible.builtin.apt). V(false) fails instead, naming them.
    type: bool
    default: true
notes:
  - Debian's C(haproxy) 2.6 and C(redis-server) 7.0 (bookworm) are what the module is tested with.
seealso:
  - module: berth.registry.registry_container
'''

EXAMPLES = r'''
- name: HAProxy in front of two replicas, with the redis cache, waiting until both are healthy
  berth.registry.registry_lb:
    port: 443
    servers:
      - {name: registry1, address: 10.0.0.10, port: 443}
      - {name: registry2, address: 10.0.0.11, port: 443}
    check:
      host: registry.example.internal
    cache:
      bind: [10.0.0.5, 127.0.0.1]
      password: "{{ registry_cache_password }}"
    wait_for: [registry1, registry2]

- name: Rolling update - after replacing this replica, wait until the load balancer sees it healthy again
  berth.registry.registry_lb:
    state: healthy
    wait_for: ["{{ inventory_hostname }}"]
  delegate_to: "{{ groups['registry_lb'] | first }}"
'''

RETURN = r'''
differences:
  description: What differs (or differed); the same data as the diff. Empty when nothing changes.
  returned: always
  type: list
  elements: dict
  contains:
    field:
      description:
        - C(haproxy.cfg) - the configuration text; C(haproxy.cfg mode) and the like - its attributes.
        - C(haproxy) - the service is started (before is C(stopped), or C(absent) when the package is missing).
        - C(haproxy enabled at boot) - systemd hosts only.
        - C(package haproxy), C(package redis-server) - installed by the action plugin.
        - C(cache bind), C(cache port), C(cache maxmemory), ... - a directive of the redis drop-in.
        - C(cache password) - only whether it appears or changes.
        - C(redis.conf include) - the include line is added to redis.conf.
        - C(redis-server) - the cache service is started.
      type: str
    before:
      description: The current value; none when absent.
      type: raw
    after:
      description: The wanted value.
      type: raw
  sample:
    - {field: haproxy, before: stopped, after: running}
    - {field: cache password, before: null, after: '(secret)'}
config_path:
  description: The HAProxy configuration file.
  returned: state=present
  type: str
service:
  description: What happened to HAProxy - V(started), V(reloaded), V(none), or V(skipped) (check mode).
  returned: state=present
  type: str
servers:
  description:
    - HAProxy's view of the servers of the C(listen) section, by name (C(show stat)).
    - Empty when the admin socket did not answer (in check mode before the first run).
  returned: success
  type: dict
  sample:
    registry1: {status: UP, check_status: L7OK, check_code: '401', lastchg: '42', addr: '10.0.0.10:443', scur: '0'}
cache:
  description: The redis cache - C(config_path) and C(service) (V(started), V(restarted), V(none), V(skipped)).
  returned: when O(cache) is given
  type: dict
missing_packages:
  description: Debian packages the host lacks (check mode, or a failure with O(install_packages=false)).
  returned: when packages are missing
  type: list
  elements: str
packages_installed:
  description: Debian packages the action plugin installed before running the module again.
  returned: when it installed some
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._lb.driver import LbDriver
from ansible_collections.berth.registry.plugins.module_utils._lb.spec import REQUIRED_IF, argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), required_if=REQUIRED_IF, supports_check_mode=True)
    run_module(module, lambda: LbDriver(module).run())


if __name__ == '__main__':
    main()
