#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_gc
short_description: Garbage-collect a Distribution registry container in a read-only window
description:
  - Frees the disk space of blobs no manifest references any more (after images were deleted through the API) by
    running C(registry garbage-collect) inside the running registry container through the Docker SDK (exec).
  - Distribution requires that nothing writes while it collects. The module first runs C(garbage-collect --dry-run)
    in the live registry (it only reads); when nothing is eligible it stops there - no restart, nothing changed.
    Otherwise it opens a read-only window - the registry container is stopped and a read-only twin
    (C(<name>-berth-readonly)) started on the same port, storage and configuration, with the environment
    override C(REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}) - collects in the twin, and brings the
    registry container back (also when the collection failed). Pulls are served during the window; pushes and
    deletes get the registry's read-only error. Each swap refuses new connections for about a second on a single
    registry host (the old container stops before the next one can publish the port).
  - The registry container itself is only stopped and started again - its ID, labels and restart hash are kept, so
    the server side sees nothing to change afterwards; config.yml is not touched.
  - Tagged images are never deleted. O(delete_untagged) also deletes manifests without a tag; on Distribution 2.x it
    is refused when the storage holds a multi-arch image index, because 2.x deletes the untagged platform manifests
    of tagged indexes (distribution#3178, fixed in 3.0).
  - Deleted images are only freed when the registry allows deletes (C(storage.delete.enabled)).
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs only C(garbage-collect --dry-run) in the live registry and predicts C(changed) from it; no window.
  diff_mode:
    support: full
    details: Counts and modes only.
  idempotent:
    support: full
    details: A second run finds nothing eligible and changes nothing (no window, no restart).
options:
  name:
    description: The registry container.
    type: str
    default: registry
  state:
    description:
      - V(collected) runs the whole window on this host (read-only, collect, read-write).
      - V(readonly) only switches to the read-only twin; V(readwrite) only switches back. With replicas sharing one
        storage, put every replica in read-only mode first, collect once with O(restore=false), then bring every
        replica back.
    type: str
    choices: [collected, readonly, readwrite]
    default: collected
  delete_untagged:
    description: Also delete manifests that no tag points to (C(--delete-untagged)).
    type: bool
    default: false
  dry_run:
    description: Only report what would be deleted (RV(eligible)); no window.
    type: bool
    default: false
  restore:
    description: With O(state=collected), return to read-write after collecting.
    type: bool
    default: true
  config_path:
    description: The config file inside the container. Defaults to the last C(.yml) argument of its command.
    type: str
  binary:
    description: The registry binary inside the container.
    type: str
    default: /bin/registry
  rootdirectory:
    description: The storage's root directory inside the container (filesystem driver).
    type: str
    default: /var/lib/registry
  data_dir:
    description:
      - The storage on this host, for the bytes before and after. Defaults to what is mounted at O(rootdirectory).
        With another storage driver (S3) no bytes are reported.
    type: path
  timeout:
    description: Seconds the registry (or its twin) may take to answer after a start.
    type: int
    default: 60
  stop_timeout:
    description: Seconds a container gets to stop (it finishes the requests it serves) before it is killed.
    type: int
    default: 10
  max_files:
    description: At most this many files are counted for the bytes before and after.
    type: int
    default: 1000000
  docker_host:
    description: The Docker engine (C(unix://) or C(tcp://)).
    type: str
    default: unix:///var/run/docker.sock
  api_timeout:
    description: Seconds an engine call may take (C(garbage-collect) itself runs in one exec call).
    type: int
    default: 600
requirements:
  - Docker SDK for Python >= 5.0.3 on the registry host
seealso:
  - module: berth.registry.registry_container
  - module: berth.registry.registry_info
'''

EXAMPLES = r'''
- name: Free the space of deleted images
  berth.registry.registry_gc:
    name: registry
  register: gc

- name: Show what it freed
  ansible.builtin.debug:
    msg: "{{ gc.blobs_deleted }} blobs, {{ gc.bytes_before }} -> {{ gc.bytes_after }} bytes"

- name: What would go, untagged manifests included (nothing changes)
  berth.registry.registry_gc:
    delete_untagged: true
    dry_run: true
'''

RETURN = r'''
container:
  description: The registry container's name.
  type: str
  returned: always
readonly:
  description: Whether the registry is in read-only mode (its twin serves) after the run.
  type: bool
  returned: always
readonly_before:
  description: Whether it was before the run.
  type: bool
  returned: always
registry_version:
  description: The registry's version (C(registry --version)), with O(state=collected).
  type: str
  returned: always
config_path:
  description: The config file garbage-collect read inside the container.
  type: str
  returned: always
data_dir:
  description: The storage on this host (null when it is not on this host).
  type: str
  returned: always
eligible:
  description:
    - What the dry run found - blobs_marked, blobs_eligible, manifests_eligible, and bytes (of the eligible blobs
      on this host; null without the storage on this host). Null unless O(state=collected).
  type: dict
  returned: always
bytes_before:
  description: Allocated bytes of the storage before the collection (like C(du)); null without a collection.
  type: int
  returned: always
bytes_after:
  description: The same after the collection.
  type: int
  returned: always
bytes_freed:
  description: bytes_before - bytes_after.
  type: int
  returned: always
blobs_marked:
  description: Blobs garbage-collect kept (referenced).
  type: int
  returned: always
blobs_deleted:
  description: Blobs deleted.
  type: int
  returned: always
manifests_deleted:
  description: Untagged manifests deleted (O(delete_untagged)).
  type: int
  returned: always
window:
  description: Whether this run opened a read-only window.
  type: bool
  returned: always
readonly_seconds:
  description: How long the registry was read-only in this run.
  type: float
  returned: always
output:
  description: The last lines garbage-collect printed.
  type: str
  returned: always
differences:
  description: What changed (or would) - field, before, after.
  type: list
  elements: dict
  returned: always
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._registry_gc import module as gc_module


def main():
    module = AnsibleModule(argument_spec=gc_module.argument_spec(), supports_check_mode=True)
    run_module(module, lambda: gc_module.run(module))


if __name__ == '__main__':
    main()
