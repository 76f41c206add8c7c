"""Figures for replicas behind the load balancer (issue 12), on an HA bed of its own.

Brings up registry1 + registry2 (bare), lb1, store (Ceph RGW) and two docker clients, runs site.yml with the
replicas on an S3 bucket and the redis cache, then measures and prints:
- the fresh deploy and a converged rerun (wall time);
- a rolling update (a config change recreating both replicas) while both clients pull in a loop: its wall
  time, pulls done and failed;
- a replica node stopped while both clients pull: pulls done and failed;
- the object store stopped: how long a pull (and a push) takes to fail and with what message, what the load
  balancer and `/v2/` show over time, and how long after the store is back a pull works again;
- memory: the registry containers, HAProxy and redis.
Asserts nothing (tests/integration/test_ha.py asserts the behaviour).
Run: PATH=.venv/bin:$PATH python tests/benchmarks/ha.py [--quick] [--json FILE]
(--quick: a shorter replica-down window and fewer samples of the load balancer while the store is down)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from bed.loops import PullLoops, haproxy_servers  # noqa: E402
from bed.nodes import Bed  # noqa: E402

SITE = 'playbooks/site.yml'
HOSTNAME = 'registry-ha.berth.test'


def timed(fn):
    start = time.monotonic()
    value = fn()
    return time.monotonic() - start, value


def mem_mib(node, pattern):
    """Summed RSS (MiB) of the processes named pattern on node."""
    dummy, out = node.exec("ps -C %s -o rss= | awk '{s+=$1} END {print s/1024}'" % pattern)
    try:
        return round(float(out.strip() or 0), 1)
    except ValueError:
        return None


def container_mem(node):
    dummy, out = node.exec("docker stats --no-stream --format '{{.MemUsage}}' registry")
    return out.strip().split(' / ')[0]


def store_down(bed, client, image, figures, samples=12):
    """Stop the store node; time a pull and a push that must fail; watch /v2/ and the LB; start it; time recovery."""
    lb = bed.lb
    watch = []
    bed.stop_node(bed.objectstore.name)
    down_at = time.monotonic()
    try:
        seconds, (rc, out) = timed(lambda: client.exec('docker image rm -f %s >/dev/null 2>&1; timeout 600 docker pull %s'
                                                       % (image, image), timeout=700))
        figures['store_down_pull'] = {'rc': rc, 'seconds': round(seconds, 1), 'message': out.strip().splitlines()[-1:]}
        new = '%s/berth/ha:down' % HOSTNAME
        client.exec('d=$(mktemp -d) && head -c 1048576 /dev/urandom > $d/b && tar cf - -C $d b | docker import - %s' % new)
        seconds, (rc, out) = timed(lambda: client.exec('timeout 600 docker push %s' % new, timeout=700))
        figures['store_down_push'] = {'rc': rc, 'seconds': round(seconds, 1), 'message': out.strip().splitlines()[-1:]}
        for dummy in range(samples):
            dummy, code = client.exec('curl -s -o /dev/null -w "%%{http_code}" --max-time 5 https://%s/v2/ '
                                      '--cacert /etc/docker/certs.d/%s/ca.crt' % (HOSTNAME, HOSTNAME))
            watch.append({'t': round(time.monotonic() - down_at), 'v2': code.strip(), 'lb': haproxy_servers(lb)})
            time.sleep(5)
        figures['store_down_watch'] = watch
    finally:
        bed.start_node(bed.objectstore.name)
    up_at = time.monotonic()
    while True:
        rc, out = client.exec('docker pull -q %s' % image)
        if rc == 0 or time.monotonic() - up_at > 300:
            break
        time.sleep(1)
    figures['store_back_first_pull_s'] = round(time.monotonic() - up_at, 1) if rc == 0 else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--json', help='write the figures to this file too')
    parser.add_argument('--quick', action='store_true', help='shorter windows (replica down 8 s, 3 samples with the store down)')
    args = parser.parse_args()
    Bed.cleanup_stale()
    bed = Bed(clients=2, registries=2, lb=True, extra={'store': 'objectstore'}, registry='bare',
              run_id='bench-ha-%d' % os.getpid())
    pki = tempfile.mkdtemp(prefix='berth-bench-ha-')
    figures = {}
    try:
        bed.up()
        bucket = 'berth-bench-%s' % secrets.token_hex(3)
        bed.s3.create_bucket(bucket)
        base = {'registry_hostname': HOSTNAME, 'registry_pki_dir': pki, 'registry_cache': True,
                'registry_storage': {'s3': bed.s3.registry_storage(bucket)['s3']}, 'registry_client_login_user': 'admin'}

        def site(**overrides):
            bed.write_inventory(extra_vars=dict(base, **overrides))
            result = bed.run_playbook(SITE)
            if result.rc != 0:
                raise SystemExit('site.yml failed:\n%r' % result)
            return result

        figures['fresh_deploy_s'] = round(timed(site)[0], 1)
        figures['noop_rerun_s'] = round(timed(site)[0], 1)
        first, second = bed.clients
        image = '%s/berth/ha:1' % HOSTNAME
        first.exec('d=$(mktemp -d) && head -c 4194304 /dev/urandom > $d/b && tar cf - -C $d b | docker import - %s' % image)
        first.exec('docker push %s' % image)

        with PullLoops(bed.clients, image) as loops:
            seconds = timed(lambda: site(registry_log_level='debug'))[0]
        figures['rolling_update'] = {'seconds': round(seconds, 1),
                                     'pulls': [(r.node, r.ok, r.failed) for r in loops.results]}
        base['registry_log_level'] = 'debug'

        with PullLoops(bed.clients, image, max_pulls=300) as loops:
            bed.stop_node('registry2')
            time.sleep(8 if args.quick else 20)
        figures['replica_node_down'] = {'pulls': [(r.node, r.ok, r.failed) for r in loops.results],
                                        'seconds': [round(r.seconds, 1) for r in loops.results]}
        bed.start_node('registry2')
        site()

        figures['memory'] = {'registry containers': dict((n.name, container_mem(n)) for n in bed.registries),
                             'haproxy MiB': mem_mib(bed.lb, 'haproxy'), 'redis MiB': mem_mib(bed.lb, 'redis-server')}
        store_down(bed, second, image, figures, samples=3 if args.quick else 12)
    finally:
        bed.down()
        shutil.rmtree(pki, ignore_errors=True)
    text = json.dumps(figures, indent=1)
    print(text)
    if args.json:
        with open(args.json, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
