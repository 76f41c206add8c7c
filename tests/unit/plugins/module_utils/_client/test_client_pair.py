# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The node's client certificate in the docker unit (certs.d client.cert + client.key)."""

from __future__ import annotations

import stat

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.berth.registry.plugins.module_utils._certs_d import CertsDirError
from ansible_collections.berth.registry.plugins.module_utils._client.base import Desired, Registry
from ansible_collections.berth.registry.plugins.module_utils._client.client_pair import ClientCertificate
from ansible_collections.berth.registry.plugins.module_utils._client.docker import DockerRuntime
from ansible_collections.berth.registry.plugins.module_utils._daemon_config import DaemonConfigChange
from ansible_collections.berth.registry.plugins.module_utils._daemon_json import DaemonJson
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import dump_certificate
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import dump_private_key, generate_private_key
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import ClientCertificate as ClientKind
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import Request, RootCA, issue


class NoDockerd(object):
    warnings = []

    def refuse_flag_conflicts(self, keys, path):
        pass


def make_pair(key_type='ecdsa-p256'):
    ca_key = generate_private_key('ecdsa-p256')
    ca = issue(Request(RootCA(), {'CN': 'Unit CA'}, 'ecdsa-p256', 30), ca_key)
    key = generate_private_key(key_type)
    cert = issue(Request(ClientKind(), {'CN': 'client1'}, key_type, 30), key, ca_key, ca)
    return dump_certificate(cert).decode(), dump_private_key(key, None).decode(), key


def unit(tmp_path, registry='reg.test', **desired):
    desired = Desired(Registry.parse(registry), **desired)
    change = DaemonConfigChange(DaemonJson(str(tmp_path / 'daemon.json')), NoDockerd())
    return DockerRuntime(FileWriter(None), desired, None, change, str(tmp_path / 'certs.d'),
                         str(tmp_path / 'config.json'), apply='none')


def run(tmp_path, **desired):
    docker = unit(tmp_path, **desired)
    tracker = Differences()
    docker.plan(tracker)
    docker.apply()
    return docker, tracker


def test_the_pair_goes_next_to_the_ca_for_every_name_of_the_registry(tmp_path):
    cert, key, dummy = make_pair()
    pair = ClientCertificate.parse(cert, key)
    docker, tracker = run(tmp_path, client_certificate=pair)
    fields = [item['field'] for item in tracker.as_list()]
    certs = tmp_path / 'certs.d'
    assert fields == ['docker client key %s' % (certs / 'reg.test:443' / 'client.key'),
                      'docker client certificate %s' % (certs / 'reg.test:443' / 'client.cert'),
                      'docker client key %s' % (certs / 'reg.test' / 'client.key'),
                      'docker client certificate %s' % (certs / 'reg.test' / 'client.cert')]
    for name in ('reg.test:443', 'reg.test'):
        assert (certs / name / 'client.cert').read_text() == cert
        assert (certs / name / 'client.key').read_text() == key
        assert stat.S_IMODE((certs / name / 'client.key').stat().st_mode) == 0o600
        assert stat.S_IMODE((certs / name / 'client.cert').stat().st_mode) == 0o644
    assert tracker.as_list()[0]['after'] == '(secret)' and tracker.as_list()[1]['after'].startswith('sha256 ')
    assert docker.facts()['client_certificate_paths'][0] == {'cert': str(certs / 'reg.test:443' / 'client.cert'),
                                                             'key': str(certs / 'reg.test:443' / 'client.key')}
    dummy, again = run(tmp_path, client_certificate=pair)
    assert not again


def test_a_renewed_pair_is_a_secret_change_and_removal_takes_both(tmp_path):
    cert, key, dummy = make_pair()
    run(tmp_path, registry='reg.test:5000', client_certificate=ClientCertificate.parse(cert, key))
    cert2, key2, dummy = make_pair()
    docker, tracker = run(tmp_path, registry='reg.test:5000', client_certificate=ClientCertificate.parse(cert2, key2))
    items = tracker.as_list()
    assert items[0]['before'] == '(secret)' and items[0]['after'] == '(secret, changed)'
    assert items[1]['before'] != items[1]['after']
    assert key not in repr(items) and key2 not in repr(items)
    (tmp_path / 'certs.d' / 'reg.test:5000' / 'ca.crt').write_text(cert2)
    docker, tracker = run(tmp_path, registry='reg.test:5000', client_certificate_absent=True)
    assert [i['after'] for i in tracker.as_list()] == [None, None]
    assert sorted(p.name for p in (tmp_path / 'certs.d' / 'reg.test:5000').iterdir()) == ['ca.crt']
    dummy, again = run(tmp_path, registry='reg.test:5000', client_certificate_absent=True)
    assert not again


def test_nothing_given_leaves_a_pair_alone(tmp_path):
    cert, key, dummy = make_pair()
    run(tmp_path, client_certificate=ClientCertificate.parse(cert, key))
    dummy, tracker = run(tmp_path)
    assert not tracker and (tmp_path / 'certs.d' / 'reg.test' / 'client.key').exists()


