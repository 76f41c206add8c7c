"""ServerRequest: the action's controller side, from validated options to the host module's arguments."""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_server.controller import ServerRequest, parse_address
from ansible_collections.berth.registry.plugins.module_utils._registry_server.options import server_argument_spec

PASSWORD = 'Mk-3f9c1e-PASSWORD-7d2a'
PASSPHRASE = 'Mk-7a7b7c-PASSPHRASE-1e1f'
READER = {'name': 'reader', 'password': 'Mk-0a0b0c-READERPW-1d1e', 'access': 'pull'}
S3_KEY, S3_SECRET = 'MKACCESSKEY3F9C1E7D2A', 'Mk-a1b2c3-S3SECRET-9e8f-0123456789abcdef'


def args(tmp_path, **values):
    params = dict(pki_dir=str(tmp_path / 'pki'), config_dir=str(tmp_path / 'conf'),
                  certificate={'dns_names': ['reg.example']}, users=[{'name': 'admin', 'password': PASSWORD}])
    params.update(values)
    result = ArgumentSpecValidator(server_argument_spec()).validate(params)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


@pytest.mark.parametrize('values, words', [
    (dict(users=[]), ['no users', 'allow_anonymous_push', 'registry_allow_anonymous_push']),
    (dict(users=[], tls=False), ['no TLS, no authentication']),
    (dict(users=[{'name': 'gone', 'state': 'absent'}]), ['no users']),
    (dict(port=0), ['port: 0 must be 1..65535']),
    (dict(metrics_address='localhost:5001'), ['metrics_address', 'not an IPv4 or IPv6 address']),
    (dict(metrics_address='127.0.0.1'), ['metrics_address', 'ADDRESS:PORT']),
    (dict(metrics_address='127.0.0.1:443'), ["the registry's own port"]),
    (dict(tls=False, tls_files={'cert': '/c', 'key': '/k', 'ca': '/a'}), ['tls_files', 'tls is false']),
    (dict(storage={'s3': {'bucket': 'b'}}), ['storage.s3', 'region is required']),
    (dict(packages=['python3-docker', 'bad name']), ['packages', 'bad name']),
    (dict(bind_address='not-an-address'), ['bind_address']),
    (dict(tls=False, users=[READER]), ['users with access: pull (reader) needs tls (registry_tls)']),
    (dict(client_certificates={'enabled': True}, tls_files={'cert': '/c', 'key': '/k', 'ca': '/a'}),
     ['client_certificates.enabled (registry_client_certificates) needs our own CA', 'tls_files']),
    (dict(client_certificates={'enabled': True}, users=[], allow_anonymous_push=True), ['needs users']),
    (dict(users=[READER], frontend_upstream_port=443), ['frontend_upstream_port (registry_frontend_upstream_port): 443', 'not the registry port']),
    (dict(users=[READER], metrics_address='127.0.0.1:5000'), ['metrics_address: port 5000 is frontend_upstream_port']),
])
def test_refused_before_anything_is_made(tmp_path, values, words):
    with pytest.raises(BerthError) as info:
        ServerRequest(args(tmp_path, **values)).prepare()
    for word in words:
        assert word in str(info.value)
    assert not (tmp_path / 'pki').exists()


def test_anonymous_push_is_a_stated_choice_and_warned(tmp_path):
    request = ServerRequest(args(tmp_path, users=[], tls=False, allow_anonymous_push=True))
    assert request.port == 5000 and request.warnings[0].startswith('no TLS, no authentication: anyone who reaches port 5000')
    request.prepare()
    assert 'auth' not in request.config and request.tls is None
    with_users = ServerRequest(args(tmp_path, tls=False))
    assert with_users.warnings == ['no TLS: passwords and images cross the network unencrypted on port 5000']


def test_addresses():
    assert parse_address('127.0.0.1:5001', 'm') == ('127.0.0.1', 5001)
    assert parse_address('[::1]:5001', 'm') == ('::1', 5001)
    assert parse_address(':9001', 'm') == ('0.0.0.0', 9001)


def test_host_arguments_carry_secrets_only_in_no_log_options(tmp_path):
    storage = {'s3': {'region': 'r', 'bucket': 'b', 'accesskey': S3_KEY, 'secretkey': S3_SECRET}}
    request = ServerRequest(args(tmp_path, storage=storage, ca={'passphrase': PASSPHRASE},
                                 container={'secret_env': {'OTHER_TOKEN': 'Mk-556677-ENVTOKEN-8899'}})).prepare()
    host = request.host_args()
    assert yaml.safe_load(host['config'])['storage']['s3']['secretkey'] == S3_SECRET
    assert host['container']['ports'] == [{'host_port': 443, 'container_port': 443, 'bind_address': '0.0.0.0'},
                                          {'host_port': 5001, 'container_port': 5001, 'bind_address': '127.0.0.1'}]
    assert host['container']['probe'] == {'scheme': 'https', 'timeout': 60}
    shown = json.dumps(dict((k, v) for k, v in host.items() if k not in ('config', 'tls', 'users', 'secrets', 'container')))
    for secret in (S3_KEY, S3_SECRET, PASSWORD, PASSPHRASE):
        assert secret not in shown
    for secret in (S3_KEY, S3_SECRET, PASSWORD, PASSPHRASE, 'Mk-556677-ENVTOKEN-8899'):
        assert secret in request.secret_values
    assert b'ENCRYPTED' in (tmp_path / 'pki' / 'ca.key').read_bytes()


