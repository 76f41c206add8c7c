"""berth.registry.registry_server on this machine's engine, localhost as the registry host.

The PKI is made on the controller, config.yml rendered there, one registry_host call lays out the files and
runs the container. Every container listens on 127.0.0.1 on free high ports, is named with a random prefix
and removed in a finally block. Verified from outside: curl with our CA, openssl, docker inspect, the files.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import time
import uuid

import pytest
import yaml

from bed.engine import docker, require_engine
from bed.images import ensure_registry_image, save_registry_image
from bed.playbook import ROOT, run_module_playbook
from fakeregistry import free_port

from _bad_input_table import Case, check_table, run_table
from _secrets import assert_no_leaks, basic_auth, file_secrets, marker

PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'registry_server', 'run.yml')
BAD_INPUTS_PLAYBOOK = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'registry_server', 'bad_inputs.yml')
NAME = 'reg.berth.test'
CRAFTED = 'production\nproxy:\n  remoteurl: http://attacker.invalid\nstorage:\n  inmemory: {}'


@pytest.fixture(scope='module', autouse=True)
def registry_image():
    require_engine()
    return ensure_registry_image('registry:2')


class Server(object):
    """One registry under test: its directories, ports, user, and the playbook runs."""

    def __init__(self, base):
        self.base = base
        self.name = 'berth-rs-%s' % uuid.uuid4().hex[:8]
        self.port, self.metrics_port = free_port(), free_port()
        self.pki = os.path.join(base, 'pki')
        self.conf = os.path.join(base, 'conf')
        self.data = os.path.join(base, 'data')
        self.result_file = os.path.join(base, 'result.json')
        self.password = marker('PASSWORD')

    def args(self, **overrides):
        args = {
            'pki_dir': self.pki,
            'config_dir': self.conf,
            'port': self.port,
            'bind_address': '127.0.0.1',
            'metrics_address': '127.0.0.1:%d' % self.metrics_port,
            'certificate': {'dns_names': [NAME], 'ip_addresses': ['127.0.0.1']},
            'users': [{'name': 'admin', 'password': self.password}],
            'container': {'name': self.name, 'data_dir': self.data, 'start_timeout': 30},
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(args.get(key), dict):
                args[key] = dict(args[key], **value)
            else:
                args[key] = value
        return args

    def run(self, check=False, diff=False, verbose=False, ignore_errors=False, **overrides):
        extra = {'rs_args': self.args(**overrides), 'rs_result_file': self.result_file, 'rs_ignore_errors': ignore_errors}
        return run_module_playbook(PLAYBOOK, self.result_file, extra_vars=extra, check=check, diff=diff,
                                   args=('-vvv',) if verbose else ())

    def ok(self, changed, **kwargs):
        result = self.run(**kwargs)
        assert result.rc == 0, result
        assert result.changed('localhost') == int(changed), result
        return result

    def identity(self):
        proc = docker('inspect', '-f', '{{.Id}} {{.State.StartedAt}}', self.name, check=False)
        return tuple(proc.stdout.split()) if proc.returncode == 0 else None

    def curl(self, path='/v2/', *args, scheme='https', port=None):
        proc = subprocess.run(['curl', '-sS', '--noproxy', '*', '-m', '10', '-o', '/dev/null', '-w', '%{http_code}',
                               '--cacert', os.path.join(self.pki, 'ca.crt'), '--resolve', '%s:%d:127.0.0.1' % (NAME, self.port),
                               *args, '%s://%s:%d%s' % (scheme, NAME, port or self.port, path)],
                              capture_output=True, text=True, check=False)
        return proc.stdout.strip() or proc.stderr

    def config(self):
        with open(os.path.join(self.conf, 'config.yml')) as f:
            return yaml.safe_load(f)

    def files(self):
        """Every file under the PKI and config directories: mode and bytes."""
        result = {}
        for root in (self.pki, self.conf):
            for directory, dummy, names in os.walk(root):
                for name in names:
                    path = os.path.join(directory, name)
                    with open(path, 'rb') as f:
                        result[path] = (stat.S_IMODE(os.stat(path).st_mode), f.read())
        return result

    def cleanup(self):
        for name in (self.name, self.name + '-berth-new'):
            docker('rm', '-f', name, check=False)


@pytest.fixture
def server(tmp_path):
    server = Server(str(tmp_path))
    try:
        yield server
    finally:
        server.cleanup()


def test_four_steps_then_one_recreate_for_a_config_change_none_for_a_user(server):
    check = server.run(check=True, diff=True)
    assert check.rc == 0 and check.changed('localhost') == 1, check
    assert not os.path.exists(server.pki) and not os.path.exists(server.conf) and server.identity() is None
    fields = [d['field'] for d in check.module['differences']]
    assert fields[:4] == ['pki_dir', 'ca', 'certificate', 'http.secret'] and 'container' in fields

    server.ok(True)
    assert server.curl() == '401'
    assert server.curl('/v2/', '-u', 'admin:%s' % server.password) == '200'
    assert server.curl('/v2/', '-u', 'admin:wrong-%s' % server.password) == '401'
    first = server.identity()
    modes = dict((os.path.relpath(p, server.base), m) for p, (m, dummy) in server.files().items())
    assert modes == {'pki/ca.crt': 0o644, 'pki/ca.key': 0o600, 'pki/%s.crt' % NAME: 0o644, 'pki/%s.key' % NAME: 0o600,
                     'pki/http.secret': 0o600, 'pki/.berth-pki.lock': 0o600, 'conf/config.yml': 0o600,
                     'conf/ssl/registry.key': 0o600, 'conf/ssl/registry.crt': 0o644, 'conf/ssl/ca.crt': 0o644,
                     'conf/auth/htpasswd': 0o640}
    assert stat.S_IMODE(os.stat(server.data).st_mode) == 0o700 and stat.S_IMODE(os.stat(server.pki).st_mode) == 0o700
    files = server.files()

    server.ok(False, check=True, diff=True)
    server.ok(False)
    assert server.identity() == first and server.files() == files

    changed = {'config': {'log': {'level': 'debug'}}}
    predicted = server.run(check=True, diff=True, **changed)
    assert predicted.changed('localhost') == 1 and server.identity() == first
    assert [d['field'] for d in predicted.module['differences']] == ['config.yml', 'container restart_files']
    done = server.ok(True, **changed)
    assert done.module['recreated'] and server.identity()[0] != first[0]
    assert [d['field'] for d in done.module['differences']] == ['config.yml', 'container restart_files']
    second = server.identity()
    server.ok(False, **changed)

    users = [{'name': 'admin', 'password': server.password}, {'name': 'ci', 'password': marker('CIPASSWORD')}]
    added = server.ok(True, users=users, **changed)
    assert [d['field'] for d in added.module['differences']] == ['htpasswd: user ci']
    assert server.identity() == second
    assert server.curl('/v2/', '-u', 'ci:%s' % users[1]['password']) == '200'


def test_config_yml_is_data_a_crafted_value_adds_no_key(server):
    """Issue 9: config.yml.j2 inserted values unquoted; a crafted value added top-level keys."""
    server.ok(True, auth_realm='realm"\nproxy:\n  remoteurl: http://attacker.invalid',
              config={'log': {'fields': {'service': 'registry', 'environment': CRAFTED}}})
    config = server.config()
    assert sorted(config) == ['auth', 'http', 'log', 'storage', 'version']
    assert config['log']['fields']['environment'] == CRAFTED
    assert config['auth']['htpasswd']['realm'] == 'realm"\nproxy:\n  remoteurl: http://attacker.invalid'
    assert server.curl() == '401'
    before, identity = server.files(), server.identity()
    # a value Distribution would choke on is refused before anything is written
    refused = server.run(config={'health': {'storagedriver': {'interval': '10s\nproxy:\n  remoteurl: http://attacker.invalid'}}})
    assert refused.rc != 0 and 'config.health.storagedriver.interval' in refused.stdout and 'not a duration' in refused.stdout
    refused = server.run(config={'http': {'addr': ':1'}})
    assert refused.rc != 0 and 'config.http.addr: cannot be set here' in refused.stdout, refused
    assert server.files() == before and server.identity() == identity


def test_a_passphrase_protects_the_ca_key_and_a_wrong_one_replaces_nothing(server):
    passphrase = marker('PASSPHRASE')
    server.ok(True, ca={'passphrase': passphrase})
    with open(os.path.join(server.pki, 'ca.key'), 'rb') as f:
        assert b'ENCRYPTED PRIVATE KEY' in f.read()
    subprocess.run(['openssl', 'pkey', '-in', os.path.join(server.pki, 'ca.key'), '-passin', 'pass:' + passphrase,
                    '-noout'], check=True, capture_output=True)
    server.ok(False, ca={'passphrase': passphrase})
    files, identity = server.files(), server.identity()
    # a renewal would need the CA key: with a wrong (or no) passphrase nothing is replaced
    for wrong in (marker('WRONGPASSPHRASE'), None):
        result = server.run(ca={'passphrase': wrong}, certificate={'renew_before_days': 400}, verbose=True)
        assert result.rc != 0, result
        assert 'ca key %s' % os.path.join(server.pki, 'ca.key') in result.stdout, result
        assert 'nothing was replaced' in result.stdout or 'is encrypted and no passphrase was given' in result.stdout
        assert_no_leaks(result, [passphrase] + ([wrong] if wrong else []), 'a wrong passphrase')
        assert server.files() == files and server.identity() == identity
    renewed = server.ok(True, ca={'passphrase': passphrase}, certificate={'renew_before_days': 400})
    assert 'certificate: not_after' in [d['field'] for d in renewed.module['differences']]
    assert server.identity()[0] != identity[0] and server.curl() == '401'


def test_metrics_on_the_hosts_loopback(server):
    """Issue 15 item 4: Prometheus text from the registry's debug server, published on 127.0.0.1 only."""
    result = server.ok(True)
    assert result.module['metrics_url'] == 'http://127.0.0.1:%d/metrics' % server.metrics_port
    server.curl('/v2/', '-u', 'admin:%s' % server.password)
    proc = subprocess.run(['curl', '-sS', '--noproxy', '*', '-m', '10', result.module['metrics_url']],
                          capture_output=True, text=True, check=False)
    assert '# TYPE ' in proc.stdout and 'registry_http_requests_total' in proc.stdout, proc.stdout[:2000] + proc.stderr
    bindings = json.loads(docker('inspect', '-f', '{{json .HostConfig.PortBindings}}', server.name).stdout)
    assert bindings['%d/tcp' % server.metrics_port] == [{'HostIp': '127.0.0.1', 'HostPort': str(server.metrics_port)}]
    assert server.config()['http']['debug'] == {'addr': ':%d' % server.metrics_port,
                                                'prometheus': {'enabled': True, 'path': '/metrics'}}
    off = server.ok(True, metrics_address='')
    assert off.module['metrics_url'] is None and 'debug' not in server.config()['http']


