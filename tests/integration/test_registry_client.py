"""registry_client against a throwaway dockerd and a real TLS + htpasswd registry.

Both run in a private network namespace where the registry listens on
TEST_ADDRESS:443 (not 127.0.0.0/8, which dockerd never verifies), so a wrong CA
really fails. Four steps each, verified from outside: files, `docker info`,
`docker login` through the engine, the dockerd PID.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess

import pytest

from bed.playbook import ROOT, ansible_env, run_playbook

import _bad_inputs
from _bad_inputs import DIR, Case
from _secrets import assert_no_leaks, basic_auth, marker, pem_body_lines
from _throwaway_dockerd import TEST_ADDRESS, Engine, make_registry_files

PLAYBOOK = os.path.join(os.path.dirname(__file__), 'playbooks', 'registry_client', 'run.yml')
BAD_PLAYBOOK = os.path.join(os.path.dirname(__file__), 'playbooks', 'registry_client', 'bad_inputs.yml')
USER, PASSWORD = 'alice', 'Vq8-registry-Pw-3xZ'
HOSTS = '127.0.0.1 localhost\n# keep me\n::1 localhost ip6-localhost\n'


@pytest.fixture(scope='module')
def bed(tmp_path_factory):
    base = str(tmp_path_factory.mktemp('client'))
    files = make_registry_files(os.path.join(base, 'registry'), USER, PASSWORD)
    eng = Engine(os.path.join(base, 'engine'))
    with open(eng.daemon_json, 'w') as f:
        f.write('{\n  "log-driver": "json-file"\n}\n')
    eng.start()
    try:
        eng.start_registry(files['config'])
        with open(os.path.join(base, 'hosts'), 'w') as f:
            f.write(HOSTS)
        with open(files['ca']) as f:
            ca = f.read()
        with open(files['other_ca']) as f:
            other_ca = f.read()
        yield {'engine': eng, 'ca': ca, 'other_ca': other_ca, 'hosts': os.path.join(base, 'hosts'),
               'auth': os.path.join(base, 'docker-config', 'config.json'), 'registry_config': files['config'],
               'inventory': _inventory(base)}
    finally:
        eng.stop()


def _inventory(base):
    path = os.path.join(base, 'inventory')
    with open(path, 'w') as f:
        f.write('localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n')
    return path


def params(bed, **overrides):
    eng = bed['engine']
    p = {'rc_registry': TEST_ADDRESS, 'rc_ca_content': bed['ca'], 'rc_certs_dir': eng.certs_dir,
         'rc_hosts_entry': {'hostname': 'registry.berth.test', 'address': TEST_ADDRESS},
         'rc_hosts_path': bed['hosts'], 'rc_login': {'username': USER, 'password': PASSWORD,
                                                     'config_path': bed['auth']},
         'rc_check': True, 'rc_daemon_config_path': eng.daemon_json, 'rc_docker_host': eng.docker_host,
         'rc_pid_file': eng.pid_file}
    p.update(overrides)
    return p


def run(bed, tmp_path, module_vars, check=False, expect_failure=False, verbose=False):
    result_file = str(tmp_path / 'result.json')
    extra = dict(module_vars, result_file=result_file, expect_failure=expect_failure)
    res = run_playbook(PLAYBOOK, inventory=bed['inventory'], extra_vars=extra, check=check, diff=True,
                       args=('-vvv',) if verbose else ())
    assert res.recap, str(res)
    with open(result_file) as f:
        return res, json.load(f)


def snapshot(bed):
    eng = bed['engine']
    out = {}
    for root, dummy, files in os.walk(eng.certs_dir):
        for name in files:
            with open(os.path.join(root, name), 'rb') as f:
                out[os.path.join(root, name)] = f.read()
    for path in (eng.daemon_json, bed['hosts'], bed['auth']):
        if os.path.exists(path):
            with open(path, 'rb') as f:
                out[path] = f.read()
    return out


def parts(result):
    """The parts that differ, from the differences' fields: 'hosts', 'docker CA', 'docker daemon.json', 'docker login'."""
    found = []
    for item in result['differences']:
        words = item['field'].split(' ')
        part = words[0] if words[0] == 'hosts' else ' '.join(words[:2])
        if part not in found:
            found.append(part)
    return found


