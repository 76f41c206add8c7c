#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rollout benchmark on the bed: the ping floor vs a fresh client rollout and a no-op rerun.

One bed (registry1 + the largest N clients) is brought up once. For each N the first N clients
are measured with the same inventory and ansible.cfg: `ansible -m ping` (the floor), a one-task
ping playbook, playbooks/client.yml on reset clients (fresh) and again (no-op). The server side
(playbooks/server.yml: PKI + config.yml on the controller, one registry_server round trip, the container until
/v2/ answers) is measured fresh - on a bare registry node (python3 + docker.io: the packages the host module needs
are installed from the bed's offline apt repository in that run) - and as a no-op, against a 1-host ping floor.
Prints figures and asserts nothing. What it sees of behaviour is reported as figures too: failed
runs, changed tasks per host (fresh and no-op), dockerd restarts, clients that got the mirror.
tests/integration/test_site.py is where that behaviour is asserted (fresh run changes every client
and restarts no dockerd, a rerun changes and restarts nothing, the mirror reaches dockerd).
Node CPU comes from each node container's cgroup (v2 cpu.stat usage_usec or v1 cpuacct.usage).

Clients are light bed nodes (own dockerd + sshd, dockerd without bridge/NAT: tests/bed/SCALE.md), so a hundred
fit on two cores. Sizes from --large-from upwards run --large-runs times (default once: a 100-client repetition
costs minutes); the output says how many runs each figure has. Also renders a plot of time vs N (PNG, matplotlib).

    scripts/bench [--quick] [--sizes 1,5,10,20,50,100] [--runs 3] [--large-runs 1] [--out .build/bench/rollout]
                  [--plot docs/perf-rollout.png]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))

from bed import engine  # noqa: E402
from bed.cgroups import CgroupError, container_cgroup  # noqa: E402
from bed.nodes import Bed  # noqa: E402
from bed.playbook import _RECAP  # noqa: E402

HOSTNAME = 'registry.berth.test'
MIRROR = 'https://mirror.berth.test/'
CALLBACK_DIR = os.path.join(HERE, 'callback_plugins')
PING_PLAYBOOK = """\
- name: One task per host
  hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""
RESET_CLIENT = r"""
rm -rf /etc/docker/certs.d/{host}* /root/.docker/config.json
grep -v '{host}' /etc/hosts > /tmp/hosts.bench; cat /tmp/hosts.bench > /etc/hosts
# dockerd keeps a key deleted from daemon.json: clear the registry keys with [] and reload first
echo '{{"registry-mirrors": [], "insecure-registries": []}}' > /etc/docker/daemon.json
kill -HUP "$(cat /var/run/docker.pid)"
for i in $(seq 50); do
  docker info --format '{{{{json .RegistryConfig.Mirrors}}}}' | grep -qx '\[\]' && break; sleep 0.1
