"""The doctor's walk against a local registry stand-in: each broken step named, and nothing else."""

from __future__ import annotations

import base64
import json
import os
import re
import socket

import pytest

import certfactory
from fakeregistry import FakeRegistry, free_port

NAME = 'registry.berth.test'
PASSWORD = 'Mk-3f9c1e-PASSWORD-7d2a'


@pytest.fixture(scope='module')
def pki():
    ca = certfactory.make_ca('registry.berth.test CA', 'berth.registry')
    return {
        'ca': ca,
        'server': certfactory.make_server(ca),
        'other_ca': certfactory.make_ca('Other CA'),
        'expired': certfactory.make_server(ca, expired_days_ago=2),
        'wrong_name': certfactory.make_server(ca, dns_names=('elsewhere.berth.test',), ip_addresses=()),
    }


def trust(host, pki, ca=None, endpoint=None):
    host.write('docker/certs.d/%s/ca.crt' % endpoint, (ca or pki['ca']).pem)


def login(host, password=PASSWORD, endpoint=None, path='root/config.json'):
    auth = base64.b64encode(('admin:%s' % password).encode()).decode()
    host.write(path, json.dumps({'auths': {endpoint: {'auth': auth}}}))


def by_step(result, runtime='docker'):
    view = next(r for r in result['runtimes'] if r['name'] == runtime)
    return dict((s['step'], s) for s in view['steps'])


def endpoint(reg):
    return '%s:%d' % (NAME, reg.port)


def test_healthy_registry_is_ok_with_every_step_shown(host, pki):
    with FakeRegistry(pki['server'], users={'admin': PASSWORD}) as reg:
        trust(host, pki, endpoint=endpoint(reg))
        login(host, endpoint=endpoint(reg))
        result = host.run(registry=endpoint(reg), address='127.0.0.1', ca_content=pki['ca'].pem)
    assert result['changed'] is False and result['differences'] == []
    assert result['status'] == 'ok', result['verdict']
    assert result['verdict'].startswith('client1: OK %s -> 127.0.0.1:%d' % (endpoint(reg), reg.port))
    assert 'login admin valid' in result['verdict'] and '[docker]' in result['verdict']
    steps = by_step(result)
    assert [s['status'] for s in steps.values()] == ['ok'] * 11
    assert steps['tls-chain']['signer'] == pki['ca'].fingerprint
    assert result['registry']['certificate']['fingerprint_sha256'] == pki['server'].fingerprint
    assert result['runtimes'][0]['trusted'][0]['certificates'][0]['current'] is True
    text = json.dumps(result)
    assert PASSWORD not in text and base64.b64encode(('admin:%s' % PASSWORD).encode()).decode() not in text
    assert [r['name'] for r in result['runtimes']] == ['docker', 'containerd', 'containers']
    assert result['runtimes'][2]['reason'].startswith('not installed')


def test_wrong_hosts_line_is_named_with_the_line(host, pki):
    host.addresses[NAME] = ['127.0.0.9']
    host.write('hosts', '127.0.0.1 localhost\n127.0.0.9 registry.berth.test # moved\n')
    result = host.run(registry=NAME, address='127.0.0.1', ca_content=pki['ca'].pem)
    assert result['failed_step'] == 'resolve'
    assert ('client1: FAIL resolve: registry.berth.test resolves to 127.0.0.9 (from %s line 2: '
            "'127.0.0.9 registry.berth.test # moved'), expected 127.0.0.1" % host.path('hosts')) in result['verdict']
    assert by_step(result)['tcp']['status'] == 'skip'


def test_unresolvable_name(host, pki):
    result = host.run(registry='nowhere.berth.test', address='127.0.0.1')
    assert result['failed_step'] == 'resolve'
    assert 'does not resolve (Name or service not known)' in result['verdict']


def test_closed_port_is_a_tcp_failure(host, pki):
    port = free_port()
    result = host.run(registry='%s:%d' % (NAME, port), address='127.0.0.1')
    assert result['failed_step'] == 'tcp'
    assert 'connection refused' in result['verdict']


def test_plain_http_port_for_a_tls_registry(host, pki):
    with FakeRegistry(None) as reg:
        result = host.run(registry=endpoint(reg), ca_content=pki['ca'].pem)
    assert result['failed_step'] == 'http-vs-https', result['verdict']
    assert 'answers plain HTTP, but the registry is expected to serve HTTPS' in result['verdict']
    assert 'docker speaks HTTPS to' in result['verdict']