def four_steps(bed, tmp_path, module_vars, changes):
    eng = bed['engine']
    before, pid = snapshot(bed), eng.pid
    res, result = run(bed, tmp_path, module_vars, check=True)
    assert res.rc == 0 and res.changed('localhost') == 1, str(res)
    assert parts(result) == changes and snapshot(bed) == before and eng.pid == pid
    assert PASSWORD not in res.stdout + json.dumps(result)
    res, first = run(bed, tmp_path, module_vars)
    assert res.rc == 0 and res.changed('localhost') == 1, str(res)
    assert parts(first) == changes and not first['restarted']
    assert PASSWORD not in res.stdout
    res, result = run(bed, tmp_path, module_vars, check=True)
    assert res.rc == 0 and res.changed('localhost') == 0, str(res)
    res, second = run(bed, tmp_path, module_vars)
    assert res.rc == 0 and res.changed('localhost') == 0 and second['differences'] == [], str(res)
    assert eng.pid == pid  # never a restart
    return first, second


def test_fresh_rollout_plain_mode(bed, tmp_path):
    eng = bed['engine']
    first, second = four_steps(bed, tmp_path, params(bed, rc_insecure=True),
                               ['hosts', 'docker CA', 'docker daemon.json', 'docker login'])
    assert first['applied'] == 'reloaded' and second['applied'] == 'none'
    assert first['check'].startswith('reachable and trusted') and second['check'].startswith('reachable')
    for name in (TEST_ADDRESS + ':443', TEST_ADDRESS):
        path = os.path.join(eng.certs_dir, name, 'ca.crt')
        with open(path) as f:
            assert f.read() == bed['ca'].strip() + '\n'
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o755
    with open(eng.daemon_json) as f:
        assert json.load(f) == {'log-driver': 'json-file', 'insecure-registries': [TEST_ADDRESS]}
    assert eng.insecure_registries() == [TEST_ADDRESS]
    with open(bed['hosts']) as f:
        assert f.read() == HOSTS + '%s registry.berth.test\n' % TEST_ADDRESS
    with open(bed['auth']) as f:
        auths = json.load(f)['auths']
    assert base64.b64decode(auths[TEST_ADDRESS]['auth']).decode() == '%s:%s' % (USER, PASSWORD)
    assert stat.S_IMODE(os.stat(bed['auth']).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(bed['auth'])).st_mode) == 0o700
    # the stored login works for the docker CLI, through the engine
    env = dict(os.environ, DOCKER_CONFIG=os.path.dirname(bed['auth']))
    assert 'Login Succeeded' in eng.docker('login', TEST_ADDRESS, env=env).stdout


def test_switch_to_tls_clears_insecure_entry(bed, tmp_path):
    eng = bed['engine']
    first, dummy = four_steps(bed, tmp_path, params(bed, rc_insecure=False), ['docker daemon.json'])
    assert first['differences'] == [{'field': 'docker daemon.json insecure-registries', 'before': [TEST_ADDRESS],
                                     'after': []}]
    with open(eng.daemon_json) as f:
        assert json.load(f)['insecure-registries'] == []
    assert eng.insecure_registries() == []
    assert first['check'].startswith('reachable and trusted (anonymous')  # now through verified TLS


def test_hosts_address_change_replaces_the_line(bed, tmp_path):
    moved = params(bed, rc_hosts_entry={'hostname': 'registry.berth.test', 'address': '198.18.0.11'}, rc_check=False)
    first, dummy = four_steps(bed, tmp_path, moved, ['hosts'])
    with open(bed['hosts']) as f:
        assert f.read() == HOSTS + '198.18.0.11 registry.berth.test\n'
    assert first['diff']['before_header'] == 'hosts %s' % bed['hosts']
    assert first['diff']['before'] == '%s registry.berth.test\n' % TEST_ADDRESS
    assert first['diff']['after'] == '198.18.0.11 registry.berth.test\n'
    res, dummy = run(bed, tmp_path, params(bed))
    assert res.rc == 0 and res.changed('localhost') == 1


