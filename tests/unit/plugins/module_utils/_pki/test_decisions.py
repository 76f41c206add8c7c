# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime

from ansible_collections.berth.registry.plugins.module_utils._pki.certs import utcnow
from ansible_collections.berth.registry.plugins.module_utils._pki.decisions import pair_differences
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import generate_private_key
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import Request, RootCA
from ansible_collections.berth.registry.plugins.module_utils._pki.pair import Issuer, PairFiles, PairOnDisk

from .conftest import CA, HOWTO_SUBJECT, server_request, write_pair


def on_disk(tmp_path, cert, key, name='server'):
    return PairOnDisk(PairFiles(*write_pair(tmp_path, cert, key, name)))


def fields(found):
    return [item['field'] for item in found.as_list()]


def issuer(ca):
    return Issuer(ca.cert, None, ca.key, '/pki/ca.crt')


def test_a_fresh_certificate_fits(ca, tmp_path):
    pair = on_disk(tmp_path, *reversed(ca.server()))
    assert not pair_differences(pair, server_request(), issuer(ca), 30)


def test_every_reason_is_a_field(ca, tmp_path):
    pair = on_disk(tmp_path, *reversed(ca.server()))
    found = pair_differences(pair, server_request(('docker.gt.com', 'other.gt.com'), ('::1',), key_type='rsa-2048'),
                             issuer(ca), 30)
    assert fields(found) == ['key_type', 'dns_names', 'ip_addresses']
    assert found.as_list()[1] == {'field': 'dns_names', 'before': ['docker.gt.com'],
                                  'after': ['docker.gt.com', 'other.gt.com']}
    other = CA()  # same subject, another key
    found = pair_differences(pair, server_request(), issuer(other), 30)
    assert fields(found) == ['issuer'] and 'not signed by the CA /pki/ca.crt' in found.as_list()[0]['before']
    pending = pair_differences(pair, server_request(), Issuer.pending('/pki/ca.crt'), 30)
    assert pending.as_list() == [{'field': 'issuer', 'before': '/C=CN/ST=Sichuan/L=Chengdu/O=GTDQ/CN=docker.gt.com CA',
                                  'after': 'CA /pki/ca.crt (does not exist yet)'}]


def test_renewal_window(ca, tmp_path):
    now = utcnow()
    pair = on_disk(tmp_path, *reversed(ca.server(days=10, now=now)))
    found = pair_differences(pair, server_request(), issuer(ca), 30, now=now)
    assert fields(found) == ['not_after']
    assert found.as_list()[0]['before'] < found.as_list()[0]['after']
    assert not pair_differences(pair, server_request(), issuer(ca), 5, now=now)


def test_missing_mismatched_and_damaged_files(ca, tmp_path):
    dummy, cert = ca.server()
    pair = on_disk(tmp_path, cert, generate_private_key('ecdsa-p256'))
    assert pair_differences(pair, server_request(), issuer(ca), 30).as_list() == [
        {'field': 'privatekey', 'before': 'does not match the certificate', 'after': "the certificate's key"}]
    (tmp_path / 'server.crt').write_bytes(b'garbage')
    pair = PairOnDisk(PairFiles(str(tmp_path / 'server.crt'), str(tmp_path / 'none.key')))
    found = pair_differences(pair, server_request(), issuer(ca), 30).as_list()
    assert found[0]['field'] == 'certificate' and 'not a readable PEM certificate' in found[0]['before']
    assert found[1] == {'field': 'privatekey', 'before': None, 'after': 'new ecdsa-p256 key'}


def test_ca_differences(ca, tmp_path):
    request = Request(RootCA(), HOWTO_SUBJECT, 'ecdsa-p256', 3650)
    pair = on_disk(tmp_path, ca.cert, ca.key, 'ca')
    assert not pair_differences(pair, request)
    found = pair_differences(pair, Request(RootCA(), dict(HOWTO_SUBJECT, CN='other CA'), 'rsa-4096', 3650))
    assert found.describe() == ('key_type: ecdsa-p256 -> rsa-4096; subject: /C=CN/ST=Sichuan/L=Chengdu/O=GTDQ/CN='
                                'docker.gt.com CA -> /C=CN/ST=Sichuan/L=Chengdu/O=GTDQ/CN=other CA')
    later = utcnow() + datetime.timedelta(days=4000)
    assert fields(pair_differences(pair, request, now=later)) == ['not_after']
    (tmp_path / 'ca.key').unlink()
    assert pair_differences(PairOnDisk(pair.files), request).as_list() == [
        {'field': 'privatekey', 'before': None, 'after': 'new ecdsa-p256 key'}]


def test_an_old_pathlen_1_ca_fits_a_new_request(tmp_path):
    old = CA(path_length=1)
    pair = on_disk(tmp_path, old.cert, old.key, 'ca')
    assert not pair_differences(pair, Request(RootCA(), HOWTO_SUBJECT, 'ecdsa-p256', 3650))


def test_a_leaf_certificate_in_place_of_the_ca_differs(ca, tmp_path):
    key, cert = ca.server()
    pair = on_disk(tmp_path, cert, key, 'ca')
    found = pair_differences(pair, Request(RootCA(), {'CN': 'docker.gt.com'}, 'ecdsa-p256', 3650))
    assert fields(found) == ['basic_constraints']