done
rm -f /etc/docker/daemon.json
docker info --format '{{{{json .RegistryConfig}}}}'
""".format(host=HOSTNAME)


# --- measuring one command -------------------------------------------------------------------

class TreeMemory(threading.Thread):
    """Samples the process tree under pid every interval: peak of summed RSS and of summed PSS (MiB)."""

    def __init__(self, pid, interval=0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.parents = {}
        self.peak_rss = self.peak_pss = 0.0
        self.peak_procs = 0
        self.done = threading.Event()

    def _ppid(self, pid):
        if pid not in self.parents:
            try:
                with open('/proc/%s/stat' % pid) as f:
                    self.parents[pid] = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                return None
        return self.parents[pid]

    def _tree(self):
        pids = [int(p) for p in os.listdir('/proc') if p.isdigit()]
        children = {}
        for pid in pids:
            children.setdefault(self._ppid(pid), []).append(pid)
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        return tree

    @staticmethod
    def _memory(pid):
        rss = pss = 0
        try:
            with open('/proc/%d/smaps_rollup' % pid) as f:
                for line in f:
                    if line.startswith('Rss:'):
                        rss = int(line.split()[1])
                    elif line.startswith('Pss:'):
                        pss = int(line.split()[1])
        except OSError:
            pass
        return rss, pss

    def sample(self):
        tree = self._tree()
        rss = pss = 0
        for pid in tree:
            r, p = self._memory(pid)
            rss, pss = rss + r, pss + p
        self.peak_rss = max(self.peak_rss, rss / 1024)
        self.peak_pss = max(self.peak_pss, pss / 1024)
        self.peak_procs = max(self.peak_procs, len(tree))

    def run(self):
        while not self.done.wait(self.interval):
            self.sample()


def measure(cmd, env, nodes_cpu=lambda: None, timeout=1800):
    """Run cmd; wall time, CPU seconds (controller tree, bed nodes; None when unreadable), output, recap,
    peak memory (MiB)."""
    out = tempfile.TemporaryFile(mode='w+')
    cpu_before = nodes_cpu()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)
    sampler = TreeMemory(proc.pid)
    sampler.start()
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.01)
    wall = time.monotonic() - start
    cpu_after = nodes_cpu()
    node_cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    sampler.done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    text = out.read()
    recap = {m.group('host'): {k: int(v) for k, v in m.groupdict().items() if k != 'host'}
             for m in _RECAP.finditer(text)}
    return {'wall': wall, 'rc': proc.returncode, 'output': text, 'recap': recap, 'start': time.time() - wall,
            'tree_rss_mib': sampler.peak_rss, 'tree_pss_mib': sampler.peak_pss,
            'max_procs': sampler.peak_procs, 'ru_maxrss_mib': usage.ru_maxrss / 1024,
            'controller_cpu': usage.ru_utime + usage.ru_stime, 'nodes_cpu': node_cpu}


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {'median': statistics.median(values), 'min': min(values), 'max': max(values), 'samples': values}


# --- the benchmark ---------------------------------------------------------------------------

class Rollout:
    def __init__(self, bed, args, workdir):
        self.bed, self.args, self.workdir = bed, args, workdir
        self.pki_dir = os.path.join(workdir, 'pki')
        self.observations = []
        self.profile_runs = {}
        self.env_extra = dict(kv.split('=', 1) for kv in args.env)
        self.cgroups, missing = {}, []
        for node in bed.nodes:
            try:
                self.cgroups[node.name] = container_cgroup(node.container)
            except (CgroupError, engine.EngineError) as exc:
                missing.append('%s (%s)' % (node.name, exc))
        if missing:
            # a partial sum would pass for a figure: report none instead
            print('node CPU: n/a, no readable cgroup for %s' % '; '.join(missing), flush=True)
            self.cgroups = {}
        else:
            first = next(iter(self.cgroups.values()))
            print('node CPU of the nodes in each run + registry1, from their cgroups, e.g. %s' % first.source, flush=True)
        self.cpu_source = 'cgroup v%d' % next(iter(self.cgroups.values())).version if self.cgroups else None
        self.ping_playbook = os.path.join(workdir, 'ping.yml')
        with open(self.ping_playbook, 'w') as f:
            f.write(PING_PLAYBOOK)
        inventory_vars = {
            'registry_hostname': HOSTNAME,
            'registry_pki_dir': self.pki_dir,
            'registry_mirrors': [MIRROR],
            'registry_client_login_user': 'admin',
        }
        inventory_vars.update((k, json.loads(v)) for k, v in (kv.split('=', 1) for kv in args.var))
        bed.write_inventory(extra_vars=inventory_vars)

    def env(self, events=None):
        extra = {'ANSIBLE_CALLBACK_PLUGINS': CALLBACK_DIR, 'ANSIBLE_CALLBACKS_ENABLED': 'berth_bench'}
        if self.args.collections:
            extra['ANSIBLE_COLLECTIONS_PATH'] = self.args.collections
        extra.update(self.env_extra)
        if events:
            extra['BERTH_BENCH_EVENTS'] = events
        return self.bed.ansible_env(extra)

    def nodes_cpu(self, limit):
        """CPU seconds used so far by the nodes in limit and registry1 (sshd, modules, dockerd, the registry that
        answers the logins), not by the idle rest of the bed (~0.001 CPU-s per node per second, which at N = 1 of
        100 would outweigh the host measured); None when the nodes' cgroups cannot be read."""
        if not self.cgroups:
            return None
        names = set(limit.split(',')) | {self.bed.registry.name}
        try:
            return sum(cg.cpu_seconds() for name, cg in self.cgroups.items() if name in names)
        except (OSError, KeyError, ValueError):
            return None

    def observe(self, what, detail=''):
        """Note behaviour worth a look (a failed run, a no-op that changed something): reported, not asserted."""
        self.observations.append(what)
        # the whole output next to the results (the log keeps its tail: a 100-host recap alone fills it)
        path = '%s.observed-%d.log' % (self.args.out, len(self.observations))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(detail)
        print('\n!!! observed: %s (whole output: %s)\n%s' % (what, path, detail[-6000:]), flush=True)

    def playbook(self, name, limit, label):
        events = os.path.join(self.workdir, 'events.json')
        if os.path.exists(events):
            os.unlink(events)
        path = name if os.path.isabs(name) else os.path.join(self.args.playbooks, name)
        cmd = ['ansible-playbook', path, '-i', self.bed.inventory_path, '--limit', limit]
        result = measure(cmd, self.env(events), lambda: self.nodes_cpu(limit))
        try:
            with open(events) as f:
                result['events'] = json.load(f)
        except (OSError, ValueError):
            result['events'] = None
        if result['rc'] != 0:
            self.observe('%s failed (rc=%d)' % (label, result['rc']), result['output'])
        return result

    def ping(self, limit):
        result = measure(['ansible', limit, '-i', self.bed.inventory_path, '-m', 'ping', '-o'], self.env(), lambda: self.nodes_cpu(limit))
        if result['rc'] != 0:
            self.observe('ansible -m ping %s failed (rc=%d)' % (limit, result['rc']), result['output'])
        return result

    # --- server ----------------------------------------------------------------------------
    def reset_server(self, packages=True):
        """The registry node as a user's bare host has it: no container, no files, no PKI; with ``packages``, also
        without what the server installs (python3-docker, python3-bcrypt, and python3-apt the apt module adds)."""
        node = self.bed.registry
        node.docker('rm', '-f', 'registry')
        node.exec('rm -rf /etc/docker/registry /var/lib/registry')
        if packages:
            rc, out = node.exec('DEBIAN_FRONTEND=noninteractive apt-get -y -qq purge --autoremove '
                                'python3-docker python3-bcrypt python3-apt >/dev/null 2>&1; '
                                "python3 -c 'import docker' 2>&1 | tail -n1")
            if 'No module named' not in out:
                raise RuntimeError('%s: could not make the registry node bare again: %s' % (node.name, out))
        shutil.rmtree(self.pki_dir, ignore_errors=True)

    def server(self):
        name = self.bed.registry.name
        fresh, noop, floor = [], [], []
        for run in range(self.args.runs):
            self.reset_server()
            self.ping(name)  # untimed warm-up of the ControlPersist master
            floor.append(self.ping(name))
            fresh.append(self.playbook('server.yml', name, 'server fresh deploy, run %d' % (run + 1)))
            installed = self.bed.registry.exec("python3 -c 'import docker, bcrypt' && echo yes")[1].strip() == 'yes'
            noop.append(self.playbook('server.yml', name, 'server no-op rerun, run %d' % (run + 1)))
            if noop[-1]['recap'].get(name, {}).get('changed'):
                self.observe('server no-op rerun changed something (run %d)' % (run + 1), noop[-1]['output'])
            if not installed:
                self.observe('the fresh server run left the packages uninstalled (run %d)' % (run + 1), fresh[-1]['output'])
            print('  server run %d: 1-host floor %.2f s, fresh (with apt) %.2f s, no-op %.2f s, changed tasks fresh %s, '
                  'no-op %s' % (run + 1, floor[-1]['wall'], fresh[-1]['wall'], noop[-1]['wall'],
                                fresh[-1]['recap'].get(name, {}).get('changed', '?'),
                                noop[-1]['recap'].get(name, {}).get('changed', '?')), flush=True)
        self.profile_runs['server fresh'] = fresh[-1]
        self.profile_runs['server no-op'] = noop[-1]
        return {'floor': summary([r['wall'] for r in floor]), 'fresh': self.figures(fresh, [name], floor),
                'noop': self.figures(noop, [name], floor)}

    # --- clients ---------------------------------------------------------------------------
    def reset_clients(self, nodes):
        def reset(node):
            rc, out = node.exec(RESET_CLIENT)
            config = json.loads(out.strip().splitlines()[-1]) if rc == 0 else {}
            dirty = config.get('Mirrors') or HOSTNAME in json.dumps(config) or \
                node.exists('/etc/docker/daemon.json') or HOSTNAME in node.read_file('/etc/hosts')
            if rc != 0 or dirty:
                # the benchmark's own set-up, not the collection: without it there is no fresh rollout to time
                raise RuntimeError('%s: could not reset the client for a fresh rollout (rc=%d): %s' % (node.name, rc, out))
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(reset, nodes))

    def pids(self, nodes):
        with ThreadPoolExecutor(max_workers=8) as pool:
            return dict(zip([n.name for n in nodes], pool.map(lambda n: n.dockerd_pid(), nodes)))

    def clients_with_mirror(self, nodes):
        """How many clients' dockerd reports the mirror after the rollout (a figure; test_site asserts it)."""
        def mirrors(node):
            rc, out = node.docker('info', '--format', '{{json .RegistryConfig.Mirrors}}')
            return json.loads(out) if rc == 0 else out
        with ThreadPoolExecutor(max_workers=8) as pool:
            got = dict(zip([n.name for n in nodes], pool.map(mirrors, nodes)))
        wrong = {k: v for k, v in got.items() if v != [MIRROR]}
        if wrong:
            self.observe('clients without the mirror after the rollout', json.dumps(wrong))
        return len(nodes) - len(wrong)

    def runs_for(self, n):
        return self.args.large_runs if n >= self.args.large_from else self.args.runs

    def clients(self, n):
        nodes = self.bed.clients[:n]
        names = [node.name for node in nodes]
        limit = ','.join(names)
        floor, ping_pb, fresh, noop, restarts, mirrored = [], [], [], [], [], []
        for run in range(self.runs_for(n)):
            self.reset_clients(nodes)
            self.ping(limit)  # untimed warm-up: every figure below runs over live ControlPersist masters
            floor.append(self.ping(limit))
            ping_pb.append(self.playbook(self.ping_playbook, limit, 'one-task ping playbook N=%d' % n))
            before = self.pids(nodes)
            fresh.append(self.playbook('client.yml', limit, 'fresh client rollout N=%d run %d' % (n, run + 1)))
            mid = self.pids(nodes)
            noop.append(self.playbook('client.yml', limit, 'no-op client rerun N=%d run %d' % (n, run + 1)))
            after = self.pids(nodes)
            restarted = sorted(h for h in names if not (before[h] == mid[h] == after[h] and before[h]))
            restarts.append(len(restarted))
            if restarted:
                self.observe('dockerd restarted on %s during the rollout (N=%d run %d): %s -> %s -> %s'
                             % (', '.join(restarted), n, run + 1, before, mid, after))
            unchanged = [h for h in names if fresh[-1]['recap'].get(h, {}).get('changed', 0) < 1]
            if unchanged:
                self.observe('fresh rollout changed nothing on %s (N=%d run %d)' % (', '.join(unchanged), n, run + 1),
                             fresh[-1]['output'])
            churned = [h for h in names if noop[-1]['recap'].get(h, {}).get('changed', 1) != 0]
            if churned:
                self.observe('no-op rerun changed %s (N=%d run %d)' % (', '.join(churned), n, run + 1),
                             noop[-1]['output'])
            mirrored.append(self.clients_with_mirror(nodes))
            print('  N=%-3d run %d: floor %.2f s, ping playbook %.2f s, fresh %.2f s, no-op %.2f s, restarts %d, '
                  'clients with the mirror %d; CPU s (controller+nodes) floor %s, fresh %s, no-op %s'
                  % (n, run + 1, floor[-1]['wall'], ping_pb[-1]['wall'], fresh[-1]['wall'], noop[-1]['wall'],
                     restarts[-1], mirrored[-1], *[cpu_pair(r) for r in (floor[-1], fresh[-1], noop[-1])]), flush=True)
        self.profile_runs['ping playbook N=%d' % n] = ping_pb[-1]
        self.profile_runs['client fresh N=%d' % n] = fresh[-1]
        self.profile_runs['client no-op N=%d' % n] = noop[-1]
        result = {'n': n, 'hosts': names, 'runs': self.runs_for(n), 'loadavg_after': loadavg(),
                  'floor': summary([r['wall'] for r in floor]),
                  'floor_cpu': {'controller': summary([r['controller_cpu'] for r in floor]),
                                'nodes': summary([r['nodes_cpu'] for r in floor])},
                  'ping_playbook': self.figures(ping_pb, names),
                  'fresh': self.figures(fresh, names, floor),
                  'noop': self.figures(noop, names, floor),
                  'dockerd_restarts': summary(restarts),
                  'clients_with_mirror': summary(mirrored)}
        return result

    # --- figures ---------------------------------------------------------------------------
    @staticmethod
    def figures(runs, hosts, floor=None):
        fig = {
            'wall': summary([r['wall'] for r in runs]),
            'tree_rss_mib': summary([r['tree_rss_mib'] for r in runs]),
            'tree_pss_mib': summary([r['tree_pss_mib'] for r in runs]),
            'ru_maxrss_mib': summary([r['ru_maxrss_mib'] for r in runs]),
            'failed_runs': sum(1 for r in runs if r['rc'] != 0),
            'controller_cpu': summary([r['controller_cpu'] for r in runs]),
            'nodes_cpu': summary([r['nodes_cpu'] for r in runs]),
        }
        counts = [r['recap'].get(h, {}) for r in runs for h in hosts]
        fig['tasks_per_host'] = summary([c.get('ok', 0) + c.get('failed', 0) + c.get('skipped', 0) for c in counts])
        fig['changed_per_host'] = summary([c.get('changed', 0) for c in counts])
        remote = []
        for r in runs:
            if r.get('events'):
                for h in hosts:
                    remote.append(sum(1 for e in r['events']['results']
                                      if e['host'] == h and e['remote'] and e['status'] != 'skipped'))
        fig['remote_tasks_per_host'] = summary(remote)
        if floor:
            fig['ratio_to_floor'] = summary([r['wall'] / f['wall'] for r, f in zip(runs, floor)])
            fig['ratio_of_medians'] = fig['wall']['median'] / statistics.median(f['wall'] for f in floor)
        return fig


