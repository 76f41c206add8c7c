# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._pki import keys
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import DamagedFile, PKIError

PASSPHRASE = 'Mk-5e1f0a-PASSPHRASE-9c3d'


@pytest.mark.parametrize('key_type', keys.KEY_TYPES[:3])
def test_generated_key_types_round_trip(key_type):
    key = keys.generate_private_key(key_type)
    assert keys.key_type_of(key) == key_type
    loaded = keys.load_private_key(keys.dump_private_key(key, None), None, 'k')
    assert keys.same_public_key(loaded.key, key) and not loaded.reencrypt and loaded.key_type == key_type


def test_unknown_key_type_is_named():
    with pytest.raises(PKIError, match="key_type: unknown key type 'dsa-1024'; allowed: ecdsa-p256"):
        keys.generate_private_key('dsa-1024')


def test_encrypted_key_opens_with_its_passphrase_only():
    key = keys.generate_private_key('ecdsa-p256')
    data = keys.dump_private_key(key, PASSPHRASE)
    assert keys.is_encrypted_pem(data) and keys.is_complete_pem(data)
    assert keys.same_public_key(keys.load_private_key(data, PASSPHRASE, 'k').key, key)
    # a plain key with a passphrase requested is loaded and flagged for re-encryption
    assert keys.load_private_key(keys.dump_private_key(key, None), PASSPHRASE, 'k').reencrypt


def test_a_wrong_or_missing_passphrase_is_an_error_the_user_fixes_not_a_damaged_file():
    """Issue 9: a wrong passphrase was 'unreadable' like garbage, and regenerate=on_change replaced the CA."""
    data = keys.dump_private_key(keys.generate_private_key('ecdsa-p256'), PASSPHRASE)
    with pytest.raises(PKIError, match='privatekey_path /x/ca.key cannot be decrypted with the given '
                                       'privatekey_passphrase') as wrong:
        keys.load_private_key(data, 'Mk-000000-WRONG-0000', 'privatekey_path /x/ca.key')
    with pytest.raises(PKIError, match='privatekey_path /x/ca.key is encrypted and no passphrase was given: '
                                       'set privatekey_passphrase') as missing:
        keys.load_private_key(data, None, 'privatekey_path /x/ca.key')
    for exc in (wrong.value, missing.value):
        assert not isinstance(exc, DamagedFile) and 'nothing was replaced' in str(exc)
        assert PASSPHRASE not in str(exc)


@pytest.mark.parametrize('damage', ['truncated', 'truncated encrypted', 'empty', 'garbage', 'certificate', 'body'])
def test_bytes_that_are_no_key_are_a_damaged_file(damage, ca):
    from ansible_collections.berth.registry.plugins.module_utils._pki.certs import dump_certificate
    plain = keys.dump_private_key(keys.generate_private_key('ecdsa-p256'), None)
    data = {
        'truncated': plain[:120],
        'truncated encrypted': keys.dump_private_key(keys.generate_private_key('ecdsa-p256'), PASSPHRASE)[:150],
        'empty': b'',
        'garbage': b'\xff\xfe\x00 not a key',
        'certificate': dump_certificate(ca.cert),
        'body': plain.replace(plain.splitlines()[1], b'A' * 64),
    }[damage]
    with pytest.raises(DamagedFile, match='/x/k'):
        keys.load_private_key(data, PASSPHRASE if 'encrypted' in damage else None, 'privatekey_path /x/k')