def test_plain_http_without_users_is_a_stated_choice(server):
    """Issue 9: anonymous push over plain HTTP needs allow_anonymous_push, and the run says so."""
    refused = server.run(tls=False, users=[])
    assert refused.rc != 0 and server.identity() is None, refused
    assert 'no TLS, no authentication' in refused.stdout and 'allow_anonymous_push' in refused.stdout, refused
    chosen = server.ok(True, tls=False, users=[], allow_anonymous_push=True)
    warned = ' '.join((chosen.stdout + chosen.stderr).split())  # Ansible prints warnings to stderr, wrapped
    assert 'no TLS, no authentication: anyone who reaches port %d' % server.port in warned, chosen
    config = server.config()
    assert 'auth' not in config and 'tls' not in config['http']
    assert config['storage']['delete'] == {'enabled': False}
    assert config['log'].get('accesslog', {}).get('disabled') in (None, False)
    assert subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--noproxy', '*',
                           'http://127.0.0.1:%d/v2/' % server.port], capture_output=True, text=True, check=False).stdout == '200'


def test_storage_delete_is_off_unless_asked(server):
    server.ok(True)
    # push through the registry API with curl: a blob (POST, then PUT to the upload's Location) and a manifest
    digest_of = 'sha256:' + hashlib.sha256(b'{}').hexdigest()
    auth = ('-u', 'admin:%s' % server.password)
    proc = subprocess.run(['curl', '-sS', '--noproxy', '*', '-m', '10', '-D', '-', '-o', '/dev/null', '-X', 'POST',
                           '--cacert', os.path.join(server.pki, 'ca.crt'), '--resolve', '%s:%d:127.0.0.1' % (NAME, server.port),
                           *auth, 'https://%s:%d/v2/t/blobs/uploads/' % (NAME, server.port)],
                          capture_output=True, text=True, check=True)
    location = next(line.split(':', 1)[1].strip() for line in proc.stdout.splitlines() if line.lower().startswith('location:'))
    path = location.split('%s:%d' % (NAME, server.port), 1)[-1]
    assert server.curl('%s%sdigest=%s' % (path, '&' if '?' in path else '?', digest_of), *auth, '-X', 'PUT',
                       '--data-binary', '{}', '-H', 'Content-Type: application/octet-stream') == '201'
    manifest = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',
                           'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'size': 2,
                                      'digest': digest_of}, 'layers': []})
    assert server.curl('/v2/t/manifests/1', *auth, '-X', 'PUT', '--data-binary', manifest,
                       '-H', 'Content-Type: application/vnd.docker.distribution.manifest.v2+json') == '201'
    manifest_digest = 'sha256:' + hashlib.sha256(manifest.encode()).hexdigest()
    assert server.curl('/v2/t/manifests/%s' % manifest_digest, *auth, '-X', 'DELETE') == '405'
    server.ok(True, storage_delete=True)
    assert server.curl('/v2/t/manifests/%s' % manifest_digest, *auth, '-X', 'DELETE') == '202'


