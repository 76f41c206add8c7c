"""berth.registry.registry_container on the host engine: real containers, real HTTP, real pushes.

Every container is published on 127.0.0.1 on a free high port, named with a random prefix and
removed in a finally block. Set BERTH_DOCKER503_PYTHON to a python with docker==5.0.3 (and
ansible-core) to run the four steps once more with Debian bookworm's Docker SDK version, or
BERTH_MODULE_PYTHON to run every test's module with another python.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import tarfile
import uuid

import pytest

from bed.engine import docker, require_engine
from bed.images import ensure_registry_image, save_registry_image
from bed.playbook import ROOT, run_module_playbook

from _bad_input_table import Case, check_table, run_table
from _secrets import assert_no_leaks, marker

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

    def run(self, check=False, diff=False, expect_changed=None, expect_recreated=None, args=(), **options):
        extra = self.options(**options)
        extra['rc_result_file'] = self.result_file
        if expect_changed is not None:
            extra['rc_expect_changed'] = expect_changed
        if expect_recreated is not None:
            extra['rc_expect_recreated'] = expect_recreated
        if self.python:
            extra['ansible_python_interpreter'] = self.python
        return run_module_playbook(PLAYBOOK, self.result_file, extra_vars=extra, check=check, diff=diff, args=args)

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
    assert oct(os.stat(site.data_dir).st_mode & 0o777) == '0o700'
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
        secret_env = {'REGISTRY_HTTP_SECRET': marker('HTTPSECRET')}
        site.ok(True, expect_recreated=True, secret_env=secret_env)
        site.ok(False, secret_env=secret_env)
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


# ------------------------------------------------------------------ bad-input table
# Every case: failed, a message naming the option, the value (unless secret) and what is allowed,
# nothing written in the case's directory, no container, never a traceback. One playbook run loops
# over all cases (bad_inputs.yml next to run.yml); _bad_input_table checks each case.

BAD_INPUTS_PLAYBOOK = os.path.join(os.path.dirname(PLAYBOOK), 'bad_inputs.yml')


def _base(d):
    """What every case directory holds: a configuration directory with config.yml, a data directory."""
    os.makedirs(os.path.join(d, 'conf'))
    os.makedirs(os.path.join(d, 'data'))
    with open(os.path.join(d, 'conf', 'config.yml'), 'w') as f:
        f.write(HTTP_CONFIG)


def _manifest(content):
    def plant(d):
        with tarfile.open(os.path.join(d, 'image.tar'), 'w') as tar:
            info = tarfile.TarInfo('manifest.json')
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return plant


def _a_file(d):
    with open(os.path.join(d, 'afile'), 'w') as f:
        f.write('x\n')


def _dangling(d):
    os.symlink(os.path.join(d, 'nowhere'), os.path.join(d, 'dangling'))


def bad(name, args, expect, plant=None):
    """A case whose directory holds the base files (and what ``plant`` adds)."""
    def setup(d):
        _base(d)
        if plant:
            plant(d)
    return Case(name, args, expect, setup=setup)


BAD_CASES = [
    bad('port-0', {'ports': [{'host_port': 0}]}, ['ports[0].host_port', '0', '1..65535']),
    bad('port-70000', {'ports': [{'host_port': 70000}]}, ['ports[0].host_port', '70000', '1..65535']),
    bad('port-string', {'ports': [{'host_port': 'fivethousand'}]}, ['host_port', 'fivethousand', 'int']),
    bad('container-port-negative', {'ports': [{'host_port': 5000, 'container_port': -1}]},
        ['ports[0].container_port', '-1', '1..65535']),
    bad('bind-zone', {'ports': [{'host_port': 5000, 'bind_address': 'fe80::1%eth0'}]},
        ['ports[0].bind_address', 'fe80::1%eth0', 'zone']),
    bad('bind-newline', {'ports': [{'host_port': 5000, 'bind_address': '127.0.0.1\n127.0.0.2'}]},
        ['ports[0].bind_address', 'control character']),
    bad('bind-name', {'ports': [{'host_port': 5000, 'bind_address': 'localhost'}]},
        ['ports[0].bind_address', 'localhost', 'IPv4 or IPv6 address']),
    bad('protocol', {'ports': [{'host_port': 5000, 'protocol': 'sctp'}]}, ['protocol', 'sctp', 'tcp, udp']),
    bad('port-twice', {'ports': [{'host_port': 5000}, {'host_port': 5000, 'container_port': 443}]},
        ['ports[1]', '5000', 'published twice']),
    bad('name-space', {'name': 'reg istry'}, ['name', "'reg istry'", 'letters, digits']),
    bad('name-dotdot', {'name': '../etc'}, ['name', "'../etc'", 'letters, digits']),
    bad('name-newline', {'name': 'reg\nistry'}, ['name', 'control character']),
    bad('name-long', {'name': 'r' * 300}, ['name', 'longer than']),
    bad('name-empty', {'name': ''}, ['name', 'empty']),
    bad('image-upper', {'image': 'Registry:2'}, ['image', "'Registry:2'", 'lower-case']),
    bad('image-newline', {'image': 'registry:2\nx'}, ['image', 'control character']),
    bad('image-empty', {'image': ''}, ['image', 'empty']),
    bad('archive-directory', {'image_archive': '{dir}'}, ['image_archive', '{dir}', 'directory']),
    bad('archive-missing', {'image_archive': '{dir}/missing.tar'}, ['image_archive', 'missing.tar', 'does not exist']),
    bad('archive-dangling-symlink', {'image_archive': '{dir}/dangling'}, ['image_archive', 'does not exist'],
        plant=_dangling),
    bad('archive-manifest-object', {'image_archive': '{dir}/image.tar'}, ['image_archive', 'manifest.json'],
        plant=_manifest(b'{"Config": "x"}')),
    bad('archive-manifest-string', {'image_archive': '{dir}/image.tar'}, ['image_archive', 'manifest.json'],
        plant=_manifest(b'"registry:2"')),
    bad('archive-manifest-numbers', {'image_archive': '{dir}/image.tar'}, ['image_archive', 'manifest.json'],
        plant=_manifest(b'[1, 2]')),
    bad('archive-manifest-wrong-types', {'image_archive': '{dir}/image.tar'}, ['image_archive', 'manifest.json'],
        plant=_manifest(b'[{"RepoTags": "registry:2", "Config": 7}]')),
    bad('archive-manifest-not-utf8', {'image_archive': '{dir}/image.tar'}, ['image_archive', 'manifest.json'],
        plant=_manifest(b'[{"RepoTags": ["\xff\xfe"]}]')),
    bad('restart-file-relative', {'restart_files': ['config.yml']}, ['restart_files', 'config.yml', 'absolute']),
    bad('restart-file-missing', {'restart_files': ['{dir}/missing.yml']}, ['restart_files', 'missing.yml', 'does not exist']),
    bad('restart-file-directory', {'restart_files': ['{dir}']}, ['restart_files', 'directory']),
    bad('restart-file-dangling', {'restart_files': ['{dir}/dangling']}, ['restart_files', 'does not exist'],
        plant=_dangling),
    bad('restart-file-device', {'restart_files': ['/dev/zero']}, ['restart_files', '/dev/zero', 'regular file']),
    bad('data-dir-relative', {'data_dir': 'data'}, ['data_dir', "'data'", 'absolute']),
    bad('data-dir-is-file', {'data_dir': '{dir}/afile'}, ['data_dir', 'afile', 'not a directory'], plant=_a_file),
    bad('data-dir-colon', {'data_dir': '{dir}/a:b'}, ['data_dir', 'a:b', ':']),
    bad('data-dir-newline', {'data_dir': '{dir}/a\nb'}, ['data_dir', 'control character']),
    bad('data-volume-path', {'data_dir': None, 'data_volume': '/etc'}, ['data_volume', "'/etc'", 'letters, digits']),
    bad('data-volume-space', {'data_dir': None, 'data_volume': 'a b'}, ['data_volume', "'a b'", 'letters, digits']),
    bad('config-dir-is-file', {'config_dir': '{dir}/afile'}, ['config_dir', 'afile', 'not a directory'], plant=_a_file),
    bad('config-dir-missing', {'config_dir': '{dir}/nope'}, ['config_dir', 'nope', 'does not exist']),
    bad('config-dir-colon', {'config_dir': '{dir}/a:b'}, ['config_dir', 'a:b', ':']),
    bad('data-dir-mode-digits', {'data_dir_mode': '999'}, ['data_dir_mode', '999', 'octal']),
    bad('data-dir-mode-word', {'data_dir_mode': 'rwx'}, ['data_dir_mode', 'rwx', 'octal']),
    bad('data-dir-mode-range', {'data_dir_mode': '77777'}, ['data_dir_mode', '77777', '7777']),
    bad('env-name-equals', {'env': {'A=B': 'x'}}, ['env', "'A=B'", 'letters, digits']),
    bad('env-name-empty', {'env': {'': 'x'}}, ['env', 'empty']),
    bad('env-name-newline', {'env': {'A\nB': 'x'}}, ['env', 'letters, digits']),
    bad('env-twice', {'env': {'REGISTRY_HTTP_SECRET': 'x'}, 'secret_env': {'REGISTRY_HTTP_SECRET': 'Mk-9a1b2c-TWICE-3d4e'}},
        ['REGISTRY_HTTP_SECRET', 'env', 'secret_env', 'one of']),
    bad('secret-env-nul', {'secret_env': {'REGISTRY_HTTP_SECRET': 'Mk-5e6f70-NUL\u0000-8a9b'}},
        ['secret_env.REGISTRY_HTTP_SECRET', 'NUL']),
    bad('label-empty', {'labels': {'': 'x'}}, ['labels', 'empty']),
    bad('label-newline', {'labels': {'team': 'a\nb'}}, ['labels.team', 'control character']),
    bad('label-reserved', {'labels': {'berth.registry.files-hash': 'x'}}, ['labels', 'berth.registry.files-hash', 'reserved']),
    bad('command-nul', {'command': ['serve', 'a\u0000b']}, ['command[1]', 'control character']),
    bad('probe-port', {'probe': {'scheme': 'http', 'port': 0}}, ['probe.port', '0', '1..65535']),
    bad('probe-timeout', {'probe': {'scheme': 'http', 'timeout': 0}}, ['probe.timeout', '0', 'at least 1']),
    bad('probe-host-zone', {'probe': {'scheme': 'http', 'host': 'fe80::1%eth0\nx'}}, ['probe.host']),
    bad('probe-host-name', {'probe': {'scheme': 'http', 'host': 'not a host!'}}, ['probe.host', 'not a host!']),
    bad('probe-ca-directory', {'probe': {'scheme': 'https', 'ca_path': '{dir}'}}, ['probe.ca_path', 'directory']),
    bad('probe-ca-missing', {'probe': {'scheme': 'https', 'ca_path': '{dir}/ca.crt'}},
        ['probe.ca_path', 'ca.crt', 'does not exist']),
    bad('probe-ca-garbage', {'probe': {'scheme': 'https', 'ca_path': '{dir}/afile'}},
        ['probe.ca_path', 'afile', 'CA bundle'], plant=_a_file),
    bad('timeout-0', {'timeout': 0}, ['timeout', '0', 'at least 1']),
    bad('docker-host-scheme', {'docker_host': 'bogus://127.0.0.1'}, ['bogus://127.0.0.1', 'Docker engine']),
    bad('docker-host-refused', {'docker_host': 'tcp://127.0.0.1:1'}, ['tcp://127.0.0.1:1', 'Docker engine']),
    bad('docker-host-newline', {'docker_host': 'unix:///var/run/docker.sock\nx'}, ['docker_host', 'control character']),
    bad('pull-never-absent', {'image': 'berth-absent/registry:never', 'pull': 'never'},
        ['berth-absent/registry:never', 'pull=never']),
    bad('recreate-choice', {'recreate': 'sometimes'}, ['recreate', 'sometimes', 'options-changed']),
]


def test_bad_input_table(tmp_path):
    prefix = 'berth-bad-%s' % uuid.uuid4().hex[:8]
    defaults = {
        'name': prefix,  # one name for all: no case may create a container
        'ports': [{'host_port': free_port(), 'bind_address': '127.0.0.1'}],
        'data_dir': '{dir}/data',
        'config_dir': '{dir}/conf',
        'restart_files': ['{dir}/conf/config.yml'],
        'probe': {'scheme': 'http', 'timeout': 5},
    }
    try:
        outcomes = run_table(BAD_INPUTS_PLAYBOOK, tmp_path, BAD_CASES, defaults)
        created = docker('ps', '-a', '--filter', 'name=' + prefix, '--format', '{{.Names}}').stdout.split()
    finally:
        for name in docker('ps', '-a', '--filter', 'name=' + prefix, '--format', '{{.Names}}', check=False).stdout.split():
            docker('rm', '-f', name, check=False)
    check_table(BAD_CASES, outcomes)
    assert created == [], 'a bad input created a container'
    for name, (result, _before, _directory) in outcomes.items():
        shown = json.dumps(dict((k, v) for k, v in result.items() if k != 'item'))  # item: the test's own input
        assert 'Mk-' not in shown, '%s: a secret value is in the result' % name


# ------------------------------------------------------------------ secrets

def test_secret_env_never_appears_and_still_recreates(site):
    """secret_env values at -vvv --diff: check and real, first run, rerun, rotation, failure."""
    http_secret, opaque, rotated = marker('HTTPSECRET'), marker('OPAQUE'), marker('ROTATED')
    secrets = {'http secret': http_secret, 'opaque': opaque, 'rotated http secret': rotated}
    verbose = ('-vvv',)
    # A name that does not look secret: secret_env masks by option, not by name.
    secret_env = {'REGISTRY_HTTP_SECRET': http_secret, 'BERTH_PLAIN_LOOKING': opaque}
    env = {'REGISTRY_LOG_LEVEL': 'info'}

    for check, changed in ((True, True), (False, True), (True, False), (False, False)):
        result = site.run(check=check, diff=True, expect_changed=changed, args=verbose, env=env, secret_env=secret_env)
        assert result.rc == 0, result
        assert_no_leaks([result], secrets)
    container_env = site.inspect()['Config']['Env']
    assert 'REGISTRY_HTTP_SECRET=' + http_secret in container_env and 'BERTH_PLAIN_LOOKING=' + opaque in container_env
    assert site.http_code('/v2/') == '200'
    before = site.identity()

    rotated_env = dict(secret_env, REGISTRY_HTTP_SECRET=rotated)
    check = site.run(check=True, diff=True, expect_changed=True, args=verbose, env=env, secret_env=rotated_env)
    assert check.rc == 0 and site.identity() == before, check
    assert_no_leaks([check], secrets)
    result = site.run(diff=True, expect_changed=True, expect_recreated=True, args=verbose, env=env, secret_env=rotated_env)
    assert result.rc == 0, result
    assert_no_leaks([result], secrets)
    assert result.module['differences'] == [
        {'field': 'secret_env.REGISTRY_HTTP_SECRET', 'before': '(secret)', 'after': '(secret, changed)'}]
    assert 'REGISTRY_HTTP_SECRET=' + rotated in site.inspect()['Config']['Env']
    assert site.identity()[0] != before[0]

    # Moving a variable out of secret_env: its old value is not shown either.
    result = site.run(diff=True, expect_changed=True, args=verbose, env=env,
                      secret_env={'REGISTRY_HTTP_SECRET': rotated})
    assert result.rc == 0, result
    assert_no_leaks([result], secrets)
    assert result.module['differences'] == [
        {'field': 'secret_env.BERTH_PLAIN_LOOKING', 'before': '(secret)', 'after': None}]

    # A registry that does not come up: its failure message and logs carry no secret either.
    site.write('config.yml', HTTP_CONFIG.replace('filesystem:', 'berthnosuchdriver:'))
    failed = site.run(args=verbose, env=env, secret_env=rotated_env, probe={'scheme': 'http', 'timeout': 10})
    assert failed.rc != 0 and 'does not answer' in failed.stdout, failed
    assert_no_leaks([failed], secrets)


def test_plain_env_with_a_secret_looking_name_is_masked_in_the_diff(site):
    value = marker('APITOKEN')
    site.ok(True, env={'BERTH_VISIBLE': 'visible', 'BERTH_API_TOKEN': value})
    result = site.run(diff=True, expect_changed=True, env={'BERTH_API_TOKEN': value + '-2'})
    assert result.rc == 0, result
    assert value not in result.stdout.split('TASK [Keep the result')[0], 'the diff shows an env value whose name looks secret'
    fields = [d['field'] for d in result.module['differences']]
    assert fields == ['env.BERTH_API_TOKEN', 'env.BERTH_VISIBLE'], fields


# ------------------------------------------------------------------ data directory mode

def test_data_dir_mode_is_managed_without_a_recreate(site):
    # A data directory made by an earlier version (0755, with data in it) keeps working.
    os.makedirs(site.data_dir, mode=0o755)
    os.chmod(site.data_dir, 0o755)
    site.ok(True)
    assert oct(os.stat(site.data_dir).st_mode & 0o777) == '0o700'
    push_tiny_image(site.port, site.name + '/tiny')
    before = site.identity()

    check = site.run(check=True, expect_changed=True, data_dir_mode='0750')
    assert check.rc == 0 and oct(os.stat(site.data_dir).st_mode & 0o777) == '0o700', check
    result = site.ok(True, expect_recreated=False, data_dir_mode='0750')
    assert [d['field'] for d in result.module['differences']] == ['data_dir mode']
    assert oct(os.stat(site.data_dir).st_mode & 0o777) == '0o750'
    assert site.identity() == before
    site.ok(False, data_dir_mode='0750')
    assert site.catalog() == [site.name + '/tiny']