def cpu_pair(run):
    nodes = run['nodes_cpu']
    return '%.1f+%s' % (run['controller_cpu'], 'n/a' if nodes is None else '%.1f' % nodes)


def profile(run):
    """Where a playbook's wall time went: start-up, each task (first start -> last host done), tail."""
    events = run.get('events')
    if not events or not events['tasks']:
        return None
    rows, tasks = [], events['tasks']
    ends = {}
    for e in events['results']:
        ends[e['uuid']] = max(ends.get(e['uuid'], 0), e['end'])
    for i, task in enumerate(tasks):
        end = ends.get(task['uuid'], tasks[i + 1]['start'] if i + 1 < len(tasks) else events['stats'])
        kinds = {e['action'] for e in events['results'] if e['uuid'] == task['uuid']}
        remote = any(e['remote'] for e in events['results'] if e['uuid'] == task['uuid'] and e['status'] != 'skipped')
        rows.append({'task': task['name'], 'actions': sorted(kinds), 'remote': remote,
                     'seconds': round(end - task['start'], 3)})
    return {
        'wall': round(run['wall'], 3),
        'startup_until_first_task': round(tasks[0]['start'] - run['start'], 3),
        'tasks': rows,
        'after_last_task': round(run['start'] + run['wall'] - max(ends.values() or [events['stats']]), 3),
    }