def test_a_store_that_refuses_fails_with_its_error_and_the_registry_keeps_serving(server):
    """Issue 12 item 1: wrong keys or an unreachable store fail the run with the store's message; nothing leaks."""
    server.ok(True)
    files, identity = server.files(), server.identity()
    access, secret = marker('S3ACCESS'), marker('S3SECRET')
    storage = {'s3': {'regionendpoint': 'http://127.0.0.1:%d' % free_port(), 'region': 'us-east-1', 'bucket': 'nobucket',
                      'accesskey': access, 'secretkey': secret, 'secure': False, 'v4auth': True}}
    check = server.run(check=True, diff=True, verbose=True, storage=storage)
    assert check.rc == 0 and check.changed('localhost') == 1, check
    result = server.run(diff=True, verbose=True, storage=storage)
    assert result.rc != 0, result
    assert 'its storage does not' in result.stdout and 's3aws' in result.stdout, result
    assert 'connection refused' in result.stdout, result
    assert 'were put back as they were' in result.stdout, result
    assert_no_leaks([check, result], [access, secret, server.password], 'an s3 store that refuses')
    assert server.files() == files and server.identity()[0] == identity[0]
    assert server.curl('/v2/', '-u', 'admin:%s' % server.password) == '200'
    assert 'redirect' not in server.config()['storage']  # filesystem again


