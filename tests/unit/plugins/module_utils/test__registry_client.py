"""The registry_client driver run as the module runs (AnsibleModule + run_module), on files in tmp_path.

No engine here (apply=none, no login, no check): the integration tests drive a real dockerd.
"""

import base64
import json
import os

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
                apply='none', validate=False)
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
                              'docker daemon.json registry-mirrors']
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
