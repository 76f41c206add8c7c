"""Figures for the test bed: image builds cold/warm, node start, memory per node, `ansible -m ping`.

    python tests/benchmarks/bed.py [--nodes 3] [--no-cold-node]
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bed import engine, images  # noqa: E402
from bed.engine import docker  # noqa: E402
from bed.nodes import Bed  # noqa: E402


def timed(fn, *args, **kwargs):
    start = time.monotonic()
    result = fn(*args, **kwargs)
    return time.monotonic() - start, result


def report(what, seconds):
    print('%-44s %7.2f s' % (what, seconds), flush=True)


def cold_build(build, tag):
    """Build under a throw-away tag (the cached image others use stays), then remove it."""
    try:
        return timed(build, tag)[0]
    finally:
        docker('rmi', '-f', tag, check=False)


def memory_cgroup(container_id):
    paths = glob.glob('/sys/fs/cgroup/memory/**/*%s*/memory.usage_in_bytes' % container_id, recursive=True)
    return os.path.dirname(paths[0]) if paths else None


def node_memory(node):
    """(usage incl. page cache, rss) in MiB from the node container's cgroup v1 memory controller."""
    cid = docker('inspect', '-f', '{{.Id}}', node.container).stdout.strip()
    cgroup = memory_cgroup(cid)
    if not cgroup:
        return None, None
    usage = int(open(os.path.join(cgroup, 'memory.usage_in_bytes')).read())
    stat = dict(line.split() for line in open(os.path.join(cgroup, 'memory.stat')))
    return usage / 2**20, int(stat.get('total_rss', stat.get('rss', 0))) / 2**20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--nodes', type=int, default=3, help='registry node + N-1 clients')
    parser.add_argument('--no-cold-node', action='store_true', help='skip the ~40 s cold node-image build')
    args = parser.parse_args()
    engine.require_engine()
    pid = os.getpid()

    report('registry image build, cold', cold_build(images.build_registry_image, 'berth-bed-bench-registry:%d' % pid))
    report('registry image, warm (cached)', timed(images.ensure_registry_image)[0])
    if not args.no_cold_node:
        report('node image build, cold (mmdebstrap+import)', cold_build(images.build_node_image, 'berth-bed-bench-node:%d' % pid))
    report('node image, warm (cached)', timed(images.ensure_node_image)[0])

    bed = Bed(clients=args.nodes - 1, registry_node=True, run_id='bench-%d' % pid)
    try:
        report('bed up, %d nodes (ssh + dockerd answer)' % args.nodes, timed(bed.up)[0])
        for label in ('ansible all -m ping, first (new SSH masters)', 'ansible all -m ping, warm'):
            seconds, proc = timed(bed.ansible, 'all', 'ping', options=['-o'])
            if proc.returncode != 0:
                sys.exit('ping failed:\n' + proc.stdout + proc.stderr)
            report(label, seconds)
        node = bed.clients[0]
        bed.stop_node(node.name)
        report('restart one node (start + boot + ready)', timed(bed.start_node, node.name)[0])
        time.sleep(2)
        for node in bed.nodes:
            usage, rss = node_memory(node)
            if usage is None:
                print('%-44s n/a (no cgroup v1 memory controller found)' % ('memory ' + node.name))
            else:
                print('%-44s %7.1f MiB usage, %5.1f MiB rss' % ('memory ' + node.name, usage, rss))
        report('bed down', timed(bed.down)[0])
    finally:
        bed.down()


if __name__ == '__main__':
    main()
