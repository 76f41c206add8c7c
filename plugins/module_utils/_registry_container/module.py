# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry_container module's body: params -> ContainerSpec -> client -> ContainerDriver -> result.

Runs inside ``_errors.run_module``: every object is built here, inside the guard.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._docker_sdk import create_client
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter
from ansible_collections.berth.registry.plugins.module_utils._registry_container.driver import ContainerDriver
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import ContainerSpec


def run(module):
    """The result dict of one registry_container run (changed, differences, diff from the tracker)."""
    spec = ContainerSpec.from_params(module.params)
    client = create_client(module.params['docker_host'], module.params['timeout'])
    driver = ContainerDriver(client, check_mode=module.check_mode, files=FileWriter(module))
    try:
        differences, result = driver.run(spec)
    finally:
        for warning in driver.warnings:
            module.warn(warning)
    return differences.result(module._diff, header='container %s' % spec.name, **result)
