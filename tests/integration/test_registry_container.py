"""berth.registry.registry_container on the host engine: real containers, real HTTP, real pushes.

Every container is published on 127.0.0.1 on a free high port, named with a random prefix and
removed in a finally block. Set BERTH_DOCKER503_PYTHON to a python with docker==5.0.3 (and
ansible-core) to run the four steps once more with Debian bookworm's Docker SDK version, or
BERTH_MODULE_PYTHON to run every test's module with another python.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid

import pytest

from bed.engine import docker, require_engine
from bed.images import ensure_registry_image, save_registry_image
from bed.playbook import ROOT, run_playbook

PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'registry_container', 'run.yml')
HTTP_CONFIG = """\
version: 0.1
log:
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
"""


@pytest.fixture(scope='module', autouse=True)
def registry_image():
    require_engine()
    return ensure_registry_image('registry:2')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Site(object):
    """A registry under test: its name, port, config and data directories, and the playbook runs."""

    def __init__(self, base, python=None):
        self.name = 'berth-h3-%s' % uuid.uuid4().hex[:8]
        self.port = free_port()
        self.config_dir = os.path.join(base, 'conf')
        self.data_dir = os.path.join(base, 'data')
        self.result_file = os.path.join(base, 'result.json')
        self.python = python or os.environ.get('BERTH_MODULE_PYTHON')
        os.makedirs(self.config_dir)
        self.write('config.yml', HTTP_CONFIG)

    def write(self, name, text):
        with open(os.path.join(self.config_dir, name), 'w') as f:
            f.write(text)

    def path(self, name):
        return os.path.join(self.config_dir, name)

    def options(self, scheme='http', **overrides):
        options = {
            'rc_name': self.name,
            'rc_ports': [{'host_port': self.port, 'bind_address': '127.0.0.1'}],
            'rc_data_dir': self.data_dir,
            'rc_config_dir': self.config_dir,
            'rc_restart_files': [self.path('config.yml')],
            'rc_probe': {'scheme': scheme, 'timeout': 30},
        }
        options.update({'rc_' + k: v for k, v in overrides.items()})
        return {k: v for k, v in options.items() if v is not None}  # None: leave the option out

    def run(self, check=False, diff=False, expect_changed=None, expect_recreated=None, **options):
        extra = self.options(**options)
        extra['rc_result_file'] = self.result_file
        if expect_changed is not None:
            extra['rc_expect_changed'] = expect_changed
        if expect_recreated is not None:
            extra['rc_expect_recreated'] = expect_recreated
        if self.python:
            extra['ansible_python_interpreter'] = self.python
        if os.path.exists(self.result_file):
            os.unlink(self.result_file)
        result = run_playbook(PLAYBOOK, extra_vars=extra, check=check, diff=diff)
        result.module = None
        if os.path.exists(self.result_file):
            with open(self.result_file) as f:
                result.module = json.load(f)
        return result

    def ok(self, expect_changed, **kwargs):
        result = self.run(expect_changed=expect_changed, **kwargs)
        assert result.rc == 0, result
        assert result.changed('localhost') == int(expect_changed), result
        return result

    def inspect(self):
        proc = docker('inspect', self.name, check=False)
        return json.loads(proc.stdout)[0] if proc.returncode == 0 else None

    def identity(self):
        data = self.inspect()
        return data['Id'], data['State']['StartedAt']

    def http_code(self, path='/v2/', scheme='http', curl_args=()):
        proc = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--noproxy', '*', '-m', '10',
                               *curl_args, '%s://127.0.0.1:%d%s' % (scheme, self.port, path)],
                              capture_output=True, text=True, check=False)
        return proc.stdout

    def catalog(self):
        proc = subprocess.run(['curl', '-s', '--noproxy', '*', '-m', '10', 'http://127.0.0.1:%d/v2/_catalog' % self.port],
                              capture_output=True, text=True, check=False)
        return json.loads(proc.stdout)['repositories']

    def cleanup(self):
        for name in (self.name, self.name + '-berth-new'):
            docker('rm', '-f', name, check=False)


@pytest.fixture
def site(tmp_path):
    site = Site(str(tmp_path))
    try:
        yield site
    finally:
        site.cleanup()


def self_signed_cert(directory, name='tls'):
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                    '-keyout', os.path.join(directory, name + '.key'), '-out', os.path.join(directory, name + '.crt')],
                   check=True, capture_output=True)


def push_tiny_image(port, repository):
    tiny = 'berth-test-tiny:1'
    if docker('image', 'inspect', tiny, check=False).returncode != 0:
        docker('import', '-', tiny, input=b'\0' * 10240, text=False)  # an empty tar: smallest pushable image
    target = '127.0.0.1:%d/%s:1' % (port, repository)
    docker('tag', tiny, target)
    try:
        docker('push', target)
    finally:
        docker('rmi', target, check=False)


def four_steps(site):
    check = site.run(check=True, expect_changed=True)
    assert check.rc == 0 and check.changed('localhost') == 1, check
    assert site.inspect() is None, 'check mode created the container'
    assert not os.path.exists(site.data_dir), 'check mode created the data directory'

    site.ok(True)
    assert site.http_code('/v2/') == '200'
    assert oct(os.stat(site.data_dir).st_mode & 0o777) == '0o755'
    first = site.identity()

    site.run(check=True, expect_changed=False)
    assert site.ok(False).module['container']['id'] == first[0]
    assert site.identity() == first


def test_four_steps_then_config_change_recreates_once_and_keeps_data(site):
    four_steps(site)
    before = site.identity()
    push_tiny_image(site.port, site.name + '/tiny')
    assert site.catalog() == [site.name + '/tiny']

    site.write('config.yml', HTTP_CONFIG.replace('service: registry', 'service: registry-changed'))
    check = site.run(check=True, diff=True, expect_changed=True)
    assert check.rc == 0 and 'restart_files' in check.stdout, check
    assert site.identity() == before
    result = site.ok(True, expect_recreated=True)
    assert [d['field'] for d in result.module['differences']] == ['restart_files']
    after = site.identity()
    assert after[0] != before[0]
    assert site.catalog() == [site.name + '/tiny'], 'the pushed repository did not survive the recreate'
    site.ok(False)
    assert site.identity() == after


@pytest.mark.skipif(not os.environ.get('BERTH_DOCKER503_PYTHON'), reason='BERTH_DOCKER503_PYTHON not set')
def test_four_steps_with_docker_sdk_5_0_3(tmp_path):
    site = Site(str(tmp_path), python=os.environ['BERTH_DOCKER503_PYTHON'])
    try:
        four_steps(site)
        site.write('config.yml', HTTP_CONFIG + '# changed\n')
        site.ok(True, expect_recreated=True)
        assert site.http_code('/v2/') == '200'
    finally:
        site.cleanup()


TLS_CONFIG = HTTP_CONFIG + """\
  tls:
    certificate: /etc/docker/registry/tls.crt
    key: /etc/docker/registry/tls.key