def test_no_secret_in_any_output(server):
    """Issue 9: -vvv --diff, check mode and real, first run and rerun: no password, passphrase, key bytes,
    bcrypt hash, http.secret, secret env or secret file in the output."""
    passphrase = marker('PASSPHRASE')
    planted = {'password': server.password, 'passphrase': passphrase, 'secret_env': marker('ENVTOKEN'),
               'extra file': marker('FRONTENDSECRET'), 'notification header': marker('BEARERTOKEN')}
    options = dict(ca={'passphrase': passphrase}, container={'secret_env': {'BERTH_TEST_TOKEN': planted['secret_env']}},
                   extra_files=[{'path': 'front/secret.conf', 'content': 'token %s\n' % planted['extra file'], 'secret': True,
                                 'mode': '0600'}],
                   config={'notifications': {'endpoints': [{'name': 'berth', 'url': 'http://127.0.0.1:9/events',
                                                            'headers': {'Authorization': ['Bearer ' + planted['notification header']]},
                                                            'timeout': '1s', 'threshold': 5, 'backoff': '10s'}]}})
    runs = [server.run(check=True, diff=True, verbose=True, **options)]
    runs.append(server.run(diff=True, verbose=True, **options))
    assert runs[-1].rc == 0, runs[-1]
    runs.append(server.run(check=True, diff=True, verbose=True, **options))
    runs.append(server.run(diff=True, verbose=True, **options))
    assert [r.changed('localhost') for r in runs] == [1, 1, 0, 0], runs[-1]
    secrets = dict(planted)
    for path in ('ca.key', '%s.key' % NAME):
        secrets.update(file_secrets(os.path.join(server.pki, path)))
    secrets.update(file_secrets(os.path.join(server.conf, 'ssl', 'registry.key'), 'host key'))
    with open(os.path.join(server.pki, 'http.secret')) as f:
        secrets['http.secret'] = f.read().strip()
    with open(os.path.join(server.conf, 'auth', 'htpasswd')) as f:
        secrets['bcrypt hash'] = f.read().split(':', 1)[1].strip()
    secrets['basic auth'] = basic_auth('admin', server.password)
    assert_no_leaks(runs, secrets, 'registry_server')
    assert 'secret: (secret)' in runs[1].stdout and 'Authorization: (secret)' in runs[1].stdout