def test_tls_port_for_a_plain_http_registry(host, pki):
    with FakeRegistry(pki['server']) as reg:
        host.engine['RegistryConfig']['IndexConfigs'] = {endpoint(reg): {'Name': endpoint(reg), 'Secure': False}}
        result = host.run(registry=endpoint(reg), tls=False)
    assert result['failed_step'] == 'http-vs-https', result['verdict']
    assert 'speaks TLS, but the registry is expected to serve plain HTTP' in result['verdict']


def test_plain_http_registry_needs_insecure_entry(host, pki):
    with FakeRegistry(None) as reg:
        result = host.run(registry=endpoint(reg), tls=False)
        assert result['failed_step'] == 'http-vs-https'
        assert 'docker speaks HTTPS to' in result['verdict'] and 'as insecure' in result['verdict']
        host.engine['RegistryConfig']['IndexConfigs'] = {endpoint(reg): {'Name': endpoint(reg), 'Secure': False}}
        result = host.run(registry=endpoint(reg), tls=False)
    assert result['status'] == 'ok', result['verdict']
    assert 'plain HTTP' in result['verdict']
    assert by_step(result)['auth']['summary'].startswith('anonymous GET /v2/ answers 200')


def test_another_ca_in_certs_d(host, pki):
    with FakeRegistry(pki['server']) as reg:
        trust(host, pki, ca=pki['other_ca'], endpoint=endpoint(reg))
        result = host.run(registry=endpoint(reg), ca_content=pki['ca'].pem)
    assert result['failed_step'] == 'tls-chain'
    path = host.path('docker/certs.d', endpoint(reg), 'ca.crt')
    assert ("FAIL tls-chain: the registry's certificate is not signed by the CA in %s (sha256 %s..); it is signed by "
            '"CN=registry.berth.test CA,O=berth.registry" (that is the expected CA'
            % (path, pki['other_ca'].fingerprint[:23])) in result['verdict']
    trusted = result['runtimes'][0]['trusted'][0]['certificates'][0]
    assert trusted['fingerprint_sha256'] == pki['other_ca'].fingerprint and trusted['current'] is False


def test_no_ca_at_all(host, pki):
    with FakeRegistry(pki['server']) as reg:
        result = host.run(registry=endpoint(reg))
    assert result['failed_step'] == 'tls-chain'
    assert 'docker has no CA for %s (no *.crt in %s)' % (endpoint(reg), host.path('docker/certs.d', endpoint(reg))) \
        in result['verdict']


def test_name_not_in_the_certificate(host, pki):
    with FakeRegistry(pki['server']) as reg:
        alias = 'alias.berth.test:%d' % reg.port
        trust(host, pki, endpoint=alias)
        result = host.run(registry=alias)
    assert result['failed_step'] == 'tls-san'
    assert ('the certificate is for DNS:registry.berth.test, IP:127.0.0.1; alias.berth.test, the name typed, is not '
            'among them') in result['verdict']


def test_expired_certificate(host, pki):
    with FakeRegistry(pki['expired'], users={'admin': PASSWORD}) as reg:
        trust(host, pki, endpoint=endpoint(reg))
        result = host.run(registry=endpoint(reg), ca_content=pki['ca'].pem)
    assert result['failed_step'] == 'cert-expiry', result['verdict']
    assert "the registry's certificate expired on" in result['verdict'] and '(2 days ago)' in result['verdict']
    assert by_step(result)['tls-chain']['status'] == 'ok'
    assert result['registry']['certificate']['days_left'] < 0


def test_stale_credentials(host, pki):
    with FakeRegistry(pki['server'], users={'admin': PASSWORD}) as reg:
        trust(host, pki, endpoint=endpoint(reg))
        login(host, password='Mk-old-PASSWORD-0000', endpoint=endpoint(reg))
        result = host.run(registry=endpoint(reg))
        sent = [r['authorization'] for r in reg.requests if r['authorization']]
    assert result['failed_step'] == 'credentials'
    assert ('the credentials stored for admin in %s are refused (GET /v2/ answers 401)' % host.path('root/config.json')
            in result['verdict'])
    assert len(sent) == 1
    assert 'Mk-old-PASSWORD-0000' not in json.dumps(result) and sent[0][6:] not in json.dumps(result)


def test_credentials_check_can_be_off_and_missing_login_warns(host, pki):
    with FakeRegistry(pki['server'], users={'admin': PASSWORD}) as reg:
        trust(host, pki, endpoint=endpoint(reg))
        login(host, password='Mk-old-PASSWORD-0000', endpoint=endpoint(reg))
        off = host.run(registry=endpoint(reg), check_credentials=False)
        os.unlink(host.path('root/config.json'))
        missing = host.run(registry=endpoint(reg))
        assert all(r['authorization'] is None for r in reg.requests)
    assert off['status'] == 'ok', off['verdict']
    assert by_step(off)['credentials']['status'] == 'skip'
    assert missing['status'] == 'warn' and missing['failed_step'] is None
    assert 'WARN credentials: no stored credentials for' in missing['verdict']