"""


def test_tls_answers_and_a_new_cert_recreates_once(site):
    self_signed_cert(site.config_dir)
    site.write('config.yml', TLS_CONFIG)
    files = [site.path('config.yml'), site.path('tls.crt'), site.path('tls.key')]
    site.ok(True, scheme='https', restart_files=files)
    cacert = ('--cacert', site.path('tls.crt'))
    assert site.http_code('/v2/', 'https', cacert) == '200'
    site.ok(False, scheme='https', restart_files=files)
    before = site.identity()

    old_cert = open(site.path('tls.crt')).read()
    self_signed_cert(site.config_dir)
    assert open(site.path('tls.crt')).read() != old_cert
    result = site.run(diff=True, expect_changed=True, expect_recreated=True, scheme='https', restart_files=files)
    assert result.rc == 0, result
    assert 'sha256:' not in result.stdout.split('TASK [Keep the result')[0], 'the diff shows a hash'
    assert site.identity()[0] != before[0]
    assert site.http_code('/v2/', 'https', ('--cacert', site.path('tls.crt'))) == '200'
    site.ok(False, scheme='https', restart_files=files)


def test_htpasswd_change_needs_no_restart(site):
    def htpasswd(user, password):
        out = subprocess.run(['htpasswd', '-Bbn', user, password], capture_output=True, text=True, check=True).stdout
        site.write('htpasswd', out)

    htpasswd('alice', 'Wonderland-42')
    site.write('config.yml', HTTP_CONFIG + """\
auth:
  htpasswd:
    realm: berth
    path: /etc/docker/registry/htpasswd