def _median(s):
    return s['median'] if s else None


def _cpu_total(run_figures):
    c, n = _median(run_figures['controller_cpu']), _median(run_figures['nodes_cpu'])
    return None if c is None or n is None else c + n


def slopes(clients):
    """Per added client between consecutive sizes (from N = 5 on): seconds of wall time and CPU seconds (controller +
    nodes) for the floor, the fresh rollout and the no-op rerun, from the medians."""
    rows, by_n = [], {c['n']: c for c in clients}
    sizes = sorted(n for n in by_n if n >= 5)
    for a, b in zip(sizes, sizes[1:]):
        x, y = by_n[a], by_n[b]
        row = {'from': a, 'to': b}
        floor_cpu = [(_median(c['floor_cpu']['controller']) or 0) + (_median(c['floor_cpu']['nodes']) or 0) for c in (x, y)]
        row['floor'] = (_median(y['floor']) - _median(x['floor'])) / (b - a)
        row['floor_cpu'] = (floor_cpu[1] - floor_cpu[0]) / (b - a)
        for key in ('fresh', 'noop'):
            row[key] = (_median(y[key]['wall']) - _median(x[key]['wall'])) / (b - a)
            cpu = [_cpu_total(c[key]) for c in (x, y)]
            row[key + '_cpu'] = None if None in cpu else (cpu[1] - cpu[0]) / (b - a)
        rows.append(row)
    return rows


