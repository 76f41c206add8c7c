"""Replicas on a real object store behind HAProxy (issue 12), as one story on the HA bed:

registry1 + registry2 (bare Debian hosts) share a bucket of the bed's Ceph RGW (store) and one http.secret,
lb1 runs HAProxy (and redis, the blob-descriptor cache) in front of them, client1 + client2 reach the
registry through lb1. No mock object store anywhere.

In file order: a fresh site.yml; a converged rerun (0 changed, no secret at -vvv --diff); push through the
load balancer and pull on every client; a blob pushed to one replica directly and pulled from the other
directly; redis holding blob descriptors; a replica down while clients pull (no failed pull) and back on
the next run; a config change rolled through the replicas while clients pull (no failed pull); the object
store down (pulls fail, then recover); filesystem storage with two replicas refused before anything changes.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
import time

import pytest
import yaml

from bed.loops import PullLoops, haproxy_servers

from _fleet import SITE, Fleet
from _secrets import assert_no_leaks

HOSTNAME = 'registry-ha.berth.test'
WAIT_TASK = 'Wait until the load balancer sees this replica healthy'


class Ha(Fleet):
    """The site story's state (Fleet) with the replicas on a bucket of the bed's object store and the redis cache."""

    def __init__(self, bed, pki_dir, bucket):
        super().__init__(bed, pki_dir, registry_hostname=HOSTNAME, registry_cache=True, registry_client_login_user='admin',
                         registry_storage={'s3': bed.s3.registry_storage(bucket)['s3']})
        self.bucket = bucket

    def site(self, check=False, diff=False, limit=None, verbose=False, **overrides):
        return self.run(SITE, check=check, diff=diff, limit=limit, args=('-vvv',) if verbose else (), **overrides)

    def credential(self, name):
        with open(os.path.join(self.pki_dir, 'credentials', name)) as f:
            return f.read().split()[0]

    def secrets(self):
        """Every secret of this site, by label: what must never show in any output."""
        found = {'s3 access key': self.bed.s3.access_key, 's3 secret key': self.bed.s3.secret_key,
                 'admin password': self.credential('admin.password'),
                 'cache password': self.credential('redis.password')}
        for name in os.listdir(self.pki_dir):
            if 'secret' in name and os.path.isfile(os.path.join(self.pki_dir, name)):
                with open(os.path.join(self.pki_dir, name)) as f:
                    found['http.secret (%s)' % name] = f.read().strip()
        return found

    def container(self, node):
        rc, out = node.docker('inspect', '-f', '{{.Id}} {{.State.StartedAt}} {{.State.Running}}', 'registry')
        return tuple(out.split()) if rc == 0 else None

    def lb_view(self):
        """{server: status} as HAProxy on lb1 sees it."""
        return haproxy_servers(self.bed.lb)

    def wait_lb(self, wanted, timeout=120):
        deadline = time.monotonic() + timeout
        while self.lb_view() != wanted:
            if time.monotonic() > deadline:
                pytest.fail('HAProxy sees %s, expected %s' % (self.lb_view(), wanted))
            time.sleep(1)


@pytest.fixture(scope='module')
def ha(ha_bed):
    bucket = 'berth-ha-%s' % secrets.token_hex(4)
    ha_bed.s3.create_bucket(bucket)
    pki = tempfile.mkdtemp(prefix='berth-ha-pki-')
    yield Ha(ha_bed, pki, bucket)
    shutil.rmtree(pki, ignore_errors=True)


def run(node, cmd):
    rc, out = node.exec(cmd)
    assert rc == 0, '%s: %s failed:\n%s' % (node.name, cmd, out)
    return out


def make_image(node, ref, size_mb=2):
    """A one-layer image of random bytes (each call a new digest) tagged ref on node."""
    run(node, 'd=$(mktemp -d) && head -c %d /dev/urandom > $d/blob && tar cf - -C $d blob | docker import - %s '
              '>/dev/null && rm -rf $d' % (size_mb * 1024 * 1024, ref))


def assert_converged(result, bed):
    assert result.rc == 0, result
    changed = dict((n.name, result.changed(n.name)) for n in bed.nodes if n.name in result.recap)
    assert not any(changed.values()), 'changed on a converged site: %s\n%s' % (changed, result)


def test_fresh_site_runs_two_replicas_behind_the_load_balancer(ha):
    bed = ha.bed
    result = ha.site()
    assert result.rc == 0, result
    for node in bed.registries:
        assert ha.container(node)[2] == 'true', node.name
    ha.wait_lb({'registry1': 'UP', 'registry2': 'UP'})
    assert result.stdout.count(WAIT_TASK) >= 2, result  # each replica waited for before the next
    assert '(on registry1, registry2 behind the load balancer lb1, %s)' % bed.lb.ip in result.stdout, result
    for client in bed.clients:  # clients reach the service name at the load balancer's address
        assert '%s %s' % (bed.lb.ip, HOSTNAME) in client.read_file('/etc/hosts')
    cert = os.path.join(ha.pki_dir, '%s.crt' % HOSTNAME)
    text = subprocess.run(['openssl', 'x509', '-noout', '-ext', 'subjectAltName', '-in', cert],
                          capture_output=True, text=True, check=True).stdout
    for name in [HOSTNAME] + [n.name for n in bed.registries]:
        assert 'DNS:%s' % name in text, text
    for address in [bed.lb.ip] + [n.ip for n in bed.registries]:
        assert 'IP Address:%s' % address in text, text
    # one http.secret, made once on the controller (0600), in every replica's config.yml
    secret_file = os.path.join(ha.pki_dir, 'http.secret')
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    with open(secret_file) as f:
        secret = f.read().strip()
    for node in bed.registries:
        rc, config = node.exec('cat /etc/docker/registry/config.yml')
        assert rc == 0 and yaml.safe_load(config)['http']['secret'] == secret, '%s: not the shared http.secret' % node.name


def test_converged_rerun_changes_nothing_and_shows_no_secret(ha):
    runs = [ha.site(check=True, diff=True, verbose=True), ha.site(diff=True, verbose=True)]
    for result in runs:
        assert_converged(result, ha.bed)
    assert_no_leaks(runs, ha.secrets(), 'site.yml on the HA bed')


def test_push_through_the_load_balancer_pull_on_every_client(ha):
    first, second = ha.bed.clients
    image = '%s/berth/ha:1' % HOSTNAME
    make_image(first, image, size_mb=12)  # above the s3 driver's 10 MiB chunk: a multipart upload
    run(first, 'docker push %s' % image)
    for client in ha.bed.clients:
        run(client, 'docker image rm -f %s >/dev/null 2>&1; docker pull %s' % (image, image))
    assert run(second, 'docker image inspect -f "{{.Id}}" %s' % image) == run(first, 'docker image inspect -f "{{.Id}}" %s' % image)


def test_blob_pushed_to_one_replica_pulls_directly_from_the_other(ha):
    """Bypass the load balancer on purpose: push to registry1's address, pull from registry2's."""
    bed = ha.bed
    one, two = bed.registries
    pusher, puller = bed.clients
    password = ha.credential('admin.password')
    with open(os.path.join(ha.pki_dir, 'ca.crt')) as f:
        ca = f.read()
    for client, replica in ((pusher, one), (puller, two)):
        client.exec('mkdir -p /etc/docker/certs.d/%s' % replica.ip)
        client.write_file('/etc/docker/certs.d/%s/ca.crt' % replica.ip, ca)
        run(client, 'echo %s | docker login -u admin --password-stdin %s >/dev/null 2>&1' % (password, replica.ip))
    try:
        image = 'berth/direct:%s' % secrets.token_hex(3)
        make_image(pusher, '%s/%s' % (one.ip, image))
        run(pusher, 'docker push %s/%s' % (one.ip, image))
        out = run(puller, 'docker pull %s/%s' % (two.ip, image))
        assert 'Downloaded newer image' in out, out
        assert (run(pusher, 'docker image inspect -f "{{.Id}}" %s/%s' % (one.ip, image)) ==
                run(puller, 'docker image inspect -f "{{.Id}}" %s/%s' % (two.ip, image)))
    finally:
        for client, replica in ((pusher, one), (puller, two)):
            client.exec('docker logout %s; rm -rf /etc/docker/certs.d/%s' % (replica.ip, replica.ip))


def test_replicas_keep_blob_descriptors_in_redis(ha):
    lb = ha.bed.lb
    rc, out = lb.exec('REDISCLI_AUTH=%s redis-cli -h %s --scan --pattern "blobs::*"' % (
        ha.credential('redis.password'), lb.ip))
    assert rc == 0 and 'blobs::sha256:' in out, out


def test_a_replica_down_pulls_keep_working_and_the_next_run_brings_it_back(ha):
    bed = ha.bed
    image = '%s/berth/ha:1' % HOSTNAME
    down = bed.registries[1]
    with PullLoops(bed.clients, image, max_pulls=200) as loops:
        # the whole node goes away: no RST, connections to it time out
        bed.stop_node(down.name)
        ha.wait_lb({'registry1': 'UP', 'registry2': 'DOWN'})
        time.sleep(5)  # a few more pulls with one replica gone
    for result in loops.results:
        assert result.failed == 0 and result.ok >= 2, result
    bed.start_node(down.name)
    # the node is back but its registry container is stopped on purpose: the next run starts it
    down.docker('stop', 'registry')
    assert ha.container(down)[2] == 'false'
    result = ha.site()
    assert result.rc == 0 and result.changed(down.name) >= 1, result
    assert ha.container(down)[2] == 'true'
    ha.wait_lb({'registry1': 'UP', 'registry2': 'UP'})  # the next story's last run shows a rerun changes nothing


def test_a_config_change_rolls_through_the_replicas_without_a_failed_pull(ha):
    bed = ha.bed
    image = '%s/berth/ha:1' % HOSTNAME
    before = dict((n.name, ha.container(n)) for n in bed.registries)
    with PullLoops(bed.clients, image) as loops:
        result = ha.site(diff=True, verbose=True, registry_log_level='debug')
    assert result.rc == 0, result
    after = dict((n.name, ha.container(n)) for n in bed.registries)
    for name in before:
        assert after[name][0] != before[name][0], '%s was not recreated' % name
    # one at a time: registry2 started only after registry1 was back (and seen UP by HAProxy)
    assert after['registry1'][1] < after['registry2'][1], after
    assert len(re.findall(r'TASK \[berth.registry.lb : %s\]' % WAIT_TASK, result.stdout)) == 2, result
    for loop in loops.results:
        assert loop.failed == 0 and loop.ok >= 3, loop
    assert_no_leaks(result, ha.secrets(), 'the rolling update at -vvv --diff')
    ha.vars['registry_log_level'] = 'debug'
    assert_converged(ha.site(), bed)


def test_object_store_down_pulls_fail_then_recover(ha):
    bed = ha.bed
    client = bed.clients[0]
    image = '%s/berth/ha:1' % HOSTNAME
    bed.stop_node(bed.objectstore.name)
    try:
        rc, out = client.exec('docker image rm -f %s >/dev/null 2>&1; timeout 300 docker pull %s' % (image, image))
        assert rc != 0 and rc != 124, out  # fails with an error, does not hang
    finally:
        bed.start_node(bed.objectstore.name)
    deadline = time.monotonic() + 180
    while True:
        rc, out = client.exec('docker pull %s' % image)
        if rc == 0:
            break
        assert time.monotonic() < deadline, 'no pull works after the store came back: %s' % out
        time.sleep(2)


def test_filesystem_storage_with_two_replicas_is_refused_before_anything_changes(ha):
    """site.yml refuses it in the load balancer's play (the replicas are never reached); server.yml alone (no
    load balancer play) in the server role's validation, on the controller."""
    bed = ha.bed
    before = dict((n.name, ha.container(n)) for n in bed.registries)
    for playbook in (SITE, 'playbooks/server.yml'):
        result = ha.run(playbook, registry_storage={'filesystem': {}})
        assert result.rc != 0, result
        assert 'registry1, registry2' in result.stdout and 'filesystem driver' in result.stdout, result
        assert 'Nothing was changed' in result.stdout, result
        assert result.changed() == 0, result
        assert dict((n.name, ha.container(n)) for n in bed.registries) == before


def test_the_access_front_end_behind_the_load_balancer_is_refused_before_anything_changes(ha):
    """Mutual TLS or a pull-only user needs the nginx front end, which this version runs on one registry host only."""
    bed = ha.bed
    before = dict((n.name, ha.container(n)) for n in bed.registries)
    cases = ({'registry_client_certificates': True},
             {'registry_users': [{'name': 'ci', 'password': 'Mk-5d0c2e-PULL-PASSWORD-1a7f', 'access': 'pull'}]})
    for overrides in cases:
        result = ha.run(SITE, **overrides)
        assert result.rc != 0, result
        assert 'nginx front end' in result.stdout and 'Nothing was changed' in result.stdout, result
        assert 'Mk-5d0c2e-PULL-PASSWORD-1a7f' not in result.stdout + result.stderr
        assert result.changed() == 0, result
    assert dict((n.name, ha.container(n)) for n in bed.registries) == before
