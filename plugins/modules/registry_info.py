#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_info
short_description: What the registry host holds - certificate, users, repositories, storage, container
description:
  - Read-only facts of the registry host for the fleet report (M(berth.registry.registry_report)).
  - The certificate the registry serves (subject, SANs, not_after, days left, fingerprint), the user names of its
    htpasswd file (never the hashes), the repositories and tags in its storage (counted from the filesystem driver's
    layout, so no credentials are needed), the data directory's size and the container's state (engine API over
    its unix socket).
  - Needs only python3's standard library on the target. Nothing is written.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._info_module
options:
  data_dir:
    description: The registry's storage on the host (filesystem driver).
    type: path
    default: /var/lib/registry
  config_dir:
    description: The registry's configuration directory (C(ssl/registry.crt), C(auth/htpasswd) below it).
    type: path
    default: /etc/docker/registry
  cert_path:
    description: The certificate the registry serves. Defaults to C(<config_dir>/ssl/registry.crt).
    type: path
  htpasswd_path:
    description: Its htpasswd file. Defaults to C(<config_dir>/auth/htpasswd).
    type: path
  container_name:
    description: The registry container.
    type: str
    default: registry
  docker_host:
    description: The engine API, C(unix://) socket or plain C(tcp://host:port).
    type: str
    default: unix:///var/run/docker.sock
  max_files:
    description: Stop counting the data directory's size after this many files (C(complete) in RV(storage) is then false).
    type: int
    default: 200000
seealso:
  - module: berth.registry.registry_report
'''

EXAMPLES = r'''
- name: What the registry holds
  berth.registry.registry_info:
  register: registry_info_result
'''

RETURN = r'''
changed:
  description: Always false.
  type: bool
  returned: always
differences:
  description: Always empty.
  type: list
  elements: dict
  returned: always
certificate:
  description: The served certificate - subject, issuer, not_before, not_after, days_left, dns_names, ip_addresses,
    is_ca, key_type, serial, fingerprint_sha256, path. Null when there is none (plain HTTP).
  type: dict
  returned: always
users:
  description: User names in the htpasswd file.
  type: list
  elements: str
  returned: always
htpasswd_path:
  description: The htpasswd file read.
  type: str
  returned: always
repositories:
  description: Repositories in storage, each with name and tags (count).
  type: list
  elements: dict
  returned: always
storage:
  description: The data directory - path, exists, bytes (allocated), files, complete, repositories (count), tags (count).
  type: dict
  returned: always
container:
  description: The registry container - name, found, running, status, started_at, image, restart_count (or error).
  type: dict
  returned: always
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._registry_info import RegistryInfo, argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: RegistryInfo(module).run())


if __name__ == '__main__':
    main()