def test_login_is_idempotent_without_network(bed, tmp_path):
    eng = bed['engine']
    eng.stop_registry()
    try:
        for check in (True, False):
            res, result = run(bed, tmp_path, params(bed, rc_check=False), check=check)
            assert res.rc == 0 and res.changed('localhost') == 0, str(res)
        # and the check does notice the registry is gone
        res, result = run(bed, tmp_path, params(bed), expect_failure=True)
        assert result['failed'] and 'connection refused' in result['msg'], result
    finally:
        eng.start_registry(bed['registry_config'])


def test_wrong_password_fails_and_writes_nothing(bed, tmp_path):
    other = str(tmp_path / 'cfg' / 'config.json')
    res, result = run(bed, tmp_path, params(bed, rc_login={'username': USER, 'password': 'not-the-Pw-81',
                                                           'config_path': other}), expect_failure=True)
    assert result['failed'] and '401 Unauthorized' in result['msg'] and not os.path.exists(other), result


def test_wrong_ca_fails_the_check_with_the_engines_message(bed, tmp_path):
    res, result = run(bed, tmp_path, params(bed, rc_ca_content=bed['other_ca']), expect_failure=True)
    assert result['failed'] and parts(result) == ['docker CA']
    assert 'x509: certificate signed by unknown authority' in result['msg'], result
    res, result = run(bed, tmp_path, params(bed))
    assert res.rc == 0 and parts(result) == ['docker CA'] and result['check'].startswith('reachable and trusted')


def test_bind_mounted_hosts_file_is_rewritten_in_place(tmp_path):
    """/etc/hosts in a container is a bind mount: the module's new text must reach the mounted file."""
    source, target = tmp_path / 'engine-hosts', tmp_path / 'hosts'
    source.write_text(HOSTS)
    target.write_text('target before mount\n')
    result_file = tmp_path / 'result.json'
    extra = {'rc_registry': TEST_ADDRESS, 'rc_certs_dir': str(tmp_path / 'certs.d'), 'rc_hosts_path': str(target),
             'rc_hosts_entry': {'hostname': 'registry.berth.test', 'address': TEST_ADDRESS},
             'rc_daemon_config_path': str(tmp_path / 'daemon.json'), 'rc_pid_file': str(tmp_path / 'none.pid'),
             'rc_docker_host': 'unix://%s' % (tmp_path / 'none.sock'), 'result_file': str(result_file)}
    proc = subprocess.run(['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c',
                           'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', str(source), str(target),
                           'ansible-playbook', PLAYBOOK, '-i', _inventory(str(tmp_path)), '-e', json.dumps(extra)],
                          env=ansible_env(), cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(result_file) as f:
        assert parts(json.load(f)) == ['hosts']
    assert source.read_text() == HOSTS + '%s registry.berth.test\n' % TEST_ADDRESS
    assert target.read_text() == 'target before mount\n'


MIRROR_PASSWORD = 'Mk-8d41f0-MIRRORPW-2be6'
DEEP = b'{"labels": ' + b'[' * 100000 + b']' * 100000 + b'}'
REG = 'reg.example:5000'
LOGIN = {'username': USER, 'password': PASSWORD}


def _key_and_cert(tmp_path):
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                    '-days', '2', '-keyout', str(tmp_path / 'ca.key'), '-out', str(tmp_path / 'ca.crt'),
                    '-subj', '/CN=berth bad input CA'], check=True, capture_output=True)
    return (tmp_path / 'ca.crt').read_text(), (tmp_path / 'ca.key').read_text()


def _encrypted(tmp_path):
    subprocess.run(['openssl', 'pkcs8', '-topk8', '-in', str(tmp_path / 'ca.key'), '-out', str(tmp_path / 'enc.key'),
                    '-passout', 'pass:Mk-61c0de-PASSPHRASE-4f2e'], check=True, capture_output=True)
    return (tmp_path / 'enc.key').read_text()