def projection(result, sizes=(1000, 10000)):
    """What N clients would cost one controller like this one, from the slope between the two largest sizes:
    controller CPU-s per client (the nodes' own CPU is theirs on a real fleet) and memory per fork. A projection:
    assumes the per-client cost stays linear and the controller, not the network or the registry, is the limit."""
    clients = sorted(result['clients'], key=lambda c: c['n'])
    if len(clients) < 2:
        return None
    x, y = clients[-2], clients[-1]
    dn = y['n'] - x['n']
    cores = result['machine']['cores']
    out = {'from': x['n'], 'to': y['n'], 'cores': cores, 'forks': result['config']['forks'],
           'pss_per_fork_mib': (y['fresh']['tree_pss_mib']['max'] - x['fresh']['tree_pss_mib']['max']) / dn,
           'pss_at_forks_mib': y['fresh']['tree_pss_mib']['max'], 'rows': []}
    for key in ('fresh', 'noop'):
        out[key + '_ctl_cpu'] = (_median(y[key]['controller_cpu']) - _median(x[key]['controller_cpu'])) / dn
        out[key + '_wall'] = (_median(y[key]['wall']) - _median(x[key]['wall'])) / dn
    out['floor_ctl_cpu'] = (_median(y['floor_cpu']['controller']) - _median(x['floor_cpu']['controller'])) / dn
    for n in sizes:
        out['rows'].append({'n': n, **{key: n * out[key + '_ctl_cpu'] / cores for key in ('fresh', 'noop')},
                            **{key + '_bed': n * out[key + '_wall'] for key in ('fresh', 'noop')}})
    return out


def _axes(ax, n_max, ylabel, title):
    ax.set_xlabel('clients N (hosts in the play)')
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc='upper left', fontsize=9)
    ax.set_xlim(0, n_max * 1.05)
    ax.set_ylim(0, None)


