# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Options the registry_server action and the registry_host module share
    # (argument spec: module_utils/_registry_server/options.py).
    DOCUMENTATION = r'''
options:
  config_dir:
    description: Configuration directory on the registry host, mounted read-only into the container at
      C(/etc/docker/registry).
    type: path
    default: /etc/docker/registry
  users:
    description: Registry users in C(auth/htpasswd) (bcrypt C($2y$), compared with C(checkpw), never re-hashed on a rerun).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: User name.
        type: str
        required: true
      password:
        description: Password (never shown). Required for a user that does not exist yet.
        type: str
      state:
        description: Whether the user exists.
        type: str
        choices: [present, absent]
        default: present
      access:
        description:
          - V(push) may pull, push and delete; V(pull) may log in and pull only.
          - With any V(pull) user the registry host runs the nginx front end (Debian's C(nginx)), which checks the users
            in two htpasswd files under C(<config_dir>/frontend/) and refuses a pull user's write with C(403 DENIED);
            the registry then has no users of its own and listens on 127.0.0.1 only.
        type: str
        choices: [pull, push]
        default: push
  users_exclusive:
    description: Remove htpasswd users that O(users) does not list.
    type: bool
    default: true
  htpasswd_cost:
    description: bcrypt cost of new hashes (4..31).
    type: int
    default: 10
  packages:
    description:
      - Debian packages the registry host needs. A C(python3-*) package counts as present when its module imports with
        the host's Python, any other when dpkg lists it installed (no python3-apt needed to tell).
    type: list
    elements: str
    default: [python3-docker, python3-bcrypt]
  docker_host:
    description: Engine API address on the registry host (C(unix://) socket or C(tcp://host:port)).
    type: str
    default: unix:///var/run/docker.sock
  timeout:
    description: Seconds for each engine API call.
    type: int
    default: 60
'''