def test_rsa_and_pkcs8_keys_are_accepted_in_canonical_pem(tmp_path):
    cert, dummy, key = make_pair('rsa-2048')
    pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
    assert ClientCertificate.parse(cert, pkcs8.replace('\n', '\r\n')).key == pkcs8
    traditional = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()
    assert ClientCertificate.parse(cert, traditional).key.startswith('-----BEGIN RSA PRIVATE KEY-----')


@pytest.mark.parametrize('make_key, found', [
    (lambda cert, key, k: k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.BestAvailableEncryption(b'Mk-4e1f-PASSPHRASE-8a2c')).decode(),
     'ENCRYPTED PRIVATE KEY'),
    (lambda cert, key, k: key + key, 'PRIVATE KEY, PRIVATE KEY'),
    (lambda cert, key, k: cert, 'CERTIFICATE'),
    (lambda cert, key, k: 'garbage', 'no PEM block'),
    (lambda cert, key, k: '-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n', None),
])
def test_a_bad_key_is_refused_without_showing_it(make_key, found):
    cert, key, k = make_pair()
    bad = make_key(cert, key, k)
    with pytest.raises(CertsDirError) as exc:
        ClientCertificate.parse(cert, bad)
    message = str(exc.value)
    assert message.startswith('client_certificate.key') and 'the value is not shown' in message
    if found:
        assert 'found: %s' % found in message
    body = [line for line in bad.splitlines() if line and not line.startswith('-----')]
    assert not any(line in message for line in body)


def test_a_key_given_as_the_certificate_is_refused_without_showing_it():
    cert, key, dummy = make_pair()
    expected = r'client_certificate.cert: PEM block 1 is a PRIVATE KEY, not a CERTIFICATE: give only the client certificate'
    with pytest.raises(CertsDirError, match=expected):
        ClientCertificate.parse(key, key)


def test_containers_get_the_pair_next_to_the_ca_and_lose_it_with_the_registry(tmp_path):
    from ansible_collections.berth.registry.plugins.module_utils._client.containers import ContainersRuntime
    from client_fakes import FakeSystem, files, plan_apply
    cert, key, dummy = make_pair()
    pair = ClientCertificate.parse(cert, key)

    def run(want):
        unit = ContainersRuntime(FileWriter(None), want, FakeSystem(), str(tmp_path / 'certs.d'),
                                 str(tmp_path / 'registries.conf.d'), str(tmp_path / 'auth.json'), str(tmp_path / 'run.json'))
        return plan_apply(unit)

    unit, tracker = run(Desired(Registry.parse('reg.test:5000'), ca_certificates=[cert], client_certificate=pair))
    assert files(tmp_path) == ['certs.d/reg.test:5000/ca.crt', 'certs.d/reg.test:5000/client.cert',
                               'certs.d/reg.test:5000/client.key']
    assert stat.S_IMODE((tmp_path / 'certs.d' / 'reg.test:5000' / 'client.key').stat().st_mode) == 0o600
    assert unit.facts()['containers']['client_certificate_paths'] == [
        {'cert': str(tmp_path / 'certs.d' / 'reg.test:5000' / 'client.cert'),
         'key': str(tmp_path / 'certs.d' / 'reg.test:5000' / 'client.key')}]
    assert key not in repr(tracker.as_list())
    assert not run(Desired(Registry.parse('reg.test:5000'), ca_certificates=[cert], client_certificate=pair))[1]
    unit, tracker = run(Desired(Registry.parse('reg.test:5000'), state='absent'))
    assert files(tmp_path) == [] and not (tmp_path / 'certs.d' / 'reg.test:5000').exists()


def test_containerd_names_the_pair_in_hosts_toml(tmp_path, listening):
    import tomllib
    from ansible_collections.berth.registry.plugins.module_utils._client.containerd import ContainerdRuntime
    from client_fakes import FakeSystem, plan_apply
    cert, key, dummy = make_pair()
    pair = ClientCertificate.parse(cert, key)
    config = tmp_path / 'config.toml'
    config.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "%s"\n'
                      '[grpc]\n  address = "%s"\n' % (tmp_path / 'certs.d', listening(str(tmp_path / 'c.sock'))))

    def run(want):
        unit = ContainerdRuntime(FileWriter(None), want, FakeSystem(('containerd', 'ctr')), str(config))
        return plan_apply(unit)

    directory = tmp_path / 'certs.d' / 'reg.test:5000'
    unit, tracker = run(Desired(Registry.parse('reg.test:5000'), ca_certificates=[cert], client_certificate=pair))
    hosts = tomllib.loads((directory / 'hosts.toml').read_text())
    expected = [[str(directory / 'client.cert'), str(directory / 'client.key')]]
    assert hosts['client'] == expected and hosts['host']['https://reg.test:5000']['client'] == expected
    assert (directory / 'client.key').read_text() == key
    assert not run(Desired(Registry.parse('reg.test:5000'), ca_certificates=[cert], client_certificate=pair))[1]
    # left alone when not given: hosts.toml keeps naming the pair that is there
    assert not run(Desired(Registry.parse('reg.test:5000'), ca_certificates=[cert]))[1]
    unit, tracker = run(Desired(Registry.parse('reg.test:5000'), ca_certificates=[cert], client_certificate_absent=True))
    assert 'client' not in tomllib.loads((directory / 'hosts.toml').read_text())
    assert sorted(p.name for p in directory.iterdir()) == ['ca.crt', 'hosts.toml']
