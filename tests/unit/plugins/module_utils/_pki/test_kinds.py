# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import subprocess

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.berth.registry.plugins.module_utils._pki.certs import dump_certificate, is_ca, is_signed_by
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import generate_private_key
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import (
    ClientCertificate, Request, RootCA, ServerCertificate, issue,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.names import name_to_dict, san_of

from .conftest import CA, HOWTO_SUBJECT, server_request

LONG_NAME = 'registry-with-a-rather-long-name.build-cluster-07.eu-west.corp.example'


def openssl_text(tmp_path, cert, name='c.crt'):
    path = tmp_path / name
    path.write_bytes(dump_certificate(cert))
    return subprocess.run(['openssl', 'x509', '-in', str(path), '-noout', '-text'],
                          capture_output=True, text=True, check=True).stdout


def test_a_new_ca_has_the_howto_extensions_with_path_length_0(ca, tmp_path):
    text = openssl_text(tmp_path, ca.cert)
    assert 'CA:TRUE, pathlen:0' in text
    assert 'Non Repudiation, Certificate Sign, CRL Sign' in text
    assert 'X509v3 Subject Key Identifier' in text and 'Authority Key Identifier' not in text
    assert name_to_dict(ca.cert.subject) == HOWTO_SUBJECT


def test_a_ca_made_with_pathlen_1_does_not_differ_from_its_kind():
    """Issue 9 default: new CAs get pathlen:0, but an existing pathlen:1 CA is no reason to replace it."""
    old = CA(path_length=1)
    assert RootCA().differences(old.cert) == []
    assert RootCA().differences(old.server()[1]) == [('basic_constraints', 'CA:FALSE', 'CA:TRUE')]


def test_server_certificate_extensions_depend_on_the_key_type(ca):
    for key_type, encipherment in (('ecdsa-p256', False), ('rsa-2048', True)):
        dummy, cert = ca.server(key=generate_private_key(key_type), ips=('127.0.0.1', '::1'))
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.digital_signature
        assert usage.value.key_encipherment is encipherment
        assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
            ExtendedKeyUsageOID.SERVER_AUTH]
        assert san_of(cert) == (['docker.gt.com'], ['127.0.0.1', '::1'])
        assert is_signed_by(cert, ca.cert) and ServerCertificate().differences(cert) == []


def test_a_long_host_name_gets_a_certificate_without_cn_that_openssl_verifies(ca, tmp_path):
    key, cert = ca.server(dns=(LONG_NAME,), ips=(), subject={})
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical and len(cert.subject) == 0  # RFC 5280 4.2.1.6: empty subject -> critical SAN
    openssl_text(tmp_path, ca.cert, 'ca.crt')
    openssl_text(tmp_path, cert, 'server.crt')
    verify = subprocess.run(['openssl', 'verify', '-CAfile', str(tmp_path / 'ca.crt'), '-verify_hostname', LONG_NAME,
                             str(tmp_path / 'server.crt')], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_client_certificate_names_the_node_and_is_for_client_auth_only(ca, tmp_path):
    request = Request(ClientCertificate(), {'CN': 'ci-runner'}, 'ecdsa-p256', 30)
    cert = issue(request, generate_private_key('ecdsa-p256'), ca.key, ca.cert)
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    assert name_to_dict(cert.subject) == {'CN': 'ci-runner'} and san_of(cert) == ([], [])
    assert ClientCertificate().differences(cert) == []
    assert ServerCertificate().differences(cert) == [('extended_key_usage', ['clientAuth'], ['serverAuth'])]
    dummy, server = ca.server()
    assert ClientCertificate().differences(server) == [('extended_key_usage', ['serverAuth'], ['clientAuth'])]
    # what nginx asks of it: a TLS client chain to the CA
    openssl_text(tmp_path, ca.cert, 'ca.crt')
    openssl_text(tmp_path, cert, 'client.crt')
    openssl_text(tmp_path, server, 'server.crt')
    for name, purpose, ok in (('client.crt', 'sslclient', True), ('client.crt', 'sslserver', False),
                              ('server.crt', 'sslclient', False)):
        verify = subprocess.run(['openssl', 'verify', '-CAfile', str(tmp_path / 'ca.crt'), '-purpose', purpose,
                                 str(tmp_path / name)], capture_output=True, text=True, check=False)
        assert (verify.returncode == 0) is ok, (name, purpose, verify.stdout + verify.stderr)


def test_the_next_ca_of_a_rollover_can_be_cross_signed_by_the_current_one(ca):
    key = generate_private_key('ecdsa-p256')
    request = Request(RootCA(), dict(HOWTO_SUBJECT, CN='docker.gt.com CA 2'), 'ecdsa-p256', 3650)
    cross = issue(request, key, ca.key, ca.cert)
    assert is_ca(cross) and is_signed_by(cross, ca.cert)
    assert cross.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    dummy, leaf = CA().server()
    assert not is_signed_by(leaf, cross)
    assert server_request().kind.name == 'server certificate'
