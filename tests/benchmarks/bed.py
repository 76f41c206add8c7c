"""Figures for the test bed: image builds cold/warm per flavour, bed up, memory per node, `ansible -m ping`.

    python tests/benchmarks/bed.py [--nodes 3] [--no-cold-node]     registry image, node images, a small bed
    python tests/benchmarks/bed.py --flavours [--cold]               every flavour: warm/cold build, size; apt repo
    python tests/benchmarks/bed.py --scale 20,50,100 [--full]        N light clients: up, memory/node, ping, down

Prints figures, asserts nothing (a failed ping is printed as such). Memory and CPU per node come
from the node container's cgroup (bed/cgroups.py: v2 or v1) plus the PSS of its processes. Scale
runs record the machine's load, inotify instances, tasks and neighbour entries, the limits a big
bed runs into (tests/bed/SCALE.md keeps the results).
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bed import aptrepo, engine, flavours, images  # noqa: E402
from bed.cgroups import CgroupError, container_cgroup  # noqa: E402
from bed.engine import docker  # noqa: E402
from bed.nodes import BED_DIR, Bed, inotify_in_use  # noqa: E402

MIB = 2 ** 20


def timed(fn, *args, **kwargs):
    start = time.monotonic()
    result = fn(*args, **kwargs)
    return time.monotonic() - start, result


def report(what, seconds):
    print('%-52s %7.2f s' % (what, seconds), flush=True)


def cold_build(build, tag):
    """Build under a throw-away tag (the cached image others use stays), then remove it."""
    try:
        return timed(build, tag)[0]
    finally:
        docker('rmi', '-f', tag, check=False)


# --- memory ----------------------------------------------------------------------------------------

def cgroup_pids(cgroup):
    pids = set()
    for dirpath, _dirs, files in os.walk(cgroup):
        if 'cgroup.procs' in files:
            with open(os.path.join(dirpath, 'cgroup.procs')) as f:
                pids.update(int(p) for p in f.read().split())
    return pids


def pss(pid):
    """Proportional set size of one process in bytes (0 if it is gone)."""
    try:
        with open('/proc/%d/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def shim_pid(container_id):
    """The host-side containerd-shim of a container (outside its cgroup, part of what a node costs)."""
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    cmd = f.read().split(b'\0')
            except OSError:
                continue
            if cmd and cmd[0].endswith(b'containerd-shim-runc-v2') and container_id.encode() in cmd:
                return int(pid)
    return None


def node_memory(node):
    """{'pss', 'shim_pss', 'rss', 'usage', 'tasks'} of a node container (bytes), or None when unreadable."""
    try:
        cgroup = container_cgroup(node.container)
        usage, rss = cgroup.memory_bytes()
    except (CgroupError, OSError):
        return None
    if usage is None:
        return None
    pids = cgroup_pids(cgroup.memory_dir)
    tasks = 0
    for pid in pids:
        try:
            tasks += len(os.listdir('/proc/%d/task' % pid))
        except OSError:
            pass
    cid = docker('inspect', '-f', '{{.Id}}', node.container).stdout.strip()
    shim = shim_pid(cid)
    return {'pss': sum(pss(p) for p in pids), 'shim_pss': pss(shim) if shim else 0,
            'rss': rss, 'usage': usage, 'tasks': tasks}


def nodes_cpu(bed):
    """CPU seconds the bed's node containers have used so far (their cgroups, v1 or v2)."""
    total = 0.0
    for node in bed.nodes:
        try:
            total += container_cgroup(node.container).cpu_seconds()
        except (CgroupError, OSError):
            pass
    return total


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def mem_available():
    with open('/proc/meminfo') as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith('MemAvailable:'))


def print_memory(nodes):
    for node in nodes:
        mem = node_memory(node)
        if mem is None:
            print('%-52s n/a (no readable memory cgroup)' % ('memory ' + node.name))
        else:
            print('%-52s %6.1f MiB PSS (+%4.1f shim), %5.1f MiB rss, %5.1f MiB usage, %3d tasks'
                  % ('memory %s (%s)' % (node.name, node.flavour), mem['pss'] / MIB, mem['shim_pss'] / MIB,
                     mem['rss'] / MIB, mem['usage'] / MIB, mem['tasks']))


# --- runs ------------------------------------------------------------------------------------------

def small_bed(args, pid):
    report('registry image build, cold', cold_build(images.build_registry_image, 'berth-bed-bench-registry:%d' % pid))
    report('registry image, warm (cached)', timed(images.ensure_registry_image)[0])
    if not args.no_cold_node:
        report('docker node image layer, cold (parent cached)',
               cold_build(lambda tag: images.build_flavour_image('docker', tag), 'berth-bed-bench-node:%d' % pid))
    report('node images + apt repo, warm (cached)', timed(Bed(clients=args.nodes - 1).prepare)[0])

    bed = Bed(clients=args.nodes - 1, registry_node=True, run_id='bench-%d' % pid)
    try:
        report('bed up, %d nodes (ssh + dockerd answer)' % args.nodes, timed(bed.up)[0])
        ping(bed)
        node = bed.clients[0]
        bed.stop_node(node.name)
        report('restart one node (start + boot + ready)', timed(bed.start_node, node.name)[0])
        time.sleep(2)
        print_memory(bed.nodes)
        report('bed down', timed(bed.down)[0])
    finally:
        bed.down()


