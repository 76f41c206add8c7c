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

from bed.playbook import run_playbook

from _throwaway_dockerd import TEST_ADDRESS, Engine, make_registry_files

PLAYBOOK = os.path.join(os.path.dirname(__file__), 'playbooks', 'registry_client', 'run.yml')
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


def run(bed, tmp_path, module_vars, check=False, expect_failure=False):
    result_file = str(tmp_path / 'result.json')
    extra = dict(module_vars, result_file=result_file, expect_failure=expect_failure)
    res = run_playbook(PLAYBOOK, inventory=bed['inventory'], extra_vars=extra, check=check, diff=True)
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


def four_steps(bed, tmp_path, module_vars, changes):
    eng = bed['engine']
    before, pid = snapshot(bed), eng.pid
    res, result = run(bed, tmp_path, module_vars, check=True)
    assert res.rc == 0 and res.changed('localhost') == 1, str(res)
    assert result['changes'] == changes and snapshot(bed) == before and eng.pid == pid
    assert PASSWORD not in res.stdout + json.dumps(result)
    res, first = run(bed, tmp_path, module_vars)
    assert res.rc == 0 and res.changed('localhost') == 1, str(res)
    assert first['changes'] == changes and not first['restarted']
    assert PASSWORD not in res.stdout
    res, result = run(bed, tmp_path, module_vars, check=True)
    assert res.rc == 0 and res.changed('localhost') == 0, str(res)
    res, second = run(bed, tmp_path, module_vars)
    assert res.rc == 0 and res.changed('localhost') == 0 and second['changes'] == [], str(res)
    assert eng.pid == pid  # never a restart
    return first, second


def test_fresh_rollout_plain_mode(bed, tmp_path):
    eng = bed['engine']
    first, second = four_steps(bed, tmp_path, params(bed, rc_insecure=True), ['ca', 'daemon.json', 'hosts', 'login'])
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
    first, dummy = four_steps(bed, tmp_path, params(bed, rc_insecure=False), ['daemon.json'])
    with open(eng.daemon_json) as f:
        assert json.load(f)['insecure-registries'] == []
    assert eng.insecure_registries() == []
    assert first['check'].startswith('reachable and trusted (anonymous')  # now through verified TLS


def test_hosts_address_change_replaces_the_line(bed, tmp_path):
    moved = params(bed, rc_hosts_entry={'hostname': 'registry.berth.test', 'address': '198.18.0.11'}, rc_check=False)
    first, dummy = four_steps(bed, tmp_path, moved, ['hosts'])
    with open(bed['hosts']) as f:
        assert f.read() == HOSTS + '198.18.0.11 registry.berth.test\n'
    assert {d['before_header'] for d in first['diff']} == {'hosts: %s' % bed['hosts']}
    assert first['diff'][0]['before'] == '%s registry.berth.test\n' % TEST_ADDRESS
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
    assert result['failed'] and result['changes'] == ['ca']
    assert 'x509: certificate signed by unknown authority' in result['msg'], result
    res, result = run(bed, tmp_path, params(bed))
    assert res.rc == 0 and result['changes'] == ['ca'] and result['check'].startswith('reachable and trusted')


def test_bind_mounted_hosts_file_is_rewritten_in_place(tmp_path):
    """/etc/hosts in a container is a bind mount: the new text must reach the mounted file."""
    source, target = tmp_path / 'engine-hosts', tmp_path / 'hosts'
    source.write_text(HOSTS)
    target.write_text('target before mount\n')
    collections = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                               '.build', 'collections')
    code = ('import sys; sys.path.insert(0, %r)\n'
            'from ansible_collections.berth.registry.plugins.module_utils._hosts_file import plan_hosts, write_hosts\n'
            'text = open(%r).read()\n'
            'print(write_hosts(%r, plan_hosts(text, "registry.berth.test", %r)[0].encode()))\n'
            % (collections, str(target), str(target), TEST_ADDRESS))
    proc = subprocess.run(['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c',
                           'mount --bind "$1" "$2" && exec /usr/bin/python3 -c "$3"', 'sh', str(source), str(target),
                           code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == 'in-place', proc.stderr
    assert source.read_text() == HOSTS + '%s registry.berth.test\n' % TEST_ADDRESS
    assert target.read_text() == 'target before mount\n'