def client_cert_cases(cert, key, encrypted):
    key_lines = [line for line in key.splitlines() if not line.startswith('-----')]
    enc_lines = [line for line in encrypted.splitlines() if not line.startswith('-----')]
    pair = {'cert': cert, 'key': key}
    return [
        Case('client-cert-without-key', {'ca_content': cert, 'client_certificate': {'cert': cert}},
             ['client_certificate', 'key']),
        Case('client-key-encrypted', {'ca_content': cert, 'client_certificate': {'cert': cert, 'key': encrypted}},
             ['client_certificate.key', 'unencrypted', 'ENCRYPTED PRIVATE KEY', 'not shown'], forbid=enc_lines),
        Case('client-key-twice', {'ca_content': cert, 'client_certificate': {'cert': cert, 'key': key + key}},
             ['client_certificate.key', 'exactly one', 'not shown'], forbid=key_lines),
        Case('client-key-is-a-certificate', {'ca_content': cert, 'client_certificate': {'cert': cert, 'key': cert}},
             ['client_certificate.key', 'found: CERTIFICATE']),
        Case('client-cert-is-the-key', {'ca_content': cert, 'client_certificate': {'cert': key, 'key': key}},
             ['client_certificate.cert', 'PRIVATE KEY', 'not shown'], forbid=key_lines),
        Case('client-key-not-base64',
             {'ca_content': cert, 'client_certificate': {
                 'cert': cert, 'key': '-----BEGIN PRIVATE KEY-----\n%%%%\n-----END PRIVATE KEY-----\n'}},
             ['client_certificate.key', 'base64']),
        Case('client-cert-over-plain-http', {'insecure': True, 'client_certificate': pair},
             ['client_certificate', 'insecure=true', 'plain HTTP'], forbid=key_lines),
        Case('client-cert-state-revoked', {'client_certificate': dict(pair, state='revoked')},
             ['state', 'present, absent'], forbid=key_lines),
        Case('client-key-path-is-a-directory', {'ca_content': cert, 'client_certificate': pair},
             ['client.key', 'directory'], {'certs.d/reg.example:5000/client.key': DIR}, forbid=key_lines),
    ]