def test_image_archive_is_sent_only_when_the_host_lacks_the_image(server, tmp_path):
    tag = '%s/registry:2' % server.name
    docker('tag', 'registry:2', tag)
    archive = save_registry_image(str(tmp_path / 'registry.tar'), tag)
    docker('rmi', tag)
    try:
        container = {'image': tag, 'pull': 'never'}
        check = server.run(check=True, image_archive=archive, container=container)
        assert check.rc == 0 and check.changed('localhost') == 1, check
        assert docker('image', 'inspect', tag, check=False).returncode != 0, 'check mode loaded the image'
        server.ok(True, image_archive=archive, container=container)
        assert server.curl() == '401'
        again = server.ok(False, image_archive=archive, container=container, verbose=True)
        assert 'berth-registry-image.tar' not in again.stdout, 'the archive was sent again'
    finally:
        server.cleanup()
        docker('rmi', tag, check=False)


def bad(name, args, expect):
    return Case(name, args, expect)


BAD_CASES = [
    bad('no-users', {'users': []}, ['no users', 'allow_anonymous_push']),
    bad('port-0', {'port': 0}, ['port: 0', '1..65535']),
    bad('metrics-name', {'metrics_address': 'localhost:5001'}, ['metrics_address', 'localhost']),
    bad('metrics-no-port', {'metrics_address': '127.0.0.1'}, ['metrics_address', 'ADDRESS:PORT']),
    bad('bind-zone', {'bind_address': 'fe80::1%eth0'}, ['bind_address', 'zone']),
    bad('storage-two-drivers', {'storage': {'filesystem': {}, 's3': {'bucket': 'b', 'region': 'r'}}},
        ['storage', 'exactly one storage driver']),
    bad('storage-no-bucket', {'storage': {'s3': {'region': 'r', 'accesskey': 'Mk-aa-S3KEY-bb', 'secretkey': 'Mk-cc-S3SECRET-dd'}}},
        ['storage.s3', 'bucket is required']),
    bad('storage-outside-data', {'storage': {'filesystem': {'rootdirectory': '/srv'}}}, ['rootdirectory', '/srv']),
    bad('storage-delete-inside', {'storage': {'filesystem': {}, 'delete': {'enabled': True}}}, ['storage.delete', 'storage_delete']),
    bad('config-owned', {'config': {'http': {'secret': 'Mk-ee-HTTPSECRET-ff-0123456789'}}}, ['config.http.secret', 'cannot be set']),
    bad('config-duration', {'config': {'health': {'storagedriver': {'interval': '10s\nx: y'}}}},
        ['config.health.storagedriver.interval', 'duration']),
    bad('config-level', {'config': {'log': {'level': 'loud'}}}, ['config.log.level', 'loud', 'allowed']),
    bad('config-header', {'config': {'http': {'headers': {'X-A': ['a\r\nSet-Cookie: x']}}}}, ['config.http.headers.X-A']),
    bad('tls-section-plain', {'tls': False, 'config': {'http': {'tls': {'minimumtls': 'tls1.2'}}}}, ['config.http.tls', 'TLS is off']),
    bad('cert-no-names', {'certificate': {'dns_names': [], 'ip_addresses': []}}, ['certificate', 'dns_names or ip_addresses']),
    bad('cert-bad-dns', {'certificate': {'dns_names': ['reg-.example']}}, ['reg-.example']),
    bad('cert-name-slash', {'certificate': {'dns_names': ['r.example'], 'name': '../x'}}, ['certificate.name', '../x']),
    bad('ca-key-type', {'ca': {'key_type': 'dsa'}}, ['key_type', 'dsa']),
    bad('byo-missing', {'tls_files': {'cert': '{dir}/c.pem', 'key': '{dir}/k.pem', 'ca': '{dir}/a.pem'}}, ['tls_files.cert', '{dir}/c.pem', 'does not exist']),
    bad('byo-without-tls', {'tls': False, 'tls_files': {'cert': '/c', 'key': '/k', 'ca': '/a'}}, ['tls_files', 'tls is false']),
    bad('user-colon', {'users': [{'name': 'a:b', 'password': 'Mk-11-PW-22'}]}, ['users[0].name', 'a:b']),
    bad('user-empty-password', {'users': [{'name': 'a', 'password': ''}]}, ['users[0].password', 'must not be empty']),
    bad('user-twice', {'users': [{'name': 'a', 'password': 'Mk-33-PW-44'}, {'name': 'a', 'password': 'Mk-55-PW-66'}]},
        ['listed more than once']),
    bad('htpasswd-cost', {'htpasswd_cost': 3}, ['cost', '4..31']),
    bad('extra-escape', {'extra_files': [{'path': '../../etc/cron.d/x', 'content': 'x'}]}, ['extra_files[0]', '..']),
    bad('extra-reserved', {'extra_files': [{'path': 'ssl/registry.key', 'content': 'x'}]}, ['extra_files[0]', 'managed']),
    bad('extra-both', {'extra_files': [{'path': 'a.conf'}]}, ['extra_files[0]', 'content or src']),
    bad('package-name', {'packages': ['python3-docker; rm -rf /']}, ['packages', 'not a Debian package name']),
    bad('container-name', {'container': {'name': '../etc'}}, ['name', '../etc']),
    bad('start-timeout', {'container': {'start_timeout': 0}}, ['container.start_timeout', '0']),
    bad('archive-missing', {'image_archive': '{dir}/nothing.tar'}, ['image_archive', 'nothing.tar']),
    bad('http-secret-short', {'http_secret': 'short'}, ['http_secret', 'at least 16']),
]


