# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry_gc module's body: params -> GcSpec -> Docker SDK client -> GcDriver -> result.

Runs inside ``_errors.run_module``: every object is built here, inside the guard.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._docker_sdk import create_client
from ansible_collections.berth.registry.plugins.module_utils._registry_gc.driver import STATES, GcDriver, GcError, GcSpec
from ansible_collections.berth.registry.plugins.module_utils._registry_gc.twin import DEFAULT_ROOT

SPEC_OPTIONS = ('name', 'state', 'delete_untagged', 'dry_run', 'restore', 'config_path', 'binary', 'rootdirectory',
                'data_dir', 'timeout', 'stop_timeout', 'max_files')


def argument_spec():
    return dict(
        name=dict(type='str', default='registry'),
        state=dict(type='str', default='collected', choices=list(STATES)),
        delete_untagged=dict(type='bool', default=False),
        dry_run=dict(type='bool', default=False),
        restore=dict(type='bool', default=True),
        config_path=dict(type='str'),
        binary=dict(type='str', default='/bin/registry'),
        rootdirectory=dict(type='str', default=DEFAULT_ROOT),
        data_dir=dict(type='path'),
        timeout=dict(type='int', default=60),
        stop_timeout=dict(type='int', default=10),
        max_files=dict(type='int', default=1000000),
        docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
        api_timeout=dict(type='int', default=600),
    )


def run(module):
    """The result dict of one registry_gc run (changed, differences, diff from the tracker)."""
    spec = GcSpec(**dict((key, module.params[key]) for key in SPEC_OPTIONS))
    api_timeout = module.params['api_timeout']
    if api_timeout < 1 or api_timeout > 86400:
        raise GcError('api_timeout: %r must be at least 1 second and at most 86400' % api_timeout)
    client = create_client(module.params['docker_host'], module.params['api_timeout'])
    driver = GcDriver(client, check_mode=module.check_mode)
    try:
        differences, result = driver.run(spec)
    finally:
        for warning in driver.warnings:
            module.warn(warning)
    return differences.result(module._diff, header='registry %s' % spec.name, **result)