def bad_cases(cert, key):
    hosts = {'hosts': HOSTS.encode()}
    key_lines = [line for line in key.splitlines() if not line.startswith('-----')]
    return [
        Case('registry-with-scheme', {'registry': 'https://reg.example'}, ['registry', "'https://reg.example'", 'host:port']),
        Case('registry-with-path', {'registry': 'reg.example/team'}, ['registry', "'reg.example/team'", 'host:port']),
        Case('registry-dot-dot', {'registry': '..', 'ca_content': cert}, ['registry', "'..'"]),
        Case('registry-dot-dot-port', {'registry': '..:5000', 'ca_content': cert}, ['registry', "'..'", 'DNS name']),
        Case('registry-with-newline', {'registry': 'reg.example\nevil.example'}, ['registry', 'control character']),
        Case('registry-with-nul', {'registry': 'reg.example\x00'}, ['registry', 'control character']),
        Case('registry-too-long', {'registry': 'a' * 300 + '.example'}, ['registry', 'DNS name']),
        Case('registry-with-zone', {'registry': '[fe80::1%eth0]:5000'}, ['registry', 'fe80::1%eth0', 'zone']),
        Case('registry-port-zero', {'registry': 'reg.example:0'}, ['registry', 'reg.example:0', 'range']),
        Case('docker-host-ssh', {'docker_host': 'ssh://builder@h.example'},
             ['docker_host', "'ssh://builder@h.example'", 'unix://']),
        Case('hosts-address-zone-with-a-second-line',
             {'hosts_entry': {'hostname': 'reg.example', 'address': 'fe80::1%eth0\n203.0.113.66 evil.example'}},
             ['hosts_entry.address', 'control character'], hosts),
        Case('hosts-address-with-zone', {'hosts_entry': {'hostname': 'reg.example', 'address': 'fe80::1%eth0'}},
             ['hosts_entry.address', "'fe80::1%eth0'", 'zone'], hosts),
        Case('hosts-address-not-an-ip', {'hosts_entry': {'hostname': 'reg.example', 'address': '192.0.2'}},
             ['hosts_entry.address', "'192.0.2'", 'IPv4 or IPv6'], hosts),
        Case('hosts-hostname-with-space', {'hosts_entry': {'hostname': 'reg example', 'address': '192.0.2.10'}},
             ['hosts_entry.hostname', "'reg example'"], hosts),
        Case('hosts-hostname-with-newline',
             {'hosts_entry': {'hostname': 'reg.example\n203.0.113.66 evil', 'address': '192.0.2.10'}},
             ['hosts_entry.hostname', 'control character'], hosts),
        Case('hosts-hostname-too-long', {'hosts_entry': {'hostname': 'a' * 300, 'address': '192.0.2.10'}},
             ['hosts_entry.hostname', 'DNS name'], hosts),
        Case('hosts-file-not-utf8', {'hosts_entry': {'hostname': 'reg.example', 'address': '192.0.2.10'}},
             ['hosts_path', '/hosts', 'UTF-8'], {'hosts': b'127.0.0.1 localhost caf\xe9\n'}),
        Case('hosts-file-is-a-directory', {'hosts_entry': {'hostname': 'reg.example', 'address': '192.0.2.10'}},
             ['hosts_path', '/hosts', 'directory'], {'hosts': DIR}),
        Case('ca-followed-by-a-private-key', {'ca_content': cert + key},
             ['ca_content', 'PRIVATE KEY', 'CERTIFICATE'], forbid=key_lines),
        Case('ca-is-a-private-key', {'ca_content': key}, ['ca_content', 'PRIVATE KEY'], forbid=key_lines),
        Case('ca-not-pem', {'ca_content': 'hello'}, ['ca_content', 'CERTIFICATE']),
        Case('ca-bad-base64', {'ca_content': '-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n'},
             ['ca_content', 'base64']),
        Case('ca-file-is-a-directory', {'ca_content': cert}, ['ca.crt', 'directory'],
             {'certs.d/reg.example:5000/ca.crt': DIR}),
        Case('mirror-with-credentials', {'mirrors': ['https://alice:%s@mirror.example' % MIRROR_PASSWORD]},
             ['mirrors', 'mirror.example', 'credentials'], forbid=[MIRROR_PASSWORD, 'alice:']),
        Case('mirror-not-a-url', {'mirrors': ['mirror.example']}, ['mirrors', "'mirror.example'", 'http(s)://']),
        Case('daemon-json-is-a-list', {'insecure': True}, ['daemon.json', 'list'], {'daemon.json': b'[]\n'}),
        Case('daemon-json-nan', {'insecure': True}, ['daemon.json', 'NaN'], {'daemon.json': b'{"debug": NaN}\n'}),
        Case('daemon-json-deeply-nested', {'insecure': True}, ['daemon.json', 'nested'], {'daemon.json': DEEP}),
        Case('daemon-json-not-utf8', {'insecure': True}, ['daemon.json', 'UTF-8'],
             {'daemon.json': b'{"labels": ["caf\xe9"]}\n'}),
        Case('daemon-json-is-a-directory', {'insecure': True}, ['daemon.json', 'directory'], {'daemon.json': DIR}),
        Case('daemon-json-insecure-is-a-string', {'insecure': True}, ['insecure-registries', 'list'],
             {'daemon.json': b'{"insecure-registries": "reg.example:5000"}\n'}),
        Case('config-json-auths-is-a-list', {'login': LOGIN}, ['config.json', 'auths', 'list'],
             {'docker/config.json': b'{"auths": []}\n'}),
        Case('config-json-auth-is-a-number', {'login': LOGIN}, ['config.json', 'auth', REG],
             {'docker/config.json': b'{"auths": {"reg.example:5000": {"auth": 5}}}\n'}),
        Case('config-json-entry-is-a-string', {'login': LOGIN}, ['config.json', REG],
             {'docker/config.json': b'{"auths": {"reg.example:5000": "x"}}\n'}),
        Case('config-json-cred-helpers-is-a-list', {'login': LOGIN}, ['config.json', 'credHelpers'],
             {'docker/config.json': b'{"credHelpers": ["reg.example:5000"]}\n'}),
        Case('config-json-is-a-list', {'login': LOGIN}, ['config.json', 'list'], {'docker/config.json': b'[]\n'}),
        Case('config-json-not-utf8', {'login': LOGIN}, ['config.json', 'UTF-8'],
             {'docker/config.json': b'{"x": "caf\xe9"}\n'}),
        Case('login-user-with-colon', {'login': {'username': 'ali:ce', 'password': PASSWORD}},
             ['login.username', "'ali:ce'", ':']),
        Case('login-empty-password', {'login': {'username': USER, 'password': ''}}, ['login.password', 'empty']),
        Case('apply-restart', {'apply': 'restart'}, ['apply', 'auto, reload, none']),
        # runtimes, and the containerd / containers / record files behind them
        Case('runtimes-auto-and-a-list', {'runtimes': ['auto', 'containerd']}, ['runtimes', 'auto cannot be combined']),
        Case('runtimes-unknown', {'runtimes': ['cri-o']}, ['runtimes', 'cri-o', 'docker, containerd, containers']),
        Case('state-unknown', {'state': 'gone'}, ['state', 'gone', 'present, absent']),
        Case('containerd-config-not-toml', {'runtimes': ['containerd'], 'insecure': True},
             ['containerd/config.toml', 'not valid TOML'], {'containerd/config.toml': b'version = 2\n[plugins\n'}),
        Case('containerd-config-legacy-mirrors', {'runtimes': ['containerd'], 'insecure': True},
             ['containerd/config.toml', 'mirrors."docker.io"', 'containerd_migrate'], {'containerd/config.toml': LEGACY}),
        Case('containerd-config-legacy-inline', {'runtimes': ['containerd'], 'insecure': True,
                                                 'containerd_migrate': True},
             ['containerd/config.toml', 'cannot remove the legacy registry settings'],
             {'containerd/config.toml': LEGACY_INLINE}),
        Case('containerd-config-version-string', {'runtimes': ['containerd'], 'insecure': True},
             ['containerd/config.toml', "version = '2'"], {'containerd/config.toml': b'version = "2"\n'}),
        Case('containerd-config-not-utf8', {'runtimes': ['containerd'], 'insecure': True},
             ['containerd_config', 'UTF-8'], {'containerd/config.toml': b'version = 2\n# caf\xe9\n'}),
        Case('containerd-config-is-a-directory', {'runtimes': ['containerd'], 'insecure': True},
             ['containerd_config', 'directory'], {'containerd/config.toml': DIR}),
        Case('containerd-foreign-docker-io-hosts', {'runtimes': ['containerd'], 'insecure': True,
                                                    'mirrors': ['https://mirror.example']},
             ['docker.io/hosts.toml', 'not written by berth.registry'],
             {'containerd/certs.d/docker.io/hosts.toml': b'server = "https://registry-1.docker.io"\n'}),
        Case('containerd-hosts-toml-is-a-directory', {'runtimes': ['containerd'], 'insecure': True},
             ['containerd_certs_dir', 'hosts.toml', 'directory'], {'containerd/certs.d/%s/hosts.toml' % REG: DIR}),
        Case('containers-drop-in-is-a-directory', {'runtimes': ['containers'], 'insecure': True},
             ['containers_registries_d', '50-berth-registry-reg.example_5000.conf', 'directory'],
             {'containers/registries.conf.d/50-berth-registry-reg.example_5000.conf': DIR}),
        Case('containers-auth-json-is-a-list', {'runtimes': ['containers'], 'login': LOGIN},
             ['containers/auth.json', 'list'], {'containers/auth.json': b'[]\n'}),
        Case('record-is-not-ours', {'mirrors': ['https://mirror.example']}, ['record.json', 'object of lists'],
             {'record.json': b'{"mirrors": ["https://mirror.example"]}\n'}),
        Case('record-not-json', {'mirrors': ['https://mirror.example']}, ['record.json', 'not valid JSON'],
             {'record.json': b'{"mirrors": \n'}),
    ]


