#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: docker_daemon_config
short_description: Manage keys of dockerd's daemon.json and make the running daemon take them
description:
  - Owns only the keys it is given; every other key of the file, its value and its position, stays as it is.
  - Merges entries into list-valued keys (O(merge)), removes entries from them (O(remove)) and sets keys to exact
    values (O(settings)).
  - Refuses a key that the running dockerd (or the C(ExecStart) of C(docker.service)) also gets as a command-line
    flag, because dockerd refuses to start with a key both in the file and on the command line.
  - Reloads dockerd (SIGHUP) after a change, restarts it only when a changed key cannot be reloaded, and confirms
    through the engine's C(GET /info) that C(insecure-registries) and C(registry-mirrors) took effect.
  - Needs only python3's standard library on the target; the engine API is reached over its unix socket.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._dockerd
attributes:
  check_mode:
    support: full
    details: Nothing is written and no signal is sent; the result tells what would change.
  diff_mode:
    support: full
    details: The before/after values of the keys this task manages; never the other keys of the file (which may hold
      proxy passwords). User and password parts of URLs are shown as C(***).
  idempotent:
    support: full
options:
  path:
    description:
      - The daemon.json file. Created (mode 0644) if missing; an existing file keeps its mode. A symlink is followed
        (its target is written, the link stays).
      - It must hold a JSON object of standard JSON (no C(NaN) or C(Infinity)), at most 1 MiB; anything else fails
        with the file named and its bytes untouched.
    type: path
    default: /etc/docker/daemon.json
  merge:
    description:
      - 'List-valued keys and the entries they must contain, for example C({"insecure-registries": ["reg:5000"]}).'
      - Missing entries are appended; existing entries keep their order.
    type: dict
    default: {}
  remove:
    description:
      - List-valued keys and the entries they must not contain.
      - A list that becomes empty is written as C([]), not deleted, because dockerd keeps a deleted key's old
        value on reload.
    type: dict
    default: {}
  settings:
    description:
      - 'Keys set to exactly these JSON values, for example C({"debug": true}) or C({"registry-mirrors": []}).'
      - The password of a URL in a value (for example in C(proxies)) is masked in the module's output.
    type: dict
    default: {}
  apply:
    description:
      - How the running daemon takes a change.
      - V(auto) reloads (C(systemctl reload docker) when systemd runs the daemon as docker.service, else SIGHUP
        to its pid), and restarts instead when a changed key cannot be reloaded (for example C(log-driver)).
      - V(reload) never restarts; a key that cannot be reloaded gives a warning that it takes effect at the next
        restart.
      - V(restart) always restarts after a change (C(systemctl restart docker), else the init script, else
        O(restart_command)) and waits until the engine answers.
      - V(none) only writes the file.
    type: str
    choices: [auto, reload, restart, none]
    default: auto
  restart_command:
    description:
      - Command (argv list) that restarts this dockerd when it is neither docker.service nor the init-script daemon.
      - Used for restarts only; the module then waits until the engine answers on O(docker_host).
    type: list
    elements: str
  validate:
    description:
      - Also run C(dockerd --validate --config-file) on the new content when the installed dockerd supports it
        (Docker 23 and later). The module's own checks (JSON object, list keys are lists of strings, registry
        entries are C(host[:port]) or CIDR, mirrors are http(s) URLs without credentials) always run.
    type: bool
    default: true
  backup:
    description: Keep a copy of the old file next to it before changing it (returned as RV(backup_file)).
    type: bool
    default: false
notes:
  - Keys given as dockerd flags are read from C(/proc/<pid>/cmdline) of the running daemon and, under systemd, from
    C(systemctl show docker -p ExecStart).
'''

EXAMPLES = r'''
- name: Let dockerd pull from a plain-HTTP registry and use a mirror
  berth.registry.docker_daemon_config:
    merge:
      insecure-registries: ["registry.example.internal:5000"]
      registry-mirrors: ["https://mirror.example.internal"]

- name: The registry now has TLS, drop it from the insecure list (written as [] when empty)
  berth.registry.docker_daemon_config:
    remove:
      insecure-registries: ["registry.example.internal:5000"]

- name: Change the log driver (needs a restart, which auto does and reports)
  berth.registry.docker_daemon_config:
    settings:
      log-driver: local
    backup: true
'''

RETURN = r'''
differences:
  description:
    - The keys this task manages whose value differs (or differed), one entry per key with its value before and
      after (null when absent). Other keys of the file never show here, nor in the diff.
    - Empty when nothing changes.
  type: list
  elements: dict
  returned: always
  contains:
    field:
      description: The daemon.json key.
      type: str
    before:
      description: Its current value, or null when absent.
      type: raw
    after:
      description: Its wanted value, or null when it goes.
      type: raw
  sample:
    - field: insecure-registries
      before: ['old.example:5000']
      after: ['old.example:5000', 'registry.example.internal:5000']
path:
  description: The daemon.json file.
  type: str
  returned: always
managed_config:
  description:
    - The keys this task manages (given in O(merge), O(remove) or O(settings)) with their resulting values (what the
      file holds, or would hold in check mode). User and password parts of URLs are shown as C(***).
  type: dict
  returned: success
  sample: {"insecure-registries": ["registry.example.internal:5000"]}
backup_file:
  description: The copy of the old file, when O(backup=true) and the file changed.
  type: str
  returned: changed and backup requested
applied:
  description:
    - V(reloaded), V(restarted), V(none) (nothing changed, or O(apply=none)), V(skipped) (check mode, or no running
      dockerd found).
  type: str
  returned: always
restarted:
  description: Whether dockerd was restarted.
  type: bool
  returned: always
restart_reason:
  description: Why dockerd was restarted.
  type: str
  returned: when restarted
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._daemon_config import DockerDaemonConfig, argument_spec
from ansible_collections.berth.registry.plugins.module_utils._errors import run_module


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: DockerDaemonConfig(module).run())


if __name__ == '__main__':
    main()
