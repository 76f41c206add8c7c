"""Bring a bed up by hand:  cd tests && python -m bed up [options] | inventory | status | down | clean

    up --clients 3                                  registry1 (bare) + 3 docker clients
    up --clients docker,containerd,podman           a mixed fleet
    up --registries 2 --lb --extra store=objectstore --clients 2     the HA story
    up --clients 100 --light --no-registry          a scale bed
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from .flavours import APT_MOUNT, NODE_FLAVOURS
from .nodes import CLI_OWNER, STATE_PATH, Bed, BedError, read_state


def current_bed():
    state = read_state()
    if not state:
        sys.exit('no bed is up (no %s); run: python -m bed up' % STATE_PATH)
    return Bed.from_state(state)


def describe(bed):
    lines = ['bed %s on %s (network %s)' % (bed.run_id, bed.subnet, bed.network)]
    for node in bed.nodes:
        lines.append('  %-10s %-15s %-12s %s' % (node.name, node.ip, node.flavour, ' '.join(node.groups)))
        lines.append('  %-10s %-15s ssh: %s' % ('', '', ' '.join(bed.ssh_argv(node))))
        lines.append('  %-10s %-15s exec: /usr/bin/docker exec -it %s bash' % ('', '', node.container))
    if bed.s3:
        lines.append('S3:          %s (keys in %s)' % (bed.s3.endpoint, bed.s3_env_path))
    lines.append('apt repo:    %s (mounted at %s)' % (bed.apt_repo, APT_MOUNT))
    lines += ['inventory:   %s' % bed.inventory_path,
              'ansible.cfg: %s' % bed.ansible_cfg_path,
              'use:         ANSIBLE_CONFIG=%s ansible all -m ping' % bed.ansible_cfg_path]
    return '\n'.join(lines)


def cmd_up(args):
    state = read_state()
    if state:
        sys.exit('bed %s is already up; run: python -m bed down' % state['run_id'])
    Bed.cleanup_stale()
    start = time.monotonic()
    clients = int(args.clients) if args.clients.isdigit() else args.clients.split(',')
    extra = dict(item.split('=', 1) for item in args.extra)
    bed = Bed(clients=clients, registries=0 if args.no_registry else args.registries, registry=args.registry,
              lb=args.lb, extra=extra, light=args.light, subnet=args.subnet, owner=CLI_OWNER).up()
    bed.save_state(STATE_PATH)
    print(describe(bed))
    print('up in %.1f s' % (time.monotonic() - start))


def cmd_down(args):
    bed = current_bed()
    bed.down()
    print('bed %s removed' % bed.run_id)


def cmd_clean(args):
    state = read_state()
    stale = Bed.cleanup_stale(keep_cli=False)
    if state and state['run_id'] in stale and os.path.exists(STATE_PATH):
        os.unlink(STATE_PATH)
    print('removed runs: %s' % (', '.join(stale) or 'none'))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bed', description=__doc__)
    sub = parser.add_subparsers(dest='command', required=True)
    up = sub.add_parser('up', help='create a bed and keep it until `down`')
    up.add_argument('--clients', default=os.environ.get('BERTH_BED_CLIENTS', '3'),
                    help='number of docker clients, or flavours separated by commas (%s)' % ', '.join(NODE_FLAVOURS))
    up.add_argument('--registry', default='bare', choices=NODE_FLAVOURS, help='flavour of the registry nodes')
    up.add_argument('--registries', type=int, default=1, help='number of registry nodes (replicas)')
    up.add_argument('--no-registry', action='store_true', help='no registry node')
    up.add_argument('--lb', nargs='?', const=True, default=None, help='a load-balancer node lb1 (flavour, default bare)')
    up.add_argument('--extra', action='append', default=[], metavar='NAME=FLAVOUR',
                    help='a node that is no client, e.g. store=objectstore (repeatable)')
    up.add_argument('--light', action='store_true', help='light dockerd on clients (scale beds)')
    up.add_argument('--subnet', help='fixed /24 (default: BERTH_BED_SUBNET or first free 172.29.77-92.0/24)')
    sub.add_parser('inventory', help='print the inventory of the current bed')
    sub.add_parser('status', help='print nodes, ssh commands and paths of the current bed')
    sub.add_parser('down', help='remove the current bed')
    sub.add_parser('clean', help='remove every bed whose owner is gone, CLI beds included')
    args = parser.parse_args(argv)
    if args.command == 'inventory':
        with open(current_bed().inventory_path) as f:
            shutil.copyfileobj(f, sys.stdout)
    elif args.command == 'status':
        print(describe(current_bed()))
        print(json.dumps(read_state(), indent=1))
    else:
        try:
            {'up': cmd_up, 'down': cmd_down, 'clean': cmd_clean}[args.command](args)
        except BedError as exc:
            sys.exit(str(exc))


if __name__ == '__main__':
    main()
