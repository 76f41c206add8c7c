# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import utcnow
from ansible_collections.berth.registry.plugins.module_utils._pki.info import certificate_info

from .conftest import CA, write_pair

PASSPHRASE = 'Mk-4d2a7e-KEY-PASSPHRASE-0c9f'


def test_a_pair_that_fits(ca, tmp_path):
    ca_path, dummy = ca.write(tmp_path)
    key, cert = ca.server()
    cert_path, key_path = write_pair(tmp_path, cert, key, passphrase=PASSPHRASE)
    info, problems = certificate_info(cert_path, key_path, PASSPHRASE, ca_path)
    assert problems == [] and info['key_matches'] and info['signed_by_ca'] and not info['is_ca']
    assert info['dns_names'] == ['docker.gt.com'] and info['ca']['subject']['CN'] == 'docker.gt.com CA'
    assert certificate_info(ca_path, ca_path=ca_path)[0]['signed_by_ca']  # a CA checked against itself


def test_mismatches_and_expiry_are_problems(ca, tmp_path):
    ca_path, ca_key_path = ca.write(tmp_path)
    dummy, cert = CA().server()
    cert_path, dummy_key = write_pair(tmp_path, cert, dummy)
    info, problems = certificate_info(cert_path, ca_key_path, None, ca_path, now=utcnow() + datetime.timedelta(days=999))
    assert not info['key_matches'] and not info['signed_by_ca'] and info['expired']
    assert [p.split(' ')[0] for p in problems] == ['privatekey_path', 'the', 'the']


def test_unreadable_files_are_errors_naming_the_option(ca, tmp_path):
    key, cert = ca.server()
    cert_path, key_path = write_pair(tmp_path, cert, key, passphrase=PASSPHRASE)
    (tmp_path / 'garbage').write_bytes(b'\x00\xff')
    cases = [
        ((str(tmp_path / 'none.crt'),), 'path: .*none.crt does not exist'),
        ((str(tmp_path),), 'path: .* is a directory'),
        ((str(tmp_path / 'garbage'),), 'path .*garbage is not a readable PEM certificate'),
        ((cert_path, key_path, 'Mk-000000-WRONG-0000'), 'privatekey_path .* cannot be decrypted'),
        ((cert_path, key_path), 'privatekey_path .* is encrypted and no passphrase was given'),
        ((cert_path, str(tmp_path / 'garbage')), 'privatekey_path .*garbage is not a PEM private key'),
        ((cert_path, None, None, str(tmp_path / 'garbage')), 'ca_path .*garbage is not a readable PEM certificate'),
    ]
    for args, message in cases:
        with pytest.raises(BerthError, match=message):
            certificate_info(*args)
