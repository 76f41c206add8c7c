# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet's client certificates and CRL on real files, without Ansible (as the controller runs them)."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from ansible_collections.berth.registry.plugins.module_utils._pki.certs import load_certificate
from ansible_collections.berth.registry.plugins.module_utils._pki.clients import (
    CRL_NAME, INDEX_NAME, ClientFleet, check_node,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.crl import load_crl, revoked_serials
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import load_private_key, same_public_key

from .conftest import CA


@pytest.fixture
def pki(tmp_path):
    CA().write(tmp_path)
    return tmp_path


def fleet(pki, nodes, check_mode=False, **extra):
    plan = ClientFleet(str(pki / 'clients'), nodes, str(pki / 'ca.crt'), str(pki / 'ca.key'), check_mode=check_mode,
                       **extra)
    plan.plan()
    plan.apply()
    return plan, plan.result(True)


def listing(directory):
    result = {}
    for root, dirs, files in os.walk(str(directory)):
        for name in dirs + files:
            path = os.path.join(root, name)
            st = os.lstat(path)
            result[os.path.relpath(path, str(directory))] = (
                stat.S_IMODE(st.st_mode), open(path, 'rb').read() if stat.S_ISREG(st.st_mode) else None)
    return result


def cert_of(pki, node):
    return load_certificate((pki / 'clients' / ('%s.crt' % node)).read_bytes(), node)


def openssl_verify(pki, cert_path):
    proc = subprocess.run(['openssl', 'verify', '-crl_check_all', '-CAfile', str(pki / 'ca.crt'), '-CRLfile',
                           str(pki / 'clients' / CRL_NAME), '-purpose', 'sslclient', str(cert_path)],
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


def test_check_mode_then_issue_then_nothing_changes(pki):
    before = listing(pki)
    dummy, checked = fleet(pki, ['client1', 'client2'], check_mode=True)
    assert checked['changed'] and listing(pki) == before
    assert [d['field'] for d in checked['differences']] == [
        'client certificates directory', 'client client1: certificate', 'client client2: certificate', 'crl']
    plan, first = fleet(pki, ['client1', 'client2'])
    assert first['changed'] and first['revoked'] == []
    names = sorted(os.listdir(str(pki / 'clients')))
    assert names == ['client1.crt', 'client1.key', 'client2.crt', 'client2.key', CRL_NAME, INDEX_NAME]
    assert stat.S_IMODE(os.stat(str(pki / 'clients')).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(str(pki / 'clients' / 'client1.key')).st_mode) == 0o600
    for node in ('client1', 'client2'):
        cert = cert_of(pki, node)
        key = load_private_key((pki / 'clients' / ('%s.key' % node)).read_bytes(), None, node, 'x').key
        assert same_public_key(key, cert) and cert.subject.rfc4514_string() == 'CN=%s' % node
        assert first['client_certificates'][node]['serial'] == '%X' % cert.serial_number
        assert openssl_verify(pki, pki / 'clients' / ('%s.crt' % node))[0]
    index = json.loads((pki / 'clients' / INDEX_NAME).read_text())
    assert sorted(index['issued']) == ['client1', 'client2'] and index['revoked'] == []
    converged = listing(pki)
    for check_mode in (True, False):
        dummy, again = fleet(pki, ['client2', 'client1'], check_mode=check_mode)
        assert not again['changed'], again['differences']
        assert listing(pki) == converged


def test_a_node_that_leaves_is_revoked_and_its_key_deleted(pki):
    fleet(pki, ['client1', 'client2', 'client3'])
    gone = cert_of(pki, 'client3')
    before = listing(pki)
    plan, checked = fleet(pki, ['client1', 'client2'], check_mode=True)
    assert listing(pki) == before
    assert checked['differences'][0] == {'field': 'client client3', 'before': 'enrolled (serial %X)' % gone.serial_number,
                                         'after': 'revoked (no longer in the inventory)'}
    assert load_crl(plan.crl_bytes, 'crl') and revoked_serials(load_crl(plan.crl_bytes, 'crl')) == [gone.serial_number]
    plan, result = fleet(pki, ['client1', 'client2'])
    assert result['changed'] and result['revoked'] == [{'node': 'client3', 'serial': '%X' % gone.serial_number}]
    assert (pki / 'clients' / CRL_NAME).read_bytes() == plan.crl_bytes
    assert not (pki / 'clients' / 'client3.key').exists() and not (pki / 'clients' / 'client3.crt').exists()
    kept = pki / 'clients' / 'revoked' / ('client3.%X.crt' % gone.serial_number)
    ok, text = openssl_verify(pki, kept)
    assert not ok and 'certificate revoked' in text
    assert openssl_verify(pki, pki / 'clients' / 'client1.crt')[0]
    assert not fleet(pki, ['client1', 'client2'])[1]['changed']
    # back in the inventory: a new pair, the old serial stays revoked
    dummy, back = fleet(pki, ['client1', 'client2', 'client3'])
    assert back['changed'] and cert_of(pki, 'client3').serial_number != gone.serial_number
    assert revoked_serials(load_crl((pki / 'clients' / CRL_NAME).read_bytes(), 'crl')) == [gone.serial_number]
    assert openssl_verify(pki, pki / 'clients' / 'client3.crt')[0]


def test_a_lost_index_is_rebuilt_from_the_files_and_orphans_are_revoked(pki):
    fleet(pki, ['client1', 'client2'])
    orphan = cert_of(pki, 'client2')
    os.unlink(str(pki / 'clients' / INDEX_NAME))
    dummy, result = fleet(pki, ['client1'])
    assert result['revoked'] == [{'node': 'client2', 'serial': '%X' % orphan.serial_number}]
    dummy, result = fleet(pki, ['client1'])
    assert not result['changed']
    os.unlink(str(pki / 'clients' / INDEX_NAME))
    dummy, result = fleet(pki, ['client1'])
    # the CRL still revokes client2 (and revoked/ names it): only the record is written again
    assert [d['field'] for d in result['differences']] == ['client certificates index']
    assert result['revoked'] == [{'node': 'client2', 'serial': '%X' % orphan.serial_number}]
    assert not openssl_verify(pki, pki / 'clients' / 'revoked' / ('client2.%X.crt' % orphan.serial_number))[0]
    assert not fleet(pki, ['client1'])[1]['changed']


def test_a_restored_revoked_certificate_is_issued_anew(pki):
    fleet(pki, ['client1', 'client2'])
    old = (pki / 'clients' / 'client2.crt').read_bytes(), (pki / 'clients' / 'client2.key').read_bytes()
    serial = cert_of(pki, 'client2').serial_number
    fleet(pki, ['client1'])
    (pki / 'clients' / 'client2.crt').write_bytes(old[0])
    (pki / 'clients' / 'client2.key').write_bytes(old[1])
    dummy, result = fleet(pki, ['client1', 'client2'])
    assert {'field': 'client client2: certificate', 'before': None,
            'after': 'serial %X is revoked: issued anew' % serial} in result['differences']
    assert cert_of(pki, 'client2').serial_number != serial


def test_a_new_ca_reissues_every_client_certificate_and_the_crl(pki):
    fleet(pki, ['client1'])
    CA().write(pki)
    dummy, result = fleet(pki, ['client1'])
    fields = [d['field'] for d in result['differences']]
    assert 'client client1: issuer' in fields and 'crl issuer' in fields
    assert openssl_verify(pki, pki / 'clients' / 'client1.crt')[0]


def test_no_ca_in_check_mode_reports_everything_as_to_be_made(tmp_path):
    plan, result = fleet(tmp_path, ['client1'], check_mode=True)
    assert result['changed'] and os.listdir(str(tmp_path)) == []
    assert result['client_certificates']['client1']['serial'] is None and plan.crl_bytes is None


@pytest.mark.parametrize('name', ['', '../etc', '.hidden', '-x', 'a/b', 'a b', 'x' * 65, 'new\nline', None, 7])
def test_bad_node_names_are_refused(pki, name):
    with pytest.raises(PKIError, match=r'nodes\[1\]: .* cannot name a client certificate'):
        ClientFleet(str(pki / 'clients'), ['ok', name], str(pki / 'ca.crt'), str(pki / 'ca.key'))
    assert check_node('fd00::5') == 'fd00::5' and check_node('web-01.example.com')


def test_a_node_listed_twice_is_refused(pki):
    with pytest.raises(PKIError, match="nodes: 'a' is listed twice"):
        ClientFleet(str(pki / 'clients'), ['a', 'a'], str(pki / 'ca.crt'), str(pki / 'ca.key'))


@pytest.mark.parametrize('content', [b'[]', b'"x"', b'{"issued": [], "revoked": []}', b'\xff\xfe',
                                     b'{"issued": {"../x": {"serial": "1"}}, "revoked": []}',
                                     b'{"issued": {}, "revoked": [{"node": "a", "serial": "zz"}]}'])
def test_a_damaged_index_is_refused_and_nothing_is_written(pki, content):
    fleet(pki, ['client1'])
    (pki / 'clients' / INDEX_NAME).write_bytes(content)
    before = listing(pki)
    with pytest.raises(PKIError, match='client certificates index .*index.json is not what berth writes there'):
        fleet(pki, ['client2'])
    assert listing(pki) == before


def test_the_directory_must_be_a_directory(pki):
    (pki / 'clients').write_text('x')
    with pytest.raises(PKIError, match='exists and is not a directory'):
        fleet(pki, ['client1'])
