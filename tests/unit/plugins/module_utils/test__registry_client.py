"""The registry_client driver run as the module runs (AnsibleModule + run_module), on files in tmp_path.

No engine here (apply=none, no login, no check): the integration tests drive a real dockerd.
"""

import base64
import hashlib
import json
import os
import tomllib

import jsonschema
import pytest
import yaml

from ansible_collections.berth.registry.plugins.module_utils._registry_client import RegistryClient, argument_spec

PEM = '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % base64.b64encode(b'\x30\x03\x02\x01\x01').decode()
KEY_BODY = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKeyBytesThatMustNeverShow'
KEY = '-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n' % KEY_BODY
PROXY_PASSWORD = 'Mk-3f9c1e-PROXY-7d2a'
MIRROR_PASSWORD = 'Mk-6a0d2c-MIRROR-1e9b'


def run(run_driver, tmp_path, check_mode=False, **params):
    args = dict(registry='registry.berth.test', certs_dir=str(tmp_path / 'certs.d'),
                hosts_path=str(tmp_path / 'hosts'), daemon_config_path=str(tmp_path / 'daemon.json'),
                docker_host='unix://%s' % (tmp_path / 'none.sock'), pid_file=str(tmp_path / 'none.pid'),
                apply='none', validate=False, runtimes=['docker'], record_path=str(tmp_path / 'record.json'))
    args.update(params)
    return run_driver(argument_spec(), RegistryClient, args, check_mode)


def fields(result):
    return [d['field'] for d in result['differences']]


def test_tls_drops_the_hosts_insecure_entries_on_any_port(run_driver, tmp_path):
    (tmp_path / 'daemon.json').write_text(json.dumps({'insecure-registries': [
        'registry.berth.test:5000', 'other.berth.test:5000', '10.0.0.0/8', 'registry.berth.test']}))
    result, dummy = run(run_driver, tmp_path, check_mode=True)
    assert result['differences'] == [{'field': 'docker daemon.json insecure-registries',
                                      'before': ['registry.berth.test:5000', 'other.berth.test:5000', '10.0.0.0/8',
                                                 'registry.berth.test'],
                                      'after': ['other.berth.test:5000', '10.0.0.0/8']}]
    assert result['applied'] == 'none' and result['changed']  # apply=none: nothing to apply, even for real


def test_plain_http_adds_the_entry_once(run_driver, tmp_path):
    for changed in (True, False):
        result, dummy = run(run_driver, tmp_path, registry='Registry.Berth.Test:5000', insecure=True)
        assert result['changed'] is changed
    assert json.loads((tmp_path / 'daemon.json').read_text()) == {'insecure-registries': ['registry.berth.test:5000']}
    assert (tmp_path / 'daemon.json').stat().st_mode & 0o777 == 0o644


def test_nothing_to_remove_writes_nothing(run_driver, tmp_path):
    result, dummy = run(run_driver, tmp_path)
    assert not result['changed'] and result['differences'] == [] and not (tmp_path / 'daemon.json').exists()


def test_every_part_planned_in_check_mode_then_applied_then_unchanged(run_driver, tmp_path):
    (tmp_path / 'hosts').write_bytes(b'127.0.0.1 localhost\r\n')
    params = dict(ca_content='subject=CN=test\n' + PEM, mirrors=['https://mirror.example'],
                  hosts_entry={'hostname': 'Registry.Berth.Test', 'address': '192.0.2.10'})
    result, dummy = run(run_driver, tmp_path, check_mode=True, **params)
    ca = [str(tmp_path / 'certs.d' / name / 'ca.crt') for name in ('registry.berth.test:443', 'registry.berth.test')]
    assert fields(result) == ['hosts %s' % (tmp_path / 'hosts'), 'docker CA %s' % ca[0], 'docker CA %s' % ca[1],
                              'docker daemon.json registry-mirrors',
                              'record %s mirrors of registry.berth.test' % (tmp_path / 'record.json')]
    assert result['ca_paths'] == ca and not (tmp_path / 'certs.d').exists()
    assert result['diff'][1] == {'before_header': 'hosts %s' % (tmp_path / 'hosts'),
                                 'after_header': 'hosts %s' % (tmp_path / 'hosts'),
                                 'before': '', 'after': '192.0.2.10 registry.berth.test\n'}
    result, dummy = run(run_driver, tmp_path, **params)
    assert result['changed'] and (tmp_path / 'certs.d' / 'registry.berth.test' / 'ca.crt').read_text() == PEM
    assert (tmp_path / 'certs.d' / 'registry.berth.test').stat().st_mode & 0o777 == 0o755
    assert (tmp_path / 'certs.d' / 'registry.berth.test' / 'ca.crt').stat().st_mode & 0o777 == 0o644
    assert (tmp_path / 'hosts').read_bytes() == b'127.0.0.1 localhost\r\n192.0.2.10 registry.berth.test\r\n'
    for check_mode in (True, False):
        result, dummy = run(run_driver, tmp_path, check_mode=check_mode, **params)
        assert not result['changed'] and result['differences'] == [], result


