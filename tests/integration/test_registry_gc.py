"""berth.registry.registry_gc on the host engine: a real registry container, real pushes, deletes and pulls.

The registry is started with the docker CLI (not by berth), published on 127.0.0.1 on a free port, named with a
random prefix and removed in a finally block: the read-only twin must clone any registry container faithfully.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from _bad_input_table import Case, check_table, run_table
from _secrets import assert_no_leaks
from bed.engine import docker, require_engine
from bed.images import ensure_registry_image
from bed.playbook import ROOT, run_module_playbook
from fakeregistry import free_port

PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'registry_gc', 'run.yml')
BAD = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'registry_gc', 'bad_inputs.yml')
HTTP_SECRET = 'Mk-77aa01-HTTPSECRET-5c3d'
MANIFEST_TYPES = ('application/vnd.docker.distribution.manifest.v2+json,'
                  'application/vnd.docker.distribution.manifest.list.v2+json,'
                  'application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json')


@pytest.fixture(scope='module', autouse=True)
def registry_image():
    require_engine()
    return ensure_registry_image('registry:2')


def du(path):
    return int(subprocess.run(['du', '-s', '--block-size=1', path], capture_output=True, text=True,
                              check=True).stdout.split()[0])


class Registry:
    def __init__(self, base):
        self.name = 'berth-gc-%s' % uuid.uuid4().hex[:8]
        self.port = free_port()
        self.data_dir = os.path.join(base, 'data')
        self.result_file = os.path.join(base, 'result.json')
        self.url = 'http://127.0.0.1:%d' % self.port
        self.pushed = []
        os.makedirs(self.data_dir)

    def start(self):
        docker('run', '-d', '--name', self.name, '--restart', 'always', '-p', '127.0.0.1:%d:5000' % self.port,
               '-v', '%s:/var/lib/registry' % self.data_dir, '-e', 'REGISTRY_STORAGE_DELETE_ENABLED=true',
               '-e', 'REGISTRY_HTTP_SECRET=' + HTTP_SECRET, '--label', 'berth.test=gc',
               'registry:2', 'serve', '/etc/docker/registry/config.yml')
        self.wait()

    def wait(self, timeout=30):
        deadline = time.monotonic() + timeout
        while self.status('/v2/') != 200:
            assert time.monotonic() < deadline, 'registry %s does not answer' % self.name
            time.sleep(0.2)

    def status(self, path, method='GET', headers=None):
        request = urllib.request.Request(self.url + path, method=method, headers=headers or {})
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def digest(self, repository, tag):
        request = urllib.request.Request('%s/v2/%s/manifests/%s' % (self.url, repository, tag), method='HEAD',
                                         headers={'Accept': MANIFEST_TYPES})
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5) as response:
            return response.headers['Docker-Content-Digest']

    def push(self, repository, tag, size):
        """A one-layer image of `size` random bytes, pushed from the host engine."""
        image = '127.0.0.1:%d/%s:%s' % (self.port, repository, tag)
        blob = os.path.join(os.path.dirname(self.data_dir), 'blob-%s' % tag)
        with open(blob, 'wb') as f:
            f.write(os.urandom(size))
        tar = subprocess.run(['tar', 'cf', '-', '-C', os.path.dirname(blob), os.path.basename(blob)],
                             capture_output=True, check=True).stdout
        docker('import', '-', image, input=tar, text=False)
        self.pushed.append(image)
        return docker('push', image, check=False)

    def pull(self, repository, tag):
        image = '127.0.0.1:%d/%s:%s' % (self.port, repository, tag)
        docker('image', 'rm', '-f', image, check=False)
        return docker('pull', image, check=False)

    def ids(self):
        """(registry container Id, names of every container of this test)."""
        inspect = json.loads(docker('inspect', self.name).stdout)[0]
        names = docker('ps', '-a', '--filter', 'name=%s' % self.name, '--format', '{{.Names}}').stdout.split()
        return inspect['Id'], sorted(names)

    def gc(self, check=False, diff=False, args=(), **options):
        extra = {'gc_name': self.name, 'gc_result_file': self.result_file, 'gc_timeout': 30}
        extra.update(('gc_' + k, v) for k, v in options.items())
        return run_module_playbook(PLAYBOOK, self.result_file, extra_vars=extra, check=check, diff=diff, args=args)

    def cleanup(self):
        for name in (self.name, self.name + '-berth-readonly'):
            docker('rm', '-f', name, check=False)
        for image in self.pushed:
            docker('image', 'rm', '-f', image, check=False)


@pytest.fixture(scope='module')
def registry(tmp_path_factory):
    """One registry for the module's stories (each pushes its own repository)."""
    registry = Registry(str(tmp_path_factory.mktemp('gc')))
    try:
        registry.start()
        yield registry
    finally:
        registry.cleanup()


class Poller(threading.Thread):
    """GET a manifest and its blob over and over (what a pull does), counting answers, until stopped."""

    def __init__(self, registry, repository, tag):
        super().__init__(daemon=True)
        self.registry, self.path = registry, '/v2/%s/manifests/%s' % (repository, tag)
        self.stop, self.ok, self.failed = threading.Event(), 0, []

    def run(self):
        while not self.stop.is_set():
            status = self.registry.status(self.path, headers={'Accept': MANIFEST_TYPES})
            if status == 200:
                self.ok += 1
            else:
                self.failed.append(status)
            time.sleep(0.01)