def test_bad_input_table(tmp_path):
    prefix = 'berth-rsbad-%s' % uuid.uuid4().hex[:8]
    defaults = {
        'pki_dir': '{dir}/pki', 'config_dir': '{dir}/conf', 'port': free_port(), 'bind_address': '127.0.0.1',
        'metrics_address': '127.0.0.1:%d' % free_port(),
        'certificate': {'dns_names': [NAME]}, 'users': [{'name': 'admin', 'password': marker('PASSWORD')}],
        'container': {'name': prefix, 'data_dir': '{dir}/data', 'start_timeout': 5},
    }
    cases = []
    for case in BAD_CASES:
        args = dict(case.args)
        for key in ('certificate', 'container'):
            if key in args:
                args[key] = dict(defaults[key], **args[key])
        cases.append(Case(case.name, args, case.expect, case.setup))
    try:
        outcomes = run_table(BAD_INPUTS_PLAYBOOK, tmp_path, cases, defaults)
        created = docker('ps', '-a', '--filter', 'name=' + prefix, '--format', '{{.Names}}').stdout.split()
    finally:
        for name in docker('ps', '-a', '--filter', 'name=' + prefix, '--format', '{{.Names}}', check=False).stdout.split():
            docker('rm', '-f', name, check=False)
    check_table(cases, outcomes)
    assert created == [], 'a bad input created a container'
    for name, (result, dummy, dummy2) in outcomes.items():
        shown = json.dumps(dict((k, v) for k, v in result.items() if k != 'item'))
        assert 'Mk-' not in shown, '%s: a secret value is in the result' % name