def test_a_ca_file_with_the_wrong_mode_is_fixed(run_driver, tmp_path):
    run(run_driver, tmp_path, registry='r.test:5000', ca_content=PEM)
    path = tmp_path / 'certs.d' / 'r.test:5000' / 'ca.crt'
    path.chmod(0o600)
    result, dummy = run(run_driver, tmp_path, registry='r.test:5000', ca_content=PEM)
    assert fields(result) == ['docker CA %s mode' % path] and path.stat().st_mode & 0o777 == 0o644


def test_other_daemon_json_keys_never_show(run_driver, tmp_path):
    (tmp_path / 'daemon.json').write_text(json.dumps({'proxies': {'http-proxy': 'http://u:%s@proxy:3128' % PROXY_PASSWORD},
                                                      'insecure-registries': ['registry.berth.test']}))
    result, out = run(run_driver, tmp_path)
    assert fields(result) == ['docker daemon.json insecure-registries'] and PROXY_PASSWORD not in out
    assert PROXY_PASSWORD in (tmp_path / 'daemon.json').read_text()


def test_a_key_in_ca_content_is_refused_and_never_shown(run_driver, tmp_path):
    result, out = run(run_driver, tmp_path, ca_content=PEM + KEY)
    assert result['failed'] and 'PEM block 2 is a PRIVATE KEY' in result['msg']
    assert KEY_BODY not in out and not (tmp_path / 'certs.d').exists()


def test_mirror_credentials_are_refused_and_never_shown(run_driver, tmp_path):
    result, out = run(run_driver, tmp_path, mirrors=['https://alice:%s@mirror.example' % MIRROR_PASSWORD])
    assert result['failed'] and result['msg'] == ("mirrors: 'https://***@mirror.example' must not contain credentials "
                                                  "(user:password@); dockerd refuses them")
    assert MIRROR_PASSWORD not in out


@pytest.mark.parametrize('registry', ['..', '../x', '..:5000', 'https://reg', '.', 'a/../../etc'])
def test_a_registry_that_is_no_host_name_writes_nothing(run_driver, tmp_path, registry):
    result, dummy = run(run_driver, tmp_path, registry=registry, ca_content=PEM)
    assert result['failed'] and result['msg'].startswith('registry: ') and sorted(p.name for p in tmp_path.iterdir()) == []


def test_docker_host_ssh_is_a_message_not_a_traceback(run_driver, tmp_path):
    result, dummy = run(run_driver, tmp_path, docker_host='ssh://h')
    assert result['failed'] and result['msg'].startswith("docker_host: 'ssh://h' is not supported")
    assert 'exception' not in result


