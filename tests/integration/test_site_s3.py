"""site.yml with registry_storage on S3: a real store (single-node Ceph RGW, the bed's objectstore flavour).

Issue 12 item 1: users write Distribution's own storage section; secrets never in any output; redirects off
by default (clients never reach the store); a missing bucket or wrong keys fail the run with the store's error
while the registry keeps serving as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
import yaml

from bed.nodes import Bed

from _secrets import assert_no_leaks, marker

SITE = 'playbooks/site.yml'
HOSTNAME = 's3.berth.test'


@pytest.fixture(scope='module')
def s3_bed(engine_version, registry_image):
    """registry1 (bare) + client1 (docker) + store (objectstore: S3 at s3_bed.s3)."""
    Bed.cleanup_stale()
    the_bed = Bed(clients=1, registries=1, extra={'store': 'objectstore'}, registry='bare')
    try:
        the_bed.up()
        yield the_bed
    finally:
        the_bed.down()


class Story(object):
    def __init__(self, bed):
        self.bed = bed
        self.pki = tempfile.mkdtemp(prefix='berth-s3-pki-')
        self.bucket = 'berth-registry-%s' % os.urandom(3).hex()
        assert bed.s3.create_bucket(self.bucket) == 200
        self.password = marker('ADMINPASSWORD')
        self.vars = {'registry_hostname': HOSTNAME, 'registry_pki_dir': self.pki,
                     'registry_users': [{'name': 'admin', 'password': self.password}],
                     'registry_client_login_user': 'admin', 'registry_storage': self.storage()}

    def storage(self, **overrides):
        section = self.bed.s3.registry_storage(self.bucket)['s3']  # Distribution 2.8's s3 keys, as the notes have them
        section.update(overrides)
        return {'s3': section}

    def site(self, check=False, **overrides):
        self.bed.write_inventory(extra_vars=dict(self.vars, **overrides))
        return self.bed.run_playbook(SITE, check=check, diff=True, args=['-vvv'])

    def secrets(self):
        return {'S3 access key': self.bed.s3.access_key, 'S3 secret key': self.bed.s3.secret_key,
                'admin password': self.password}


@pytest.fixture(scope='module')
def story(s3_bed):
    story = Story(s3_bed)
    yield story
    shutil.rmtree(story.pki, ignore_errors=True)


def pull_push(node, tag):
    image = '%s/s3/tiny:%s' % (HOSTNAME, tag)
    for step in ('tar cf - -C /etc hostname | docker import - berth/tiny:1 >/dev/null', 'docker tag berth/tiny:1 %s' % image,
                 'docker push %s' % image, 'docker image rm %s' % image, 'docker pull %s' % image):
        rc, out = node.exec(step)
        assert rc == 0, '%s: %s' % (step, out)


def test_site_on_s3_pushes_into_the_bucket_and_prints_no_key(story):
    bed = story.bed
    runs = [story.site(check=True), story.site()]
    assert runs[1].rc == 0, runs[1]
    config = yaml.safe_load(bed.registry.read_file('/etc/docker/registry/config.yml'))
    assert config['storage']['s3']['bucket'] == story.bucket and config['storage']['redirect'] == {'disable': True}
    assert 'filesystem' not in config['storage']
    pull_push(bed.clients[0], '1')
    listing = bed.s3.request('GET', story.bucket)[1]
    assert b'registry/docker/registry/v2/repositories/s3/tiny/_manifests' in listing, listing[:2000]
    runs += [story.site(check=True), story.site()]
    for result in runs[2:]:
        assert result.rc == 0 and all(result.changed(n.name) == 0 for n in bed.nodes if n.name != 'store'), result
    assert 'Storage:      s3' in runs[-1].stdout
    assert_no_leaks(runs, story.secrets(), 'site.yml on s3')
    assert 'secretkey: (secret)' in runs[1].stdout and 'accesskey: (secret)' in runs[1].stdout


@pytest.mark.parametrize('overrides, store_says', [
    (lambda story: story.storage(secretkey=marker('WRONGS3SECRET') + 'x' * 17), 'SignatureDoesNotMatch'),
    (lambda story: story.storage(bucket='berth-no-such-bucket'), 'NoSuchBucket'),
])
def test_a_store_that_refuses_fails_the_run_with_its_error(story, overrides, store_says):
    bed = story.bed
    rc, before = bed.registry.docker('inspect', '-f', '{{.Id}}', 'registry')
    config = bed.registry.read_file('/etc/docker/registry/config.yml')
    storage = overrides(story)

    result = story.site(registry_storage=storage)

    assert result.rc != 0, result
    assert store_says in result.stdout and 'its storage does not' in result.stdout, result
    assert_no_leaks(result, dict(story.secrets(), **{'wrong key': storage['s3']['secretkey']}), 'a store that refuses')
    assert bed.registry.read_file('/etc/docker/registry/config.yml') == config
    assert bed.registry.docker('inspect', '-f', '{{.Id}}', 'registry')[1] == before
    node = bed.clients[0]
    node.docker('image', 'rm', '%s/s3/tiny:1' % HOSTNAME)
    rc, out = node.docker('pull', '%s/s3/tiny:1' % HOSTNAME)
    assert rc == 0, 'the registry stopped serving after a refused store: %s' % out
