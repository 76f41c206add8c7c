#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: htpasswd
short_description: The registry's htpasswd file with bcrypt C($2y$) hashes
description:
  - Manages users in an htpasswd file as read by CNCF Distribution (C(auth.htpasswd)).
  - New and changed passwords are hashed with bcrypt and written with the C($2y$) prefix,
    like C(htpasswd -B). An existing C($2y$), C($2b$) or C($2a$) hash is checked with
    C(bcrypt.checkpw), so the same password on a rerun changes nothing; a new password
    rehashes that user only. Hashes of other schemes are replaced by bcrypt when a password is given.
  - Blank lines, C(#) comments, unrelated users and the order of lines are preserved; new users are appended.
  - A malformed existing line is an error naming its line number, and the file is left untouched.
  - Uses C(bcrypt) directly, never passlib.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff lists user names (C(user NAME), C(user NAME password) masked as changed) and file attributes,
        never hashes or passwords.
  idempotent:
    support: full
requirements:
  - bcrypt >= 3.2.2 on the host the module runs on
options:
  path:
    description:
      - Path of the htpasswd file.
    type: path
    required: true
  users:
    description:
      - Users to manage.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - User name, at most 255 characters; must not contain C(:), whitespace or any control character
            (newline, NUL, ...), nor start with C(#).
        type: str
        required: true
      password:
        description:
          - Password (1 to 72 bytes, the bcrypt limit; no NUL). Required for a user that does not exist yet;
            when omitted for an existing user, that user's hash is kept.
        type: str
      state:
        description:
          - Whether the user is in the file.
        type: str
        choices: [present, absent]
        default: present
  exclusive:
    description:
      - Remove every user of the file that is not listed in O(users).
    type: bool
    default: false
  cost:
    description:
      - bcrypt cost (log2 rounds) for new hashes, 4..31. Existing hashes that verify are kept whatever their cost.
    type: int
    default: 10
  mode:
    description:
      - Mode of the file, as an octal string (0000 to 7777, e.g. C('0640')) or a symbolic mode (C(u=rw,g=r)).
        A differing mode on an existing file is corrected and reported.
      - A symlink is followed; its target gets the content and the mode, the link stays.
    type: raw
    default: '0640'
  owner:
    description:
      - Owner (name or uid) of the file; unchanged when not set.
    type: str
  group:
    description:
      - Group (name or gid) of the file; unchanged when not set.
    type: str
  create:
    description:
      - Create the file when it does not exist. With V(false) a missing file is an error when users would be added.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Registry users
  berth.registry.htpasswd:
    path: /etc/docker/registry/auth/nginx.htpasswd
    users:
      - name: ci
        password: "{{ vault_registry_ci_password }}"
      - name: olduser
        state: absent
    group: root

- name: Exactly these users
  berth.registry.htpasswd:
    path: /etc/docker/registry/auth/nginx.htpasswd
    exclusive: true
    users: "{{ registry_users }}"
'''

RETURN = r'''
path:
  description: Path of the htpasswd file.
  returned: always
  type: str
differences:
  description:
    - One item per change (replaces the former C(users_added), C(users_updated), C(users_removed)).
    - C(user NAME) from V(null) to V(present) (added) or from V(present) to V(null) (removed);
      C(user NAME password) with masked values, never a hash or password (rehashed); C(htpasswd mode),
      C(htpasswd owner), C(htpasswd group) for file attributes.
  returned: always
  type: list
  elements: dict
  contains:
    field:
      description: What differs.
      type: str
    before:
      description: The current value (V(null) when absent).
      type: raw
    after:
      description: The wanted value (V(null) when removed).
      type: raw
  sample: [{"field": "user alice", "before": null, "after": "present"}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._htpasswd_file import Htpasswd, htpasswd_argument_spec


def main():
    module = AnsibleModule(argument_spec=htpasswd_argument_spec(), supports_check_mode=True)
    run_module(module, lambda: Htpasswd(module).run())


if __name__ == '__main__':
    main()