def test_the_client_role_offers_the_modules_choices_only():
    """The role passes registry_client_apply to the module's apply: a choice the module refuses fails every host."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(root, 'roles', 'client', 'meta', 'argument_specs.yml')) as f:
        role = yaml.safe_load(f)['argument_specs']['main']['options']
    with open(os.path.join(root, 'roles', 'client', 'defaults', 'main.yml')) as f:
        defaults = yaml.safe_load(f)
    assert role['registry_client_apply']['choices'] == argument_spec()['apply']['choices']
    assert defaults['registry_client_apply'] in argument_spec()['apply']['choices']


# --- every runtime through the driver (files in tmp_path; containerd never restarted here) ---------

SCHEMA = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'docs', 'report.schema.json')
FINGERPRINT = ':'.join('%02X' % b for b in hashlib.sha256(b'\x30\x03\x02\x01\x01').digest())


def every_runtime(tmp_path, **params):
    args = dict(runtimes=['docker', 'containerd', 'containers'], containerd_config=str(tmp_path / 'containerd.toml'),
                containerd_certs_dir=str(tmp_path / 'containerd.d'), containerd_restart=False,
                containers_certs_dir=str(tmp_path / 'containers.d'),
                containers_registries_d=str(tmp_path / 'registries.conf.d'),
                containers_auth_file=str(tmp_path / 'auth.json'))
    args.update(params)
    return args


def tree(tmp_path):
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob('*') if p.is_file())


def test_state_summary_is_what_the_report_reads(run_driver, tmp_path):
    result, dummy = run(run_driver, tmp_path, registry='r.test:5000', ca_content=PEM, mirrors=['https://m.test'],
                        **every_runtime(tmp_path))
    state = result['state']
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.validate(state, dict(schema['$defs']['registry_client_state'], **{'$defs': schema['$defs']}))
    assert state['runtimes'] == [{'name': n, 'present': mock_present, 'configured': True}
                                 for n, mock_present in zip(('docker', 'containerd', 'containers'),
                                                            [r['present'] for r in state['runtimes']])]
    assert [(t['runtime'], t['path'], t['fingerprint_sha256']) for t in state['trusted']] == [
        ('docker', str(tmp_path / 'certs.d' / 'r.test:5000' / 'ca.crt'), FINGERPRINT),
        ('containerd', str(tmp_path / 'containerd.d' / 'r.test:5000' / 'ca.crt'), FINGERPRINT),
        ('containers', str(tmp_path / 'containers.d' / 'r.test:5000' / 'ca.crt'), FINGERPRINT)]
    assert state['registry_keys'] == {'registry-mirrors': ['https://m.test']}  # no daemon.json had no insecure entry
    assert state['login'] is None and state['check'] is None
    assert result['containerd']['restart'] == 'pending' and not result['containerd_restarted']
    assert result['runtimes']['docker'] == {'present': state['runtimes'][0]['present'], 'configured': True,
                                            'reason': result['runtimes']['docker']['reason']}


def test_every_runtime_converges_then_plain_http_to_tls_then_a_mirror_goes_then_absent(run_driver, tmp_path):
    params = every_runtime(tmp_path, registry='r.test:5000', insecure=True, mirrors=['https://m1.test', 'https://m2.test'])
    for check_mode, changed in ((True, True), (False, True), (True, False), (False, False)):
        result, dummy = run(run_driver, tmp_path, check_mode=check_mode, **params)
        assert result['changed'] is changed and not result.get('failed'), result
    assert tree(tmp_path) == [
        'containerd.d/docker.io/hosts.toml', 'containerd.d/r.test:5000/hosts.toml', 'containerd.toml', 'daemon.json',
        'record.json', 'registries.conf.d/50-berth-mirrors.conf', 'registries.conf.d/50-berth-registry-r.test_5000.conf']
    assert json.loads((tmp_path / 'daemon.json').read_text()) == {
        'insecure-registries': ['r.test:5000'], 'registry-mirrors': ['https://m1.test', 'https://m2.test']}

    params.update(insecure=False, ca_content=PEM, mirrors=['https://m2.test'])
    result, dummy = run(run_driver, tmp_path, **params)
    assert result['changed']
    assert json.loads((tmp_path / 'daemon.json').read_text()) == {
        'insecure-registries': [], 'registry-mirrors': ['https://m2.test']}
    assert 'registries.conf.d/50-berth-registry-r.test_5000.conf' not in tree(tmp_path)
    assert 'https://m1.test' not in (tmp_path / 'containerd.d' / 'docker.io' / 'hosts.toml').read_text()
    assert 'm1.test' not in (tmp_path / 'registries.conf.d' / '50-berth-mirrors.conf').read_text()
    assert '"https://r.test:5000"' in (tmp_path / 'containerd.d' / 'r.test:5000' / 'hosts.toml').read_text()

    (tmp_path / 'daemon.json').write_text(json.dumps({'registry-mirrors': ['https://mine.test', 'https://m2.test'],
                                                      'insecure-registries': [], 'debug': True}))
    result, dummy = run(run_driver, tmp_path, state='absent', **every_runtime(tmp_path, registry='r.test:5000'))
    assert result['changed'] and result['state']['trusted'] == [] and all(
        not r['configured'] for r in result['state']['runtimes'])
    assert tree(tmp_path) == ['containerd.toml', 'daemon.json']
    assert json.loads((tmp_path / 'daemon.json').read_text()) == {
        'registry-mirrors': ['https://mine.test'], 'insecure-registries': [], 'debug': True}
    result, dummy = run(run_driver, tmp_path, state='absent', **every_runtime(tmp_path, registry='r.test:5000'))
    assert not result['changed'], result


def test_a_legacy_containerd_config_fails_the_host_before_anything_is_written(run_driver, tmp_path):
    legacy = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r.test:5000".tls]\n'
              '  ca_file = "/etc/ca.pem"\n')
    (tmp_path / 'containerd.toml').write_text(legacy)
    result, dummy = run(run_driver, tmp_path, registry='r.test:5000', ca_content=PEM, **every_runtime(tmp_path))
    assert result['failed'] and 'configs."r.test:5000".tls' in result['msg'] and 'Traceback' not in result['msg']
    assert tree(tmp_path) == ['containerd.toml'] and (tmp_path / 'containerd.toml').read_text() == legacy


def test_absent_takes_the_hosts_line_and_the_login(run_driver, tmp_path):
    (tmp_path / 'hosts').write_text('127.0.0.1 localhost\n192.0.2.10 registry.berth.test reg\n')
    (tmp_path / 'config.json').write_text(json.dumps({'auths': {'registry.berth.test': {'auth': 'YTpi'}}}))
    result, dummy = run(run_driver, tmp_path, state='absent', login={
        'username': 'a', 'password': 'Mk-3f9c1e-PASSWORD-7d2a', 'config_path': str(tmp_path / 'config.json')},
        hosts_entry={'hostname': 'registry.berth.test', 'address': '192.0.2.10'})
    assert result['changed'] and json.loads((tmp_path / 'config.json').read_text()) == {'auths': {}}
    assert (tmp_path / 'hosts').read_text() == '127.0.0.1 localhost\n192.0.2.10 reg\n'


def test_auto_with_a_list_is_refused(run_driver, tmp_path):
    result, dummy = run(run_driver, tmp_path, runtimes=['auto', 'docker'])
    assert result['failed'] and result['msg'] == ('runtimes: auto cannot be combined with a list (auto, docker): give '
                                                  'auto alone or list the runtimes') and tree(tmp_path) == []


def test_absent_after_a_port_change_takes_the_mirrors_and_writes_nothing_new(run_driver, tmp_path):
    http = every_runtime(tmp_path, registry='r.test:5000', insecure=True, mirrors=['https://m.test'])
    run(run_driver, tmp_path, **http)
    run(run_driver, tmp_path, **dict(http, registry='r.test', insecure=False, ca_content=PEM))
    assert json.loads((tmp_path / 'record.json').read_text()) == {'mirrors': {'r.test': ['https://m.test']}}
    result, dummy = run(run_driver, tmp_path, state='absent', mirrors=['https://m.test'],
                        **every_runtime(tmp_path, registry='r.test'))
    assert not result.get('failed'), result
    assert tree(tmp_path) == ['containerd.toml', 'daemon.json']
    assert json.loads((tmp_path / 'daemon.json').read_text()) == {'insecure-registries': [], 'registry-mirrors': []}


def test_absent_on_a_host_without_the_runtimes_files_writes_nothing(run_driver, tmp_path):
    (tmp_path / 'record.json').write_text(json.dumps({'mirrors': {'other.test': ['https://m.test']}}))
    result, dummy = run(run_driver, tmp_path, state='absent', **every_runtime(tmp_path, registry='r.test'))
    assert not result["changed"] and tree(tmp_path) == ["record.json"], result["differences"]


def test_pull_through_caches_in_every_runtime_that_has_mirrors(run_driver, tmp_path):
    (tmp_path / 'containerd.d' / 'cache.test').mkdir(parents=True)
    (tmp_path / 'containerd.d' / 'cache.test' / 'ca.crt').write_text(PEM)
    params = every_runtime(tmp_path, registry='r.test', ca_content=PEM, caches=['cache.test', 'cache.test:443'])
    for check_mode, changed in ((True, True), (False, True), (True, False), (False, False)):
        result, dummy = run(run_driver, tmp_path, check_mode=check_mode, **params)
        assert result['changed'] is changed and not result.get('failed'), result
    hosts = tomllib.loads((tmp_path / 'containerd.d' / 'r.test:443' / 'hosts.toml').read_text())
    assert list(hosts['host']) == ['https://cache.test', 'https://r.test']
    assert hosts['host']['https://cache.test']['ca'] == str(tmp_path / 'containerd.d' / 'cache.test' / 'ca.crt')
    dropin = tomllib.loads((tmp_path / 'registries.conf.d' / '50-berth-registry-r.test.conf').read_text())
    assert dropin == {'registry': [{'location': 'r.test', 'mirror': [{'location': 'cache.test'}]}]}
    assert 'Docker Hub only' in result['caches']
    result, dummy = run(run_driver, tmp_path, **dict(params, caches=[]))
    assert result['changed'] and not (tmp_path / 'registries.conf.d' / '50-berth-registry-r.test.conf').exists()
    assert 'cache.test' not in (tmp_path / 'containerd.d' / 'r.test:443' / 'hosts.toml').read_text()


def test_a_registry_cannot_be_its_own_cache(run_driver, tmp_path):
    result, dummy = run(run_driver, tmp_path, **every_runtime(tmp_path, registry='r.test:5000', caches=['r.test:5000']))
    assert result['failed'] and "caches: 'r.test:5000' is the registry itself" in result['msg']