""")
    site.ok(True)
    assert site.http_code('/v2/') == '401'
    assert site.http_code('/v2/', curl_args=('-u', 'alice:Wonderland-42')) == '200'
    before = site.identity()

    htpasswd('bob', 'Builder-Can-We-Fix-It')
    site.ok(False)
    assert site.identity() == before, 'the registry was restarted for an htpasswd change'
    assert site.http_code('/v2/', curl_args=('-u', 'bob:Builder-Can-We-Fix-It')) == '200'
    assert site.http_code('/v2/', curl_args=('-u', 'alice:Wonderland-42')) == '401'


def test_stopped_absent_and_remove_data(site):
    site.ok(True)
    marker = os.path.join(site.data_dir, 'marker')
    with open(marker, 'w') as f:
        f.write('kept\n')

    before = site.identity()
    site.ok(True, state='stopped')
    assert site.inspect()['State']['Running'] is False
    site.ok(False, state='stopped')

    # A matching but stopped container is started again, not recreated.
    result = site.ok(True, expect_recreated=False)
    assert [d['field'] for d in result.module['differences']] == ['status']
    assert site.identity()[0] == before[0] and site.inspect()['State']['Running'] is True
    assert site.http_code('/v2/') == '200'

    check = site.run(check=True, expect_changed=True, state='absent')
    assert check.rc == 0 and site.inspect() is not None, check
    site.ok(True, state='absent')
    assert site.inspect() is None
    assert os.path.exists(marker), 'state=absent without remove_data removed data'
    site.ok(False, state='absent')

    site.ok(True, state='absent', remove_data=True)
    assert os.path.isdir(site.data_dir) and os.listdir(site.data_dir) == []
    site.ok(False, state='absent', remove_data=True)


BAD_INPUTS = [
    ({'ports': [{'host_port': 0}]}, 'ports[0].host_port: 0 is not a valid port number (allowed: 1..65535)'),
    ({'ports': [{'host_port': 70000}]}, 'ports[0].host_port: 70000 is not a valid port number (allowed: 1..65535)'),
    ({'restart_files': ['/nonexistent/berth/config.yml']},
     'restart_files: /nonexistent/berth/config.yml does not exist'),
    ({'image': 'berth-absent/registry:never', 'pull': 'never'},
     'image berth-absent/registry:never is not on this host and pull=never'),
]


def test_bad_input_leaves_the_running_registry_alone(site):
    site.ok(True)
    before = site.identity()
    # A change that would recreate the container, together with each bad input.
    site.write('config.yml', HTTP_CONFIG + '# changed\n')
    for options, message in BAD_INPUTS:
        result = site.run(**options)
        assert result.rc != 0 and result.recap['localhost']['failed'] == 1, result
        assert message in result.stdout, result
        assert site.identity() == before, options
        assert site.inspect()['State']['Running'] is True
        assert site.http_code('/v2/') == '200'


def test_a_registry_that_exits_fails_with_its_logs(site):
    site.write('config.yml', HTTP_CONFIG.replace('filesystem:', 'berthnosuchdriver:'))
    result = site.run(probe={'scheme': 'http', 'timeout': 20})
    assert result.rc != 0, result
    assert 'does not answer' in result.stdout and 'log lines' in result.stdout, result
    assert 'berthnosuchdriver' in result.stdout, 'the log lines are missing from the failure'


def test_image_archive_is_loaded_only_when_missing(site, tmp_path):
    tag = '%s/registry:2' % site.name
    docker('tag', 'registry:2', tag)
    archive = save_registry_image(str(tmp_path / 'registry.tar'), tag)
    docker('rmi', tag)
    try:
        check = site.run(check=True, expect_changed=True, image=tag, pull='never', image_archive=archive)
        assert check.rc == 0 and check.module['image_loaded'] is False, check
        assert docker('image', 'inspect', tag, check=False).returncode != 0, 'check mode loaded the image'

        result = site.ok(True, image=tag, pull='never', image_archive=archive)
        assert result.module['image_loaded'] is True
        assert site.http_code('/v2/') == '200'
        rerun = site.ok(False, image=tag, pull='never', image_archive=archive)
        assert rerun.module['image_loaded'] is False
        rerun = site.ok(False, image=tag, pull='always', image_archive=archive)
        assert rerun.module['image_loaded'] is False, 'an archive holding the same image ID was loaded again'

        wrong = site.run(image='%s/other:1' % site.name, image_archive=archive)
        assert wrong.rc != 0 and 'does not hold %s/other:1' % site.name in wrong.stdout, wrong
    finally:
        site.cleanup()
        docker('rmi', tag, check=False)


def test_named_data_volume_is_kept_until_remove_data(site):
    volume = site.name + '-data'
    try:
        site.ok(True, data_dir=None, data_volume=volume)
        binds = site.inspect()['HostConfig']['Binds']
        assert '%s:/var/lib/registry:rw' % volume in binds
        push_tiny_image(site.port, site.name + '/tiny')
        site.ok(False, data_dir=None, data_volume=volume)

        site.ok(True, data_dir=None, data_volume=volume, state='absent')
        assert docker('volume', 'inspect', volume, check=False).returncode == 0, 'absent removed the volume'
        site.ok(True, data_dir=None, data_volume=volume)
        assert site.catalog() == [site.name + '/tiny']

        site.ok(True, data_dir=None, data_volume=volume, state='absent', remove_data=True)
        assert docker('volume', 'inspect', volume, check=False).returncode != 0
        site.ok(False, data_dir=None, data_volume=volume, state='absent', remove_data=True)
    finally:
        site.cleanup()
        docker('volume', 'rm', volume, check=False)
