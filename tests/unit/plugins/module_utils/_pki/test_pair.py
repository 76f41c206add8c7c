# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.berth.registry.plugins.module_utils import _files
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import DamagedFile, PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import dump_private_key, generate_private_key
from ansible_collections.berth.registry.plugins.module_utils._pki.pair import PairFiles, PairOnDisk, load_issuer

from .conftest import write_pair

PASSPHRASE = 'Mk-7a2b9c-CA-PASSPHRASE-1d0e'


def test_a_pair_with_the_right_passphrase(ca, tmp_path):
    cert_path, key_path = ca.write(tmp_path, passphrase=PASSPHRASE)
    pair = PairOnDisk(PairFiles(cert_path, key_path, PASSPHRASE))
    assert pair.key_matches_cert() and pair.usable_key('ecdsa-p256') is not None and pair.usable_key('rsa-2048') is None
    assert pair.exists and not pair.key_reencrypt


@pytest.mark.parametrize('passphrase', [None, 'Mk-000000-WRONG-0000'])
def test_a_key_that_needs_its_passphrase_is_an_error_not_a_problem(ca, tmp_path, passphrase):
    cert_path, key_path = ca.write(tmp_path, passphrase=PASSPHRASE)
    with pytest.raises(PKIError, match='privatekey_path %s' % key_path) as exc:
        PairOnDisk(PairFiles(cert_path, key_path, passphrase))
    assert not isinstance(exc.value, DamagedFile)


def test_permission_denied_is_an_error_naming_the_file(ca, tmp_path, monkeypatch):
    cert_path, key_path = ca.write(tmp_path)
    real_open = open

    def deny(path, *args, **kwargs):
        if path == key_path:
            raise PermissionError(13, 'Permission denied', path)
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(_files, 'open', deny, raising=False)
    with pytest.raises(BerthError, match='privatekey_path: %s cannot be read: Permission denied' % key_path):
        PairOnDisk(PairFiles(cert_path, key_path))


@pytest.mark.parametrize('what', ['directory', 'loop'])
def test_a_directory_or_a_symlink_loop_in_place_of_the_key_is_an_error(ca, tmp_path, what):
    cert_path, key_path = ca.write(tmp_path)
    os.unlink(key_path)
    if what == 'directory':
        os.mkdir(key_path)
    else:
        os.symlink(os.path.basename(key_path), key_path)
    with pytest.raises(BerthError, match='privatekey_path: %s' % key_path):
        PairOnDisk(PairFiles(cert_path, key_path))


def test_damaged_bytes_are_recorded_for_the_decisions(ca, tmp_path):
    cert_path, key_path = ca.write(tmp_path)
    with open(key_path, 'r+b') as f:
        f.truncate(100)
    with open(cert_path, 'wb') as f:
        f.write(b'garbage')
    pair = PairOnDisk(PairFiles(cert_path, key_path))
    assert pair.key is None and 'is not a PEM private key' in pair.key_problem and pair.key_exists
    assert pair.cert is None and 'is not a readable PEM certificate' in pair.cert_problem and pair.cert_exists


def test_nothing_there():
    pair = PairOnDisk(PairFiles('/nonexistent/x.crt', '/nonexistent/x.key'))
    assert not pair.exists and pair.cert is None and pair.key is None


def test_load_issuer(ca, tmp_path):
    cert_path, key_path = ca.write(tmp_path, passphrase=PASSPHRASE)
    issuer = load_issuer(cert_path, key_path, PASSPHRASE)
    assert issuer.cert == ca.cert and issuer.cert_bytes.startswith(b'-----BEGIN CERTIFICATE')
    (tmp_path / 'other.key').write_bytes(dump_private_key(generate_private_key('ecdsa-p256'), None))
    leaf_key, leaf = ca.server()
    leaf_cert, leaf_key_path = write_pair(tmp_path, leaf, leaf_key, 'leaf')
    (tmp_path / 'bad.key').write_bytes(b'garbage')
    cases = [
        ((cert_path, str(tmp_path / 'other.key'), None), 'ca_privatekey_path: .*other.key does not match the CA'),
        ((cert_path, str(tmp_path / 'missing.key'), None), 'ca_privatekey_path: .*missing.key does not exist'),
        ((cert_path, key_path, 'Mk-000000-WRONG-0000'), 'ca_privatekey_path .* cannot be decrypted with the given '
                                                        'ca_privatekey_passphrase'),
        ((cert_path, key_path, None), 'is encrypted and no passphrase was given: set ca_privatekey_passphrase'),
        ((cert_path, str(tmp_path / 'bad.key'), None), 'ca_privatekey_path .*bad.key is not a PEM private key'),
        ((leaf_cert, leaf_key_path, None), 'ca_path: .*leaf.crt is not a CA certificate'),
    ]
    for args, message in cases:
        with pytest.raises(PKIError, match=message):
            load_issuer(*args)
