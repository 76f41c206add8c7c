"""Day two on the bed: garbage collection (now and scheduled), users over time, an image upgrade.

One story on one bed (file order), from a converged fleet. What is asserted is what an operator checks by hand:
du on the registry host, `docker pull` from every client, `docker login`, the registry container's Id and start.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile

import pytest

import _fleet
from bed.engine import docker

SITE = 'playbooks/site.yml'
GC = 'playbooks/gc.yml'
HOSTNAME = 'registry.berth.test'
CI_PASSWORD = 'Mk-41c7e2-CIBOTPASSWORD-8b0f'
ADMIN_ROTATED = 'Mk-9d3a55-ADMINROTATED-2e61'
NEXT_IMAGE = 'registry:2-berth-next'
MANIFEST_TYPES = 'application/vnd.docker.distribution.manifest.v2+json'


class Fleet(_fleet.Fleet):
    def __init__(self, bed, pki_dir):
        super().__init__(bed, pki_dir, registry_hostname=HOSTNAME, registry_client_login_user='admin',
                         registry_storage_delete_enabled=True)

    @property
    def admin_password(self):
        users = self.vars.get('registry_users')
        if users:
            return next(u['password'] for u in users if u['name'] == 'admin')
        return self.password

    def container(self):
        rc, out = self.bed.registry.docker('inspect', '-f', '{{.Id}} {{.State.StartedAt}} {{.Image}}', 'registry')
        assert rc == 0, out
        return tuple(out.split())

    def du(self):
        rc, out = self.bed.registry.exec('du -s --block-size=1 /var/lib/registry')
        assert rc == 0, out
        return int(out.split()[0])

    def api(self, node, method, path, user='admin', password=None, headers=()):
        """curl from a client node to the registry; returns (http code, headers+body)."""
        password = password or self.admin_password
        extra = ' '.join('-H %s' % json.dumps(h) for h in headers)
        how = '-I' if method == 'HEAD' else '-i -X %s' % method
        rc, out = node.exec("curl -sS %s -u 'admin:%s' %s --cacert /etc/docker/certs.d/%s/ca.crt "
                            "https://%s%s" % (how, password, extra, HOSTNAME, HOSTNAME, path))
        assert rc == 0, out
        return int(out.split()[1]), out


def push(node, image, size):
    rc, out = node.exec('head -c %d /dev/urandom > /tmp/blob && tar cf - /tmp/blob | docker import - %s >/dev/null '
                        '&& docker push %s && docker image rm %s' % (size, image, image, image))
    assert rc == 0, out


def pulls(node, image):
    node.docker('image', 'rm', '-f', image)
    rc, out = node.docker('pull', image)
    return rc == 0, out


def assert_converged(result, fleet):
    assert result.rc == 0, result
    assert result.recap, result
    for host in result.recap:
        assert result.changed(host) == 0, '%s changed on a rerun:\n%s' % (host, result)


@pytest.fixture(scope='module')
def fleet(bed):
    pki = tempfile.mkdtemp(prefix='berth-daytwo-pki-')
    state = Fleet(bed, pki)
    result = state.site()
    assert result.rc == 0, result
    try:
        yield state
    finally:
        shutil.rmtree(pki, ignore_errors=True)


# --- garbage collection --------------------------------------------------------------------------

def test_gc_frees_the_deleted_tag_and_keeps_the_other(fleet):
    bed = fleet.bed
    keep, gone = '%s/gc/app:keep' % HOSTNAME, '%s/gc/app:gone' % HOSTNAME
    push(bed.clients[0], keep, 100000)
    push(bed.clients[0], gone, 4000000)
    code, out = fleet.api(bed.clients[0], 'HEAD', '/v2/gc/app/manifests/gone', headers=['Accept: ' + MANIFEST_TYPES])
    digest = next(line.split(':', 1)[1].strip() for line in out.splitlines()
                  if line.lower().startswith('docker-content-digest'))
    code, out = fleet.api(bed.clients[0], 'DELETE', '/v2/gc/app/manifests/%s' % digest)
    assert code == 202, out
    before, container = fleet.du(), fleet.container()

    # the collection now, and the scheduled job installed in the same run
    result = fleet.run(GC, registry_gc_schedule=True)

    assert result.rc == 0, result
    assert result.changed(bed.registry.name) >= 1, result
    after = fleet.du()
    print('gc on the bed: %d -> %d bytes (du of /var/lib/registry)' % (before, after))
    assert after < before - 4000000
    # stopped and started again for the window, never replaced: same container, same image
    after_gc = fleet.container()
    assert after_gc[::2] == container[::2], 'the registry container was replaced'
    for node in bed.clients:
        ok, out = pulls(node, keep)
        assert ok, '%s: %s' % (node.name, out)
        ok, out = pulls(node, gone)
        assert not ok and 'not found' in out, '%s: %s' % (node.name, out)
    # nothing left to collect (no window) and the job installed: a rerun changes nothing
    assert_converged(fleet.run(GC, registry_gc_schedule=True), fleet)
    assert fleet.container() == after_gc


def test_scheduled_gc_job_runs_on_the_host_without_ansible(fleet):
    bed = fleet.bed
    registry = bed.registry
    cron = registry.read_file('/etc/cron.d/berth-registry-gc')
    assert '30 3 * * sun root /usr/local/sbin/berth-registry-gc' in cron, cron
    assert registry.exec('pgrep -x cron')[0] == 0, 'cron does not run'

    image = '%s/gc/job:1' % HOSTNAME
    push(bed.clients[1], image, 2000000)
    code, out = fleet.api(bed.clients[1], 'HEAD', '/v2/gc/job/manifests/1', headers=['Accept: ' + MANIFEST_TYPES])
    digest = next(line.split(':', 1)[1].strip() for line in out.splitlines()
                  if line.lower().startswith('docker-content-digest'))
    assert fleet.api(bed.clients[1], 'DELETE', '/v2/gc/job/manifests/%s' % digest)[0] == 202
    container = fleet.container()[0]

    rc, out = bed.ssh(registry, '/usr/local/sbin/berth-registry-gc')

    assert rc == 0, out
    printed = json.loads(out.strip().splitlines()[-1])
    assert printed['blobs_deleted'] >= 1 and printed['bytes_freed'] >= 2000000 and not printed['readonly'], printed
    assert fleet.container()[0] == container
    assert registry.exec('docker ps -a --format "{{.Names}}"')[1].split() == ['registry']
    # the collections (playbook and job) left the container as registry_host made it: site.yml changes nothing
    assert_converged(fleet.site(), fleet)

    removed = fleet.run(GC, registry_gc_schedule=False, registry_gc_run=False)
    assert removed.rc == 0, removed
    assert not registry.exists('/etc/cron.d/berth-registry-gc')
    assert not registry.exists('/usr/local/lib/berth-registry')


# --- users over time ---------------------------------------------------------------------------

def test_a_removed_user_is_refused_without_a_restart(fleet):
    node = fleet.bed.clients[1]
    users = [{'name': 'admin', 'password': fleet.admin_password}, {'name': 'ci-bot', 'password': CI_PASSWORD}]
    assert fleet.run(registry_users=users).rc == 0
    login = "echo '%s' | DOCKER_CONFIG=/tmp/ci-bot docker login -u ci-bot --password-stdin %s" % (CI_PASSWORD, HOSTNAME)
    rc, out = node.exec(login)
    assert rc == 0 and 'Login Succeeded' in out, out
    container = fleet.container()

    result = fleet.run(registry_users=users[:1])

    assert result.rc == 0, result
    assert fleet.container() == container, 'removing a user restarted the registry'
    rc, out = node.exec(login)
    assert rc != 0 and 'unauthorized' in out.lower(), out
    assert 'Users:        admin' in result.stdout and CI_PASSWORD not in result.stdout
    fleet.vars['registry_users'] = users[:1]


def test_a_rotated_password_logs_the_clients_in_again(fleet):
    bed = fleet.bed
    old = fleet.admin_password
    container = fleet.container()
    users = [{'name': 'admin', 'password': ADMIN_ROTATED}]

    result = fleet.run(registry_users=users)

    assert result.rc == 0, result
    assert fleet.container() == container
    for node in bed.clients:
        assert result.changed(node.name) == 1, result
        config = json.loads(node.read_file('/root/.docker/config.json'))
        assert base64.b64decode(config['auths'][HOSTNAME]['auth']).decode() == 'admin:' + ADMIN_ROTATED
        push(node, '%s/%s/rotated:1' % (HOSTNAME, node.name), 1000)
    rc, out = bed.clients[0].exec("echo '%s' | DOCKER_CONFIG=/tmp/old docker login -u admin --password-stdin %s"
                                  % (old, HOSTNAME))
    assert rc != 0, out
    assert ADMIN_ROTATED not in result.stdout and old not in result.stdout
    fleet.vars['registry_users'] = users
    assert_converged(fleet.run(), fleet)


# --- upgrades ----------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def next_image(fleet):
    """A second tag of the bed's registry image (another label: another image ID), loaded on the registry node."""
    dockerfile = 'FROM registry:2\nLABEL berth.test.registry-upgrade=next\n'
    docker('build', '-q', '-t', NEXT_IMAGE, '-', input=dockerfile)
    try:
        archive = subprocess.run(['/usr/bin/docker', 'save', NEXT_IMAGE], capture_output=True, check=True).stdout
        proc = subprocess.run(['/usr/bin/docker', 'exec', '-i', fleet.bed.registry.container, 'docker', 'load'],
                              input=archive, capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr
        yield NEXT_IMAGE
    finally:
        docker('image', 'rm', NEXT_IMAGE, check=False)


def test_a_new_registry_image_recreates_once_and_every_image_still_pulls(fleet, next_image):
    bed = fleet.bed
    before = fleet.container()

    result = fleet.run(registry_image=next_image, registry_image_pull='never')

    assert result.rc == 0, result
    after = fleet.container()
    assert after[0] != before[0] and after[2] != before[2], 'the registry was not recreated on the new image'
    for node in bed.clients:
        for image in ('%s/gc/app:keep' % HOSTNAME, '%s/%s/rotated:1' % (HOSTNAME, node.name)):
            ok, out = pulls(node, image)
            assert ok, '%s: %s: %s' % (node.name, image, out)
    again = fleet.run(registry_image=next_image, registry_image_pull='never')
    assert_converged(again, fleet)
    assert fleet.container() == after