def test_a_pull_through_cache_serves_what_it_cached_with_the_upstream_stopped(server, tmp_path):
    """Issue 13 item 3: the registry as a cache (config.proxy, the server role's registry_proxy) of an upstream
    registry this test runs itself on the engine's bridge; nobody can push to the cache."""
    upstream, up_port = server.name + '-upstream', free_port()
    image = '127.0.0.1:%d/cache/app:1' % up_port
    docker('run', '-d', '--name', upstream, '-p', '127.0.0.1:%d:5000' % up_port, 'registry:2')
    try:
        blob = tmp_path / 'layer'
        blob.write_bytes(os.urandom(300000))
        tar = subprocess.run(['tar', 'cf', '-', '-C', str(tmp_path), 'layer'], capture_output=True, check=True).stdout
        docker('import', '-', image, input=tar, text=False)
        for attempt in range(50):
            if docker('push', image, check=False).returncode == 0:
                break
            assert attempt < 49, 'the upstream registry does not take the push'
            subprocess.run(['sleep', '0.2'], check=True)
        docker('image', 'rm', image, check=False)
        address = docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', upstream).stdout.strip()
        proxy = {'proxy': {'remoteurl': 'http://%s:5000' % address}}

        server.ok(True, config=proxy)

        assert server.config()['proxy'] == {'remoteurl': 'http://%s:5000' % address}

        def get(path, method='GET'):
            proc = subprocess.run(
                ['curl', '-sS', '--noproxy', '*', '-m', '120', '-X', method, '-u', 'admin:%s' % server.password,
                 '-H', 'Accept: application/vnd.docker.distribution.manifest.v2+json', '--cacert',
                 os.path.join(server.pki, 'ca.crt'), '--resolve', '%s:%d:127.0.0.1' % (NAME, server.port),
                 '-w', '\n%{http_code}', 'https://%s:%d%s' % (NAME, server.port, path)],
                capture_output=True, check=False)
            body, dummy, code = proc.stdout.decode('utf-8', 'replace').rpartition('\n')
            return code, body

        code, manifest = get('/v2/cache/app/manifests/1')
        assert code == '200', manifest
        layers = [layer['digest'] for layer in json.loads(manifest)['layers']]
        assert all(get('/v2/cache/app/blobs/%s' % digest)[0] == '200' for digest in layers)
        docker('stop', '-t', '1', upstream)
        # the upstream is gone: the cache serves the manifest and the layers it fetched
        started = time.monotonic()
        code, again = get('/v2/cache/app/manifests/1')
        print('manifest by tag from the cache, upstream stopped: %s in %.1f s' % (code, time.monotonic() - started))
        assert code == '200' and json.loads(again) == json.loads(manifest), again
        assert all(get('/v2/cache/app/blobs/%s' % digest)[0] == '200' for digest in layers)
        assert get('/v2/cache/other/manifests/1')[0] != '200'
        assert get('/v2/cache/app/blobs/uploads/', method='POST')[0] not in ('201', '202'), 'a cache took a push'
    finally:
        docker('rm', '-f', upstream, check=False)
        docker('image', 'rm', '-f', image, check=False)
