# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scheduled garbage collection on the registry host: the same driver as the registry_gc module, without
Ansible (the gc role copies this package and the few stdlib files it imports to the host). Prints one JSON line
(the module's result fields) and exits 0, or 1 with the message on stderr.

    PYTHONPATH=/usr/local/lib/berth-registry python3 -m \
        ansible_collections.berth.registry.plugins.module_utils._registry_gc.job --name registry [--delete-untagged]
"""

from __future__ import annotations

import argparse
import json
import sys

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_gc.driver import GcDriver, GcSpec


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='berth-registry-gc', description='Garbage-collect a registry container '
                                     'in a read-only window (pulls keep working, pushes are refused meanwhile).')
    parser.add_argument('--name', default='registry', help='the registry container (default: registry)')
    parser.add_argument('--delete-untagged', action='store_true', help='also delete manifests without a tag')
    parser.add_argument('--dry-run', action='store_true', help='only report what would be deleted')
    parser.add_argument('--docker-host', default='unix:///var/run/docker.sock')
    parser.add_argument('--timeout', type=int, default=60, help='seconds the registry may take to answer')
    return parser.parse_args(argv)


def main(argv=None, client_factory=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        spec = GcSpec(name=args.name, delete_untagged=args.delete_untagged, dry_run=args.dry_run, timeout=args.timeout)
        if client_factory is None:
            import docker  # pylint: disable=import-outside-toplevel  # python3-docker, installed by the server role
            client = docker.APIClient(base_url=args.docker_host, version='auto', timeout=600)
        else:
            client = client_factory(args.docker_host)
        driver = GcDriver(client)
        differences, result = driver.run(spec)
    except (BerthError, ImportError) as exc:
        sys.stderr.write('berth-registry-gc: %s\n' % exc)
        return 1
    for warning in driver.warnings:
        sys.stderr.write('berth-registry-gc: warning: %s\n' % warning)
    sys.stdout.write(json.dumps(dict(result, changed=differences.changed, differences=differences.as_list()),
                                sort_keys=True) + '\n')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