def ping(bed, forks=None):
    """`ansible all -m ping` twice; wall time, controller CPU (ansible + ssh) and the nodes' CPU."""
    options = ['-o'] + (['--forks', str(forks)] if forks else [])
    for label in ('ansible all -m ping, first (new SSH masters)', 'ansible all -m ping, warm'):
        ctl, nodes = children_cpu(), nodes_cpu(bed)
        seconds, proc = timed(bed.ansible, 'all', 'ping', options=options, timeout=1800)
        if proc.returncode != 0:
            print('%-52s failed (rc=%d), not a figure:\n%s%s' % (label, proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
            continue
        print('%-52s %7.2f s   (CPU: controller %.1f s, nodes %.1f s)'
              % (label, seconds, children_cpu() - ctl, nodes_cpu(bed) - nodes), flush=True)


def flavour_images(args, pid):
    for name in ('base',) + flavours.NODE_FLAVOURS:
        seconds, tag = timed(images.ensure_image, name)
        report('%s image, warm (cached)' % name, seconds)
        print('%-52s %7.0f MiB' % ('%s image size (with parents)' % name, images.image_size(tag) / MIB))
    report('apt repository, warm (cached)', timed(aptrepo.ensure_repo, BED_DIR)[0])
    path = aptrepo.repo_dir(BED_DIR)
    debs = len(glob.glob(os.path.join(path, '*.deb')))
    print('%-52s %7.0f MiB, %d packages' % ('apt repository size', aptrepo.repo_size(path) / MIB, debs))
    if not args.cold:
        return
    report('base image build, cold (mmdebstrap + import)', cold_build(images.build_base_image, 'berth-bed-bench-base:%d' % pid))
    for name in flavours.NODE_FLAVOURS:
        report('%s layer build, cold (parent cached)' % name,
               cold_build(lambda tag, name=name: images.build_flavour_image(name, tag), 'berth-bed-bench-%s:%d' % (name, pid)))
    tmp = tempfile.mkdtemp(prefix='berth-bench-apt-')
    try:
        report('apt repository build, cold', timed(aptrepo.build_repo, os.path.join(tmp, 'repo'))[0])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def neighbours(bed):
    net_id = docker('network', 'inspect', '-f', '{{.Id}}', bed.network).stdout.strip()
    proc = subprocess.run(['ip', 'neigh', 'show', 'dev', 'br-' + net_id[:12]], capture_output=True, text=True, check=False)
    return len(proc.stdout.splitlines())


def scale(args, pid):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # ssh masters + forks for a hundred hosts
    print('load average before: %s; nofile %d -> %d' % (open('/proc/loadavg').read().split()[:3], soft, hard))
    for n in [int(x) for x in args.scale.split(',')]:
        print('--- N = %d %s clients ---' % (n, 'full' if args.full else 'light'), flush=True)
        bed = Bed(clients=n, registry_node=False, light=not args.full, run_id='bench-scale-%d-%d' % (pid, n))
        bed.prepare()
        avail, inotify = mem_available(), inotify_in_use()
        try:
            ctl = children_cpu()
            seconds = timed(bed.up)[0]
            print('%-52s %7.2f s   (CPU: nodes %.1f s, readiness probes %.1f s)'
                  % ('bed up, %d clients' % n, seconds, nodes_cpu(bed), children_cpu() - ctl), flush=True)
            time.sleep(3)
            idle = nodes_cpu(bed)
            time.sleep(10)
            print('%-52s %7.2f %% of a core per node' % ('idle CPU (10 s)', (nodes_cpu(bed) - idle) / 10 / n * 100))
            ping(bed)
            used = avail - mem_available()
            mems = [node_memory(node) for node in bed.nodes[:: max(1, n // 5)]]
            mems = [m for m in mems if m]
            print('%-52s %6.1f MiB (MemAvailable drop / N)' % ('memory per node, host view', used / n / MIB))
            if mems:
                print('%-52s %6.1f MiB PSS + %.1f MiB shim, %d tasks (mean of %d nodes)'
                      % ('memory per node, sampled', sum(m['pss'] for m in mems) / len(mems) / MIB,
                         sum(m['shim_pss'] for m in mems) / len(mems) / MIB,
                         sum(m['tasks'] for m in mems) // len(mems), len(mems)))
            print('%-52s %d (+%d), neighbours on the bridge: %d; load %s'
                  % ('inotify instances', inotify_in_use(), inotify_in_use() - inotify, neighbours(bed),
                     ' '.join(open('/proc/loadavg').read().split()[:3])), flush=True)
            report('bed down', timed(bed.down)[0])
        finally:
            bed.down()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--nodes', type=int, default=3, help='registry node + N-1 clients')
    parser.add_argument('--no-cold-node', action='store_true', help='skip the cold docker-layer build')
    parser.add_argument('--flavours', action='store_true', help='image figures for every flavour')
    parser.add_argument('--cold', action='store_true', help='with --flavours: cold builds too (several minutes)')
    parser.add_argument('--scale', help='comma-separated client counts, e.g. 20,50,100')
    parser.add_argument('--full', action='store_true', help='with --scale: full dockerd instead of light mode')
    args = parser.parse_args()
    engine.require_engine()
    pid = os.getpid()
    if args.flavours:
        flavour_images(args, pid)
    elif args.scale:
        scale(args, pid)
    else:
        small_bed(args, pid)


if __name__ == '__main__':
    main()
