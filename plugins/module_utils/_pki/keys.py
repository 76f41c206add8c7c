# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private keys: the supported types, generating, loading, dumping, comparing. Pure (no files).

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import re

from ansible_collections.berth.registry.plugins.module_utils._pki.errors import DamagedFile, PKIError

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
except ImportError:  # reported by _crypto_deps.require_cryptography()
    pass

KEY_TYPES = ('ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096')
_PEM_BLOCK = re.compile(br'-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?\r?\n-----END \1-----', re.S)


def check_key_type(key_type, option='key_type'):
    if key_type not in KEY_TYPES:
        raise PKIError('%s: unknown key type %r; allowed: %s' % (option, key_type, ', '.join(KEY_TYPES)))
    return key_type


def generate_private_key(key_type):
    check_key_type(key_type)
    if key_type.startswith('ecdsa-'):
        return ec.generate_private_key(ec.SECP256R1() if key_type == 'ecdsa-p256' else ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type.split('-')[1]))


def key_type_of(key):
    """'ecdsa-p256', 'rsa-4096', ... for a private or public key; a description for others."""
    public = key.public_key() if hasattr(key, 'public_key') else key
    if isinstance(public, rsa.RSAPublicKey):
        return 'rsa-%d' % public.key_size
    if isinstance(public, ec.EllipticCurvePublicKey):
        return {'secp256r1': 'ecdsa-p256', 'secp384r1': 'ecdsa-p384'}.get(public.curve.name,
                                                                          'ecdsa-%s' % public.curve.name)
    return type(public).__name__


def public_der(key):
    public = key.public_key() if hasattr(key, 'public_key') else key
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_public_key(a, b):
    return public_der(a) == public_der(b)


def is_encrypted_pem(data):
    """PKCS#8 ``ENCRYPTED PRIVATE KEY`` or a traditional key with ``Proc-Type: 4,ENCRYPTED``."""
    head = data[:300]
    return b'BEGIN ENCRYPTED PRIVATE KEY' in head or b'Proc-Type: 4,ENCRYPTED' in head


def is_complete_pem(data):
    """A whole PEM block (BEGIN ... END of the same type) is there: the file is not cut short."""
    return _PEM_BLOCK.search(data) is not None


class LoadedKey(object):
    """A private key read from disk; ``reencrypt`` when a passphrase was given for a plain key."""

    def __init__(self, key, reencrypt=False):
        self.key = key
        self.reencrypt = reencrypt

    @property
    def key_type(self):
        return key_type_of(self.key)


def load_private_key(data, passphrase, label, passphrase_option='privatekey_passphrase'):
    """Parse a PEM private key; ``label`` ('privatekey_path /x/ca.key') names it in every message.

    A key the user can make readable (encrypted and no or a wrong passphrase) is a PKIError: it is never
    replaced. Bytes that are no private key at all (truncated, garbage) are a DamagedFile.
    A readable key of an unsupported type is returned as it is; callers compare its type.
    """
    encrypted = is_encrypted_pem(data)
    if not is_complete_pem(data):
        raise DamagedFile('%s is not a PEM private key (empty, truncated or not PEM)' % label)
    if encrypted and not passphrase:
        raise PKIError('%s is encrypted and no passphrase was given: set %s; nothing was replaced'
                       % (label, passphrase_option))
    password = passphrase.encode('utf-8') if (passphrase and encrypted) else None
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        if encrypted:
            raise PKIError('%s cannot be decrypted with the given %s (wrong passphrase, or the file is damaged); '
                           'nothing was replaced' % (label, passphrase_option))
        raise DamagedFile('%s is not a readable PEM private key (%s)' % (label, _first_line(exc)))
    except UnsupportedAlgorithm as exc:
        raise DamagedFile('%s holds a key of an unsupported algorithm (%s)' % (label, _first_line(exc)))
    return LoadedKey(key, reencrypt=bool(passphrase) and not encrypted)


def dump_private_key(key, passphrase):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode('utf-8')) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _first_line(exc):
    return str(exc).split('\n', maxsplit=1)[0]