def test_four_steps_free_the_deleted_image_and_keep_the_tagged_one(registry):
    assert registry.push('gc/app', 'keep', 200000).returncode == 0
    assert registry.push('gc/app', 'gone', 3000000).returncode == 0
    digest = registry.digest('gc/app', 'gone')
    assert registry.status('/v2/gc/app/manifests/%s' % digest, method='DELETE') == 202
    before, container = du(registry.data_dir), registry.ids()

    check = registry.gc(check=True, diff=True)
    assert check.rc == 0 and check.changed('localhost') == 1, check
    assert check.module['eligible']['blobs_eligible'] >= 1 and check.module['eligible']['bytes'] >= 3000000
    assert registry.ids() == container and du(registry.data_dir) == before, 'check mode changed something'

    poller = Poller(registry, 'gc/app', 'keep')
    poller.start()
    try:
        run = registry.gc(diff=True, args=('-vvv',))
    finally:
        poller.stop.set()
        poller.join()
    assert run.rc == 0 and run.changed('localhost') == 1, run
    assert_no_leaks([check, run], [HTTP_SECRET], 'registry_gc (the twin carries the container environment)')
    result = run.module
    assert result['window'] and not result['readonly'] and result['blobs_deleted'] >= 1
    assert result['bytes_before'] - result['bytes_after'] >= 3000000, result
    assert du(registry.data_dir) < before - 3000000
    assert registry.ids() == container, 'the registry container was replaced, or the twin stayed'
    print('gc: %d -> %d bytes, read-only %.1f s; manifest GETs during the run: %d ok, %d failed %s'
          % (result['bytes_before'], result['bytes_after'], result['readonly_seconds'], poller.ok,
             len(poller.failed), sorted(set(map(str, poller.failed)))))
    # a failed GET during the run is a refused connection of a swap (status None), never an HTTP error
    assert all(status is None for status in poller.failed), poller.failed

    assert registry.pull('gc/app', 'keep').returncode == 0
    assert registry.pull('gc/app', 'gone').returncode != 0

    again = registry.gc(check=True)
    assert again.rc == 0 and again.changed('localhost') == 0, again
    # nothing to collect (also with delete_untagged): no window, the registry is not even restarted
    started = json.loads(docker('inspect', registry.name).stdout)[0]['State']['StartedAt']
    rerun = registry.gc(delete_untagged=True)
    assert rerun.rc == 0 and rerun.changed('localhost') == 0 and not rerun.module['window'], rerun
    assert registry.ids() == container
    assert json.loads(docker('inspect', registry.name).stdout)[0]['State']['StartedAt'] == started


def test_read_only_mode_serves_pulls_and_refuses_pushes(registry):
    assert registry.push('ro/app', '1', 1000).returncode == 0
    container = registry.ids()[0]

    result = registry.gc(state='readonly')

    assert result.rc == 0 and result.changed('localhost') == 1 and result.module['readonly'], result
    assert registry.pull('ro/app', '1').returncode == 0
    refused = registry.push('ro/app', '2', 1000)
    assert refused.returncode != 0, refused
    print('push in read-only mode: %s' % refused.stderr.strip().splitlines()[-1])
    assert registry.gc(state='readonly').changed('localhost') == 0

    back = registry.gc(state='readwrite')

    assert back.rc == 0 and back.changed('localhost') == 1 and not back.module['readonly'], back
    assert registry.ids() == (container, [registry.name])
    assert registry.push('ro/app', '2', 1000).returncode == 0
    assert registry.gc(state='readwrite').changed('localhost') == 0


CASES = [
    Case('name-space', {'name': 'a b'}, ["name: 'a b' is not a container name"]),
    Case('name-newline', {'name': 'reg\nistry'}, ['is not a container name']),
    Case('name-missing', {'name': 'berth-gc-absent-0f9e'}, ['registry container berth-gc-absent-0f9e does not exist']),
    Case('state', {'name': 'berth-gc-absent-0f9e', 'state': 'cleaned'}, ['state', 'cleaned', 'collected']),
    Case('timeout', {'name': 'berth-gc-absent-0f9e', 'timeout': 0}, ['timeout: 0 must be a whole number of at least 1']),
    Case('stop-timeout', {'name': 'berth-gc-absent-0f9e', 'stop_timeout': -5}, ['stop_timeout: -5 must be a whole number']),
    Case('config-relative', {'name': 'berth-gc-absent-0f9e', 'config_path': 'config.yml'},
         ["config_path: 'config.yml' must be an absolute path"]),
    Case('config-nul', {'name': 'berth-gc-absent-0f9e', 'config_path': '/etc/x\x00.yml'}, ['config_path', 'absolute path']),
    Case('binary-relative', {'name': 'berth-gc-absent-0f9e', 'binary': 'registry'}, ["binary: 'registry' must be an absolute path"]),
    Case('rootdirectory-dotdot', {'name': 'berth-gc-absent-0f9e', 'rootdirectory': '../lib'}, ['rootdirectory', 'absolute path']),
    Case('max-files', {'name': 'berth-gc-absent-0f9e', 'max_files': 0}, ['max_files: 0 must be a whole number']),
    Case('api-timeout', {'name': 'berth-gc-absent-0f9e', 'api_timeout': 0}, ['api_timeout: 0 must be at least 1 second']),
    Case('docker-host', {'name': 'berth-gc-absent-0f9e', 'docker_host': 'unix:///nonexistent/docker.sock'},
         ['cannot talk to the Docker engine at unix:///nonexistent/docker.sock']),
]


def test_bad_inputs_fail_clearly_and_touch_nothing(tmp_path):
    before = docker('ps', '-a', '--format', '{{.Names}}').stdout.split()
    check_table(CASES, run_table(BAD, tmp_path, CASES))
    assert not [n for n in docker('ps', '-a', '--format', '{{.Names}}').stdout.split()
                if n not in before and n.endswith('-berth-readonly')]
