"""Figures for berth.registry.registry_container on the host engine.

Prints: wall time of the first run (create + start + wait), time from the container's start to
/v2/ answering, wall time of an unchanged rerun and of a recreate after a config.yml change, and
the longest time /v2/ did not answer during that recreate (the old container is stopped while the
new one starts: they publish the same port), and how many rounds had a failed run (left out of the
times). Asserts nothing: that a rerun changes nothing and a config change recreates is asserted by
tests/integration/test_registry_container.py.
Run: PATH=.venv/bin:$PATH python tests/benchmarks/registry_container.py [rounds]
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from bed.engine import docker  # noqa: E402
from bed.images import ensure_registry_image  # noqa: E402
from bed.playbook import ROOT, run_playbook  # noqa: E402

PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'registry_container', 'run.yml')
CONFIG = 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def first_answer(port, stop, found):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while not stop.is_set():
        try:
            with opener.open('http://127.0.0.1:%d/v2/' % port, timeout=1) as response:
                if response.status == 200:
                    found.append(time.time())
                    return
        except Exception:
            pass
        time.sleep(0.005)


def longest_gap(port, stop, gaps):
    """Poll /v2/ until stop; append the longest time between two answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    last, longest = None, 0.0
    while not stop.is_set():
        try:
            with opener.open('http://127.0.0.1:%d/v2/' % port, timeout=1) as response:
                answered = response.status == 200
        except Exception:
            answered = False
        if answered:
            now = time.monotonic()
            if last is not None:
                longest = max(longest, now - last)
            last = now
        time.sleep(0.01)
    gaps.append(longest)


def started_at(name):
    raw = json.loads(docker('inspect', name).stdout)[0]['State']['StartedAt']
    seconds, _dot, fraction = raw.rstrip('Z').partition('.')
    moment = datetime.datetime.strptime(seconds, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp() + float('0.' + (fraction or '0'))


class RunFailed(Exception):
    pass


def timed_run(extra):
    start = time.monotonic()
    result = run_playbook(PLAYBOOK, extra_vars=extra)
    if result.rc != 0:
        raise RunFailed(str(result))
    return time.monotonic() - start


def one_round(base):
    name = 'berth-bench-rc-%d' % os.getpid()
    port = free_port()
    conf = os.path.join(base, 'conf')
    os.makedirs(conf, exist_ok=True)
    config = os.path.join(conf, 'config.yml')
    with open(config, 'w') as f:
        f.write(CONFIG)
    extra = {'rc_name': name, 'rc_ports': [{'host_port': port, 'bind_address': '127.0.0.1'}],
             'rc_data_dir': os.path.join(base, 'data'), 'rc_config_dir': conf, 'rc_restart_files': [config],
             'rc_probe': {'scheme': 'http'}}
    stop, found = threading.Event(), []
    poller = threading.Thread(target=first_answer, args=(port, stop, found))
    poller.start()
    try:
        first = timed_run(extra)
        poller.join(5)
        to_answer = found[0] - started_at(name) if found else float('nan')
        rerun = timed_run(extra)
        with open(config, 'a') as f:
            f.write('# changed\n')
        gap_stop, gaps = threading.Event(), []
        watcher = threading.Thread(target=longest_gap, args=(port, gap_stop, gaps))
        watcher.start()
        try:
            recreate = timed_run(extra)
        finally:
            gap_stop.set()
            watcher.join(5)
    finally:
        stop.set()
        docker('rm', '-f', name, name + '-berth-new', check=False)
    return first, to_answer, rerun, recreate, gaps[0] if gaps else float('nan')


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    ensure_registry_image('registry:2')
    rows, failed = [], 0
    for _round in range(rounds):
        with tempfile.TemporaryDirectory(prefix='berth-bench-') as base:
            try:
                rows.append(one_round(base))
            except RunFailed as exc:
                failed += 1
                print('round %d: a playbook run failed, its times are left out:\n%s' % (_round + 1, exc))
    labels = ('first run (playbook wall)', 'container start -> /v2/ 200', 'unchanged rerun (playbook wall)',
              'recreate after config change (wall)', 'no answer during that recreate (longest)')
    for index, label in enumerate(labels):
        values = sorted(row[index] for row in rows)
        if not values:
            print('%-42s n/a' % label)
            continue
        print('%-42s median %.3f s  (min %.3f, max %.3f, n=%d)' % (label, values[len(values) // 2], values[0], values[-1], len(values)))
    print('%-42s %d of %d' % ('rounds with a failed run', failed, rounds))


if __name__ == '__main__':
    main()
