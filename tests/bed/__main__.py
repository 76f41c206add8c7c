"""Bring a bed up by hand:  cd tests && python -m bed up [--clients N] [--no-registry] | inventory | status | down | clean"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from .nodes import CLI_OWNER, STATE_PATH, Bed, BedError, read_state


def current_bed():
    state = read_state()
    if not state:
        sys.exit('no bed is up (no %s); run: python -m bed up' % STATE_PATH)
    return Bed.from_state(state)


def describe(bed):
    lines = ['bed %s on %s (network %s)' % (bed.run_id, bed.subnet, bed.network)]
    for node in bed.nodes:
        lines.append('  %-10s %-15s ssh: %s' % (node.name, node.ip, ' '.join(bed.ssh_argv(node))))
        lines.append('  %-10s %-15s exec: /usr/bin/docker exec -it %s bash' % ('', '', node.container))
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
    bed = Bed(clients=args.clients, registry_node=not args.no_registry, subnet=args.subnet,
              owner=CLI_OWNER).up()
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
    up.add_argument('--clients', type=int, default=int(os.environ.get('BERTH_BED_CLIENTS', 3)))
    up.add_argument('--no-registry', action='store_true', help='no registry node')
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