def plot(result, path):
    """Time vs N (floor, fresh, no-op; median with min-max bars) and CPU seconds vs N, as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    clients, m, cfg = result['clients'], result['machine'], result['config']
    ns = [c['n'] for c in clients]
    fig, (ax, ax_cpu) = plt.subplots(1, 2, figsize=(12, 5.2), dpi=110)
    series = (('ping floor (ansible -m ping)', lambda c: c['floor'], 'o-', 'tab:gray'),
              ('fresh rollout (playbooks/client.yml)', lambda c: c['fresh']['wall'], 's-', 'tab:red'),
              ('no-op rerun', lambda c: c['noop']['wall'], '^-', 'tab:blue'))
    for label, get, style, colour in series:
        med = [get(c)['median'] for c in clients]
        err = [[med[i] - get(c)['min'] for i, c in enumerate(clients)], [get(c)['max'] - med[i] for i, c in enumerate(clients)]]
        ax.errorbar(ns, med, yerr=err, fmt=style, color=colour, capsize=3, label=label)
    for c in clients:
        ax.annotate('%.2f×' % c['fresh']['ratio_of_medians'], (c['n'], c['fresh']['wall']['median']),
                    textcoords='offset points', xytext=(-10, 8), fontsize=8, color='tab:red')
    _axes(ax, max(ns), 'wall time (s)', 'Wall time vs N (median, bars: min–max; labels: fresh ÷ floor)')
    for label, key, style, colour in (('ping floor', None, 'o-', 'tab:gray'), ('fresh rollout', 'fresh', 's-', 'tab:red'),
                                      ('no-op rerun', 'noop', '^-', 'tab:blue')):
        if key is None:
            ys = [(_median(c['floor_cpu']['controller']) or 0) + (_median(c['floor_cpu']['nodes']) or 0) for c in clients]
        else:
            ys = [_cpu_total(c[key]) or 0 for c in clients]
        ax_cpu.plot(ns, ys, style, color=colour, label=label)
    _axes(ax_cpu, max(ns), 'CPU time, controller + nodes (CPU-s)', 'CPU seconds vs N (median; less load-dependent)')
    fig.suptitle('berth.registry client rollout, %s — %s, %d cores, %.0f GiB; forks %s, strategy %s; load avg %s → %s'
                 % (time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(result['started'])), m['cpu'], m['cores'],
                    m['memory_gib'], cfg['forks'], cfg['strategy'], m['loadavg_at_start'][0], result['loadavg_at_end'][0]),
                 fontsize=10)
    fig.text(0.5, 0.01, 'Bed: 1 registry node + %d light client containers (own dockerd + sshd) on the same machine; '
             'runs per size: %s' % (max(ns), ', '.join('N=%d: %d' % (c['n'], c['runs']) for c in clients)),
             ha='center', fontsize=8, color='dimgray')
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# --- output ----------------------------------------------------------------------------------

def machine():
    cpu = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')), '?')
    mem = next(int(line.split()[1]) for line in open('/proc/meminfo') if line.startswith('MemTotal'))
    osr = dict(line.rstrip().split('=', 1) for line in open('/etc/os-release') if '=' in line)
    ansible = subprocess.run(['ansible', '--version'], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    dockerv = engine.docker('version', '--format', '{{.Server.Version}}', check=False).stdout.strip()
    return {'cpu': cpu, 'cores': os.cpu_count(), 'memory_gib': round(mem / 2**20, 1),
            'os': osr.get('PRETTY_NAME', '').strip('"'), 'kernel': platform.release(),
            'python': platform.python_version(), 'ansible': ansible, 'docker_engine': dockerv,
            'loadavg_at_start': loadavg()}


def loadavg():
    with open('/proc/loadavg') as f:
        return f.read().split()[:3]


def fmt(s, unit='s', digits=2):
    if not s:
        return 'n/a'
    f = '%.' + str(digits) + 'f'
    if s['min'] == s['max']:
        return (f + ' %s') % (s['median'], unit) if unit else f % s['median']
    return (f + ' (' + f + '–' + f + ')%s') % (s['median'], s['min'], s['max'], ' ' + unit if unit else '')


def markdown(result):
    m, cfg = result['machine'], result['config']
    lines = [
        '# Rollout benchmark (%s)' % time.strftime('%Y-%m-%d', time.gmtime(result['finished'])),
        '',
        'Machine: %s, %d cores, %.0f GiB RAM, %s, kernel %s; %s, Python %s; Docker Engine %s on the host '
        'and in every node. Bed: 1 registry node + %d client containers (own dockerd + sshd each) on the '
        'same machine, so nodes and controller share the CPUs.'
        % (m['cpu'], m['cores'], m['memory_gib'], m['os'], m['kernel'], m['ansible'], m['python'],
           m['docker_engine'], max(cfg['sizes'])),
        'Load average (1/5/15 min) at start %s, at end %s: other work on the machine shares the CPUs too.'
        % ('/'.join(m['loadavg_at_start']), '/'.join(result['loadavg_at_end'])),
        '',
        'Each figure: median (min–max) over the runs of its row (%d per size below N = %d, %d from there on: '
        'a 100-client repetition costs minutes on two cores). Warm: an untimed `ansible -m ping` before every '
        'repetition, so floor and rollouts all run over live SSH ControlPersist masters; same inventory, '
        'same ansible.cfg (forks %s, strategy %s, pipelining on, ControlPersist 60s). Clients: %s. Fresh = clients '
        'reset to nothing configured (no certs.d, no daemon.json, registry keys cleared from dockerd, no /etc/hosts '
        'line, no login).' % (
            cfg['runs'], cfg.get('large_from', 0), cfg.get('large_runs', cfg['runs']), cfg['forks'], cfg.get('strategy', 'linear'),
            'light bed nodes (dockerd without bridge/NAT)' if cfg.get('light_clients') else 'full nodes'),
        '',
        '| clients | runs | load after | ping floor `ansible -m ping` | 1-task ping playbook | fresh rollout '
        '| fresh ÷ floor | no-op rerun | no-op ÷ floor | tasks/host (remote) | dockerd restarts '
        '| peak memory: tree PSS / RSS, largest process |',
        '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for c in result['clients']:
        f, n = c['fresh'], c['noop']
        lines.append('| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s (%s) | %s | %s / %s MiB, %s MiB |' % (
            c['n'], c.get('runs', cfg['runs']), c.get('loadavg_after', ['?'])[0],
            fmt(c['floor']), fmt(c['ping_playbook']['wall']), fmt(f['wall']),
            fmt(f['ratio_to_floor'], '×'), fmt(n['wall']), fmt(n['ratio_to_floor'], '×'),
            fmt(f['tasks_per_host'], '', 0), fmt(f['remote_tasks_per_host'], '', 0),
            '%d' % c['dockerd_restarts']['max'],
            '%.0f' % f['tree_pss_mib']['max'], '%.0f' % f['tree_rss_mib']['max'], '%.0f' % f['ru_maxrss_mib']['max']))
    lines += ['', 'What the measured runs did (behaviour, reported here and asserted in tests/integration/test_site.py): '
              'failed runs, changed tasks per host, dockerd restarts (PID before/after), clients whose dockerd '
              'reports the mirror afterwards.', '',
              '| clients | failed runs fresh / no-op | changed tasks/host fresh | changed tasks/host no-op '
              '| dockerd restarts | clients with the mirror |', '|---:|---:|---:|---:|---:|---:|']
    for c in result['clients']:
        f, n = c['fresh'], c['noop']
        lines.append('| %d | %d / %d | %s | %s | %d | %s of %d |' % (
            c['n'], f['failed_runs'], n['failed_runs'], fmt(f['changed_per_host'], '', 0),
            fmt(n['changed_per_host'], '', 0), c['dockerd_restarts']['max'],
            fmt(c['clients_with_mirror'], '', 0), c['n']))
    lines += ['', 'CPU seconds per run, controller (ansible process tree, from wait4) + bed nodes (%s of each '
              'node container): less sensitive than wall time to other load on the machine.'
              % (result.get('node_cpu_source') or 'n/a: no readable cgroup'), '',
              '| clients | ping floor | fresh rollout | no-op rerun |', '|---:|---:|---:|---:|']
    for c in result['clients']:
        cells = [fmt(c['floor_cpu']['controller']) + ' + ' + fmt(c['floor_cpu']['nodes'])]
        cells += [fmt(c[k]['controller_cpu']) + ' + ' + fmt(c[k]['nodes_cpu']) for k in ('fresh', 'noop')]
        lines.append('| %d | %s |' % (c['n'], ' | '.join(cells)))
    if result.get('slopes'):
        lines += ['', 'Per added client between consecutive sizes (from the medians): wall seconds, and CPU seconds '
                  '(controller + nodes) in brackets.', '',
                  '| N | floor | fresh rollout | no-op rerun |', '|---|---:|---:|---:|']
        for r in result['slopes']:
            lines.append('| %d → %d | %s | %s | %s |' % (r['from'], r['to'], *[
                '%.3f s [%s]' % (r[k], 'n/a' if r[k + '_cpu'] is None else '%.3f' % r[k + '_cpu'])
                for k in ('floor', 'fresh', 'noop')]))
    proj = projection(result)
    if proj:
        lines += ['', 'Projection (not measured) from the slope between N = %d and %d: controller CPU per client %.3f s fresh, '
                  '%.3f s no-op (ping: %.3f s); memory per fork %.1f MiB (tree PSS %.0f MiB at forks %d). On a fleet whose '
                  'nodes have their own CPUs, the controller is the limit: N × CPU-s per client ÷ %d cores.'
                  % (proj['from'], proj['to'], proj['fresh_ctl_cpu'], proj['noop_ctl_cpu'], proj['floor_ctl_cpu'],
                     proj['pss_per_fork_mib'], proj['pss_at_forks_mib'], proj['forks'], proj['cores']), '',
                  '| clients | fresh: controller-bound | no-op: controller-bound | fresh: as this bed (nodes on the same CPUs) '
                  '| no-op: as this bed |', '|---:|---:|---:|---:|---:|']
        for r in proj['rows']:
            lines.append('| %d | %.0f s | %.0f s | %.0f s | %.0f s |' % (
                r['n'], r['fresh'], r['noop'], r['fresh_bed'], r['noop_bed']))
    if result.get('server'):
        s = result['server']
        lines += ['', 'Server (registry1, a bare node: python3 + docker.io) against a 1-host ping floor `ansible registry1 -m '
                  'ping` of %s.' % fmt(s.get('floor')), '',
                  '| server (registry1) | wall | ÷ 1-host floor | CPU controller + nodes | tasks (remote) | changed tasks '
                  '| failed runs | peak memory: tree PSS / RSS, largest process |',
                  '|---|---:|---:|---:|---:|---:|---:|---:|']
        for label, key in (('fresh deploy on a bare host: apt (python3-docker, python3-bcrypt), PKI + config, container '
                            'until /v2/ answers', 'fresh'),
                           ('no-op rerun', 'noop')):
            x = s[key]
            lines.append('| %s | %s | %s | %s + %s | %s (%s) | %s | %d | %.0f / %.0f MiB, %.0f MiB |' % (
                label, fmt(x['wall']), fmt(x.get('ratio_to_floor'), '×'), fmt(x['controller_cpu']), fmt(x['nodes_cpu']),
                fmt(x['tasks_per_host'], '', 0), fmt(x['remote_tasks_per_host'], '', 0), fmt(x['changed_per_host'], '', 0),
                x['failed_runs'], x['tree_pss_mib']['max'], x['tree_rss_mib']['max'], x['ru_maxrss_mib']['max']))
    lines += ['', 'Tasks/host = ok+changed+failed+skipped from the recap (changed is counted in ok); remote = '
              'tasks that opened a connection to the host (not set_fact/validate_argument_spec/assert/debug, '
              'not delegated to localhost). Memory: the ansible-playbook process tree sampled every 0.1 s '
              'from /proc (sum of Pss and of Rss from smaps_rollup; fork workers share pages, so RSS over-counts), '
              'and ru_maxrss from wait4() (the largest single process of the tree).']
    if result['observations']:
        lines += ['', '**Observed during the runs** (see the log): ' + '; '.join(result['observations'])]
    return '\n'.join(lines) + '\n'


def summary_table(result):
    """The compact table the README shows: one row per N, medians, the ratios to the floor."""
    lines = ['| clients | runs | ping floor | fresh rollout (÷ floor) | no-op rerun (÷ floor) | CPU-s fresh / no-op '
             '(controller + nodes) | controller peak memory (tree PSS) | dockerd restarts |',
             '|---:|---:|---:|---:|---:|---:|---:|---:|']
    for c in result['clients']:
        f, n = c['fresh'], c['noop']
        lines.append('| %d | %d | %.2f s | %.2f s (%.2f×) | %.2f s (%.2f×) | %.1f + %.1f / %.1f + %.1f | %.0f MiB | %d |' % (
            c['n'], c.get('runs', 0), c['floor']['median'], f['wall']['median'], f['ratio_of_medians'],
            n['wall']['median'], n['ratio_of_medians'], _median(f['controller_cpu']), _median(f['nodes_cpu']) or 0,
            _median(n['controller_cpu']), _median(n['nodes_cpu']) or 0, f['tree_pss_mib']['max'],
            c['dockerd_restarts']['max']))
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='N=1,5 and 3 runs (development)')
    parser.add_argument('--sizes', default='1,5,10,20,50,100', help='client counts, comma separated')
    parser.add_argument('--runs', type=int, default=3, help='repetitions per size below --large-from')
    parser.add_argument('--large-from', type=int, default=50, help='sizes from here on run --large-runs times')
    parser.add_argument('--large-runs', type=int, default=1)
    parser.add_argument('--full-clients', action='store_true', help='clients with a full dockerd instead of light')
    parser.add_argument('--plot', help='PNG of time vs N; default docs/perf-rollout.png, with --quick OUT.png')
    parser.add_argument('--no-server', action='store_true', help='skip the server figures (deploys it once)')
    parser.add_argument('--out', default=os.path.join(ROOT, '.build', 'bench', 'rollout'),
                        help='writes OUT.json and OUT.md')
    parser.add_argument('--collections', help='ANSIBLE_COLLECTIONS_PATH to measure instead (a tuned copy)')
    parser.add_argument('--playbooks', default=os.path.join(ROOT, 'playbooks'))
    parser.add_argument('--env', action='append', default=[], help='KEY=VALUE for every ansible run (tuning)')
    parser.add_argument('--var', action='append', default=[], help='KEY=JSON inventory variable (tuning)')
    args = parser.parse_args()
    sizes = [1, 5] if args.quick else sorted(int(x) for x in args.sizes.split(','))
    engine.require_engine()
    Bed.cleanup_stale()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # forks + SSH masters for a hundred hosts
    print('load average at start: %s; nofile %d -> %d' % ('/'.join(loadavg()), soft, hard), flush=True)

    started = time.time()
    bed = Bed(clients=max(sizes), registry_node=True, run_id='bench-%d' % os.getpid(), light=not args.full_clients)
    workdir = tempfile.mkdtemp(prefix='berth-bench-')
    try:
        t = time.monotonic()
        bed.up()
        print('bed up: registry1 + %d clients in %.1f s' % (max(sizes), time.monotonic() - t), flush=True)
        bench = Rollout(bed, args, workdir)
        all_nodes = ','.join(n.name for n in bed.nodes)
        bench.ping(all_nodes)  # opens the ControlPersist masters
        result = {'config': {'sizes': sizes, 'runs': args.runs, 'large_from': args.large_from,
                             'large_runs': args.large_runs, 'warm_controlpersist': True,
                             'light_clients': not args.full_clients,
                             'forks': max(20, len(bed.nodes)), 'strategy': bench.env_extra.get('ANSIBLE_STRATEGY', 'linear'),
                             'env': bench.env_extra, 'vars': args.var,
                             'collections': args.collections or 'repository', 'playbooks': args.playbooks},
                  'machine': machine(), 'started': started}
        if args.no_server:
            print('server: deploy once (not measured)', flush=True)
            bench.playbook('server.yml', bed.registry.name, 'server deploy')
        else:
            print('server: %d × fresh deploy + no-op rerun' % args.runs, flush=True)
            result['server'] = bench.server()
        result['clients'] = []
        for n in sizes:
            print('clients: N=%d, %d run(s); load average %s' % (n, bench.runs_for(n), '/'.join(loadavg())), flush=True)
            try:
                result['clients'].append(bench.clients(n))
            except Exception as exc:  # keep the sizes measured so far; a larger N would not fit either
                bench.observe('N=%d did not complete: %s: %s' % (n, type(exc).__name__, exc))
                break
        result['slopes'] = slopes(result['clients'])
        result['projection'] = projection(result)
        result['profile'] = {label: profile(run) for label, run in bench.profile_runs.items()}
        result['observations'] = bench.observations
        result['node_cpu_source'] = bench.cpu_source
        result['finished'] = time.time()
        result['loadavg_at_end'] = loadavg()
        result['duration_s'] = round(result['finished'] - started, 1)
    finally:
        bed.down()
        shutil.rmtree(workdir, ignore_errors=True)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + '.json', 'w') as f:
        json.dump(result, f, indent=1)
    table = markdown(result)
    with open(args.out + '.md', 'w') as f:
        f.write(table)
    with open(args.out + '.summary.md', 'w') as f:
        f.write(summary_table(result))
    plot_path = args.plot or (args.out + '.png' if args.quick else os.path.join(ROOT, 'docs', 'perf-rollout.png'))
    plot(result, plot_path)
    print('plot: %s' % plot_path)
    print()
    print(table)
    for label, prof in result['profile'].items():
        if prof:
            print('profile, %s: %.2f s = start-up %.2f s + %s + after %.2f s' % (
                label, prof['wall'], prof['startup_until_first_task'],
                ' + '.join('%s %.2f s%s' % (r['task'][:40], r['seconds'], '' if r['remote'] else ' (controller)')
                           for r in prof['tasks']), prof['after_last_task']))
    print('\nwrote %s.json and %s.md (%.0f s in all)' % (args.out, args.out, result['duration_s']))
    if result['observations']:
        print('\n%d observation(s) worth a look (reported, not asserted; tests/integration asserts behaviour): %s'
              % (len(result['observations']), '; '.join(result['observations'])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