def test_check_mode_on_a_fresh_controller_writes_nothing_and_combines(tmp_path):
    request = ServerRequest(args(tmp_path), check_mode=True).prepare()
    assert not (tmp_path / 'pki').exists() and request.tls.pending
    assert request.host_args()['tls'] == {'pending': True}
    assert 'pending-http-secret' in request.config_text
    host = {'changed': True, 'differences': [{'field': 'container', 'before': None, 'after': 'running'}],
            'diff': {'before': {}, 'after': {'container': 'running'}}, 'users': ['admin'],
            'container': {'name': 'registry', 'found': False}, 'missing_packages': ['python3-docker']}
    result = request.combine(host, diff_mode=True)
    assert [d['field'] for d in result['differences']] == ['pki_dir', 'ca', 'certificate', 'http.secret', 'container']
    assert result['changed'] and len(result['diff']) == 2 and result['missing_packages'] == ['python3-docker']
    assert result['metrics_url'] == 'http://127.0.0.1:5001/metrics' and result['ca'] is None
    converged = ServerRequest(args(tmp_path)).prepare()
    quiet = converged.combine({'changed': False, 'differences': []}, diff_mode=True, installed=['python3-bcrypt'])
    assert quiet['differences'][-1] == {'field': 'package python3-bcrypt', 'before': None, 'after': 'present'}
    assert quiet['certificate']['dns_names'] == ['reg.example']


def test_without_pull_users_or_mutual_tls_nothing_changes(tmp_path):
    host = ServerRequest(args(tmp_path)).prepare().host_args()
    assert host['frontend'] is None and 'nginx' not in host['packages']
    config = yaml.safe_load(host['config'])
    assert config['http']['addr'] == ':443' and 'tls' in config['http'] and 'htpasswd' in config['auth']


def test_a_pull_user_puts_nginx_in_front_and_the_registry_on_loopback(tmp_path):
    users = [{'name': 'admin', 'password': PASSWORD}, READER]
    request = ServerRequest(args(tmp_path, users=users, config={'http': {'tls': {'minimumtls': 'tls1.2'}}})).prepare()
    host = request.host_args()
    assert host['packages'] == ['python3-docker', 'python3-bcrypt', 'nginx']
    assert host['frontend'] == {'port': 443, 'upstream_port': 5000, 'server_names': ['reg.example'],
                                'realm': 'basic-realm'}
    assert host['container']['ports'][0] == {'host_port': 5000, 'container_port': 5000, 'bind_address': '127.0.0.1'}
    assert host['container']['probe']['scheme'] == 'http'
    config = yaml.safe_load(host['config'])
    assert config['http']['addr'] == ':5000' and 'tls' not in config['http'] and 'auth' not in config
    assert [u.get('access') for u in host['users']] == ['push', 'pull']


def test_mutual_tls_issues_client_pairs_and_revokes_those_that_left(tmp_path):
    first = ServerRequest(args(tmp_path, client_certificates={'enabled': True, 'nodes': ['node1', 'node2']})).prepare()
    option = first.host_args()['frontend']
    assert 'BEGIN CERTIFICATE' in option['client_ca'] and 'BEGIN X509 CRL' in option['crl']
    assert option['crl_summary'] == 'revoked: none'
    clients = tmp_path / 'pki' / 'clients'
    assert sorted(p.name for p in clients.glob('*.key')) == ['node1.key', 'node2.key']
    assert sorted(first.clients.certificates()) == ['node1', 'node2']
    again = ServerRequest(args(tmp_path, client_certificates={'enabled': True, 'nodes': ['node1', 'node2']})).prepare()
    assert not again.differences
    left = ServerRequest(args(tmp_path, client_certificates={'enabled': True, 'nodes': ['node1']})).prepare()
    assert 'client node2' in [d['field'] for d in left.differences.as_list()]
    assert left.host_args()['frontend']['crl_summary'].startswith('revoked: node2 (serial ')
    assert not (clients / 'node2.key').exists()


def test_mutual_tls_in_check_mode_on_a_fresh_controller_writes_nothing(tmp_path):
    request = ServerRequest(args(tmp_path, client_certificates={'enabled': True, 'nodes': ['node1']}), True).prepare()
    assert 'client certificates' in [d['field'] for d in request.differences.as_list()]
    assert request.host_args()['frontend']['client_ca'].startswith('pending')
    assert not (tmp_path / 'pki').exists()