def test_clock_skew(host, pki):
    with FakeRegistry(pki['server'], skew=-900) as reg:
        trust(host, pki, endpoint=endpoint(reg))
        result = host.run(registry=endpoint(reg), max_clock_skew=120)
    assert result['failed_step'] == 'clock-skew'
    assert re.search(r"this host's clock is 90[01] s ahead of the registry's .*threshold 120 s", result['verdict'])


def test_dockerd_down(host, pki):
    host.engine_error = 'cannot reach the Docker engine'
    result = host.run(registry=NAME)
    assert result['failed_step'] == 'runtime'
    assert 'dockerd is installed but does not answer' in result['verdict']


def test_no_runtime(host, pki):
    host.tools = set()
    result = host.run(registry=NAME)
    assert result['status'] == 'fail' and result['failed_step'] == 'runtime'
    assert 'no container runtime to check' in result['verdict']


def test_containers_and_containerd_checked_with_their_own_files(host, pki):
    host.tools = {'containerd', 'podman', 'skopeo'}  # no dockerd: containerd is checked under auto
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(host.path('containerd.sock'))
    listener.listen(1)
    with listener, FakeRegistry(pki['server']) as reg:
        ep = endpoint(reg)
        host.write('containerd/config.toml', 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
                   '  config_path = "%s"\n' % host.path('containerd/certs.d'))
        host.write('containerd/certs.d/%s/hosts.toml' % ep, 'server = "http://%s"\n' % ep)
        host.write('containers/certs.d/%s/ca.crt' % ep, pki['ca'].pem)
        result = host.run(registry=ep, runtimes=['containerd', 'containers'])
    assert result['runtimes'][0]['checked'] is False  # docker not asked for
    containerd, containers = by_step(result, 'containerd'), by_step(result, 'containers')
    assert containerd['http-vs-https']['status'] == 'fail'
    assert 'containerd is set to send plain HTTP' in containerd['http-vs-https']['summary']
    assert containers['tls-chain']['status'] == 'ok'
    assert result['verdict'].startswith('client1: FAIL http-vs-https:') and '[containerd]' in result['verdict']


def test_mutual_tls_the_node_presents_its_client_certificate_as_its_runtimes_do(host, pki):
    """A registry that requires a client certificate: without the node's pair every step after TCP fails with the
    TLS alert; with client.cert + client.key next to the CA the walk is healthy."""
    pair = certfactory.make_client(pki['ca'], 'client1')
    with FakeRegistry(pki['server'], users={'admin': PASSWORD}, client_ca=pki['ca']) as reg:
        trust(host, pki, endpoint=endpoint(reg))
        login(host, endpoint=endpoint(reg))
        without = host.run(registry=endpoint(reg), address='127.0.0.1', ca_content=pki['ca'].pem)
        assert without['status'] == 'fail' and without['registry']['client_certificate'] is None
        assert without['failed_step'] == 'auth', without['verdict']
        cert = host.write('docker/certs.d/%s/client.cert' % endpoint(reg), pair.pem)
        host.write('docker/certs.d/%s/client.key' % endpoint(reg), pair.key_pem)
        result = host.run(registry=endpoint(reg), address='127.0.0.1', ca_content=pki['ca'].pem)
    assert result['status'] == 'ok', result['verdict']
    assert result['registry']['client_certificate'] == cert
    assert pair.key_pem.splitlines()[1] not in json.dumps(result)


def test_a_registry_asking_for_a_client_certificate_is_named_as_such(host, pki, monkeypatch):
    """nginx's answer to a node without a certificate is a TLS alert: the doctor says what it means."""
    from ansible_collections.berth.registry.plugins.module_utils._doctor import probe
    real = probe.http_get

    def alert(*args, **kwargs):
        answer = real(*args, **kwargs)
        return dict(answer, status=None, error='TLSV13_ALERT_CERTIFICATE_REQUIRED (SSL)')

    with FakeRegistry(pki['server'], users={'admin': PASSWORD}) as reg:
        trust(host, pki, endpoint=endpoint(reg))
        monkeypatch.setattr(probe, 'http_get', alert)
        result = host.run(registry=endpoint(reg), address='127.0.0.1', ca_content=pki['ca'].pem)
    assert result['failed_step'] == 'auth'
    assert 'requires a client certificate (mutual TLS) and this node has none' in result['verdict']