LEGACY = (b'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
          b'  endpoint = ["https://mirror.example"]\n')
LEGACY_INLINE = (b'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
                 b'  mirrors = { "docker.io" = { endpoint = [\n    "https://mirror.example"] } }\n')


def test_bad_inputs_fail_clearly_and_change_nothing(tmp_path):
    cert, key = _key_and_cert(tmp_path)
    cases = bad_cases(cert, key) + client_cert_cases(cert, key, _encrypted(tmp_path))
    dirs = _bad_inputs.build(str(tmp_path), cases)
    before = {name: _bad_inputs.snapshot(path) for name, path in dirs.items()}
    res = run_playbook(BAD_PLAYBOOK, inventory=_inventory(str(tmp_path)),
                       extra_vars={'workdir': str(tmp_path), 'cases': [dict(c.args, name=c.name) for c in cases]})
    assert res.rc == 0, str(res)
    with open(tmp_path / 'results.json') as f:
        results = json.load(f)
    found = _bad_inputs.problems(cases, results, dirs, before)
    assert not found, '\n'.join(found)


def test_no_secret_in_any_output(bed, tmp_path):
    """-vvv --diff, check and real, first run and rerun: no password, no stored auth, no proxy password, no key."""
    proxy_password = marker('proxy-password')
    daemon_json = tmp_path / 'daemon.json'
    daemon_json.write_text(json.dumps({'proxies': {'http-proxy': 'http://build:%s@proxy.example:3128'
                                                                 % proxy_password}}) + '\n')
    config = str(tmp_path / 'docker' / 'config.json')
    # the engine's own certs.d (it reads no other); daemon.json is a copy of our own that it does not read
    module_vars = params(bed, rc_daemon_config_path=str(daemon_json), rc_apply='none', rc_insecure=True,
                         rc_hosts_path=str(tmp_path / 'hosts'),
                         rc_login={'username': USER, 'password': PASSWORD, 'config_path': config})
    markers = [PASSWORD, basic_auth(USER, PASSWORD), proxy_password]
    # this node's client certificate (mutual TLS): the key never shows, nor its replacement
    (tmp_path / 'pair').mkdir()
    for round_ in ('first', 'renewed'):
        (tmp_path / 'pair' / 'ca.key').unlink(missing_ok=True)
        client_cert, client_key = _key_and_cert(tmp_path / 'pair')
        module_vars = params(bed, rc_certs_dir=str(tmp_path / 'certs.d'), rc_check=False, rc_login=None,
                             rc_hosts_entry=None, rc_daemon_config_path=str(daemon_json), rc_apply='none',
                             rc_client_certificate={'cert': client_cert, 'key': client_key})
        for check, changed in ((True, 1), (False, 1), (True, 0), (False, 0)):
            res, result = run(bed, tmp_path, module_vars, check=check, verbose=True)
            assert res.rc == 0 and res.changed('localhost') == changed, str(res)
            assert_no_leaks(res, pem_body_lines(client_key), 'registry_client client_certificate (%s)' % round_)
        with open(str(tmp_path / 'certs.d' / TEST_ADDRESS / 'client.key')) as f:
            assert f.read() == client_key  # the markers are real: what the file holds
    module_vars = params(bed, rc_daemon_config_path=str(daemon_json), rc_apply='none', rc_insecure=True,
                         rc_hosts_path=str(tmp_path / 'hosts'),
                         rc_login={'username': USER, 'password': PASSWORD, 'config_path': config})
    for check, changed in ((True, 1), (False, 1), (True, 0), (False, 0)):
        res, result = run(bed, tmp_path, module_vars, check=check, verbose=True)
        assert res.rc == 0 and res.changed('localhost') == changed, str(res)
        assert_no_leaks(res, markers, 'registry_client')
    with open(config) as f:
        assert basic_auth(USER, PASSWORD) in f.read()  # the marker is real: it is what the file holds
    cert, key = _key_and_cert(tmp_path)
    res, result = run(bed, tmp_path, dict(module_vars, rc_ca_content=cert + key), verbose=True, expect_failure=True)
    assert result['failed'] and 'PRIVATE KEY' in result['msg']
    assert_no_leaks(res, pem_body_lines(key), 'registry_client with a key in ca_content')
