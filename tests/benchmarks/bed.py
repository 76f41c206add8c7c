"""Figures for the test bed: image builds cold/warm, node start, memory per node, `ansible -m ping`.

Prints figures and asserts nothing (a failed ping is printed as such). Memory per node comes from
the node container's cgroup: v2 memory.current / anon, or v1 memory.usage_in_bytes / total_rss.

    python tests/benchmarks/bed.py [--nodes 3] [--no-cold-node]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bed import engine, images  # noqa: E402
from bed.cgroups import CgroupError, container_cgroup  # noqa: E402
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


def node_memory(node):
    """(usage incl. page cache, rss/anon) in MiB and where they come from; (None, None, why) when unreadable."""
    try:
        cgroup = container_cgroup(node.container)
        usage, rss = cgroup.memory_bytes()
    except (CgroupError, OSError) as exc:
        return None, None, str(exc)
    if usage is None:
        return None, None, 'no memory controller in %s' % cgroup.memory_dir
    return usage / 2**20, rss / 2**20, 'cgroup v%d' % cgroup.version


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
                print('%-44s failed (rc=%d), not a figure:\n%s%s' % (label, proc.returncode, proc.stdout, proc.stderr))
                continue
            report(label, seconds)
        node = bed.clients[0]
        bed.stop_node(node.name)
        report('restart one node (start + boot + ready)', timed(bed.start_node, node.name)[0])
        time.sleep(2)
        for node in bed.nodes:
            usage, rss, source = node_memory(node)
            if usage is None:
                print('%-44s n/a (%s)' % ('memory ' + node.name, source))
            else:
                print('%-44s %7.1f MiB usage, %5.1f MiB rss (%s)' % ('memory ' + node.name, usage, rss, source))
        report('bed down', timed(bed.down)[0])
    finally:
        bed.down()


if __name__ == '__main__':
    main()
