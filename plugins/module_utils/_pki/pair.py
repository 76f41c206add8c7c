# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A key + certificate pair as found on disk, and the CA that signs.

Reading sorts every problem into one of two piles:
* the user can fix it (encrypted and no or a wrong passphrase, permission denied, a directory or a
  symlink loop where the file should be, a file too large): a PKIError now, nothing is replaced;
* the bytes are no key/certificate (truncated, garbage): recorded as ``key_problem``/``cert_problem``
  for the decisions, where the regenerate policy says whether the file may be replaced.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os

from ansible_collections.berth.registry.plugins.module_utils._files import read_file
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import is_ca, load_certificate
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import DamagedFile, PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import (
    KEY_TYPES, key_type_of, load_private_key, same_public_key,
)


class PairFiles(object):
    """Where a pair lives and how its files look: plain values, and the option names messages use.

    ``mode``/``owner``/``group`` apply to the certificate and the full chain; the key is always 0600
    (same owner and group). ``backup``: keep a timestamped copy of files that are replaced.
    """

    def __init__(self, cert_path, key_path, passphrase=None, fullchain_path=None, mode='0644', owner=None,
                 group=None, backup=False, options=None):
        self.cert_path = cert_path
        self.key_path = key_path
        self.passphrase = passphrase
        self.fullchain_path = fullchain_path
        self.mode = mode
        self.owner = owner
        self.group = group
        self.backup = backup
        self.options = dict({'cert': 'path', 'key': 'privatekey_path', 'passphrase': 'privatekey_passphrase',
                             'fullchain': 'fullchain_path'}, **(options or {}))

    def label(self, which):
        path = {'cert': self.cert_path, 'key': self.key_path, 'fullchain': self.fullchain_path}[which]
        return '%s %s' % (self.options[which], path)

    def check_directories(self):
        """Each file's directory exists (nothing is created here)."""
        for which, path in (('cert', self.cert_path), ('key', self.key_path), ('fullchain', self.fullchain_path)):
            if path is None:
                continue
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                raise PKIError('%s: directory %s does not exist' % (self.options[which], directory))


class PairOnDisk(object):
    """What the pair's files hold now. Raises PKIError for what the user must fix (see module doc)."""

    def __init__(self, files):
        self.files = files
        self.cert = self.cert_problem = self.key = self.key_problem = None
        self.key_reencrypt = False
        self.cert_bytes = read_file(files.cert_path, files.options['cert'])
        if self.cert_bytes is not None:
            try:
                self.cert = load_certificate(self.cert_bytes, files.label('cert'))
            except DamagedFile as exc:
                self.cert_problem = str(exc)
        key_bytes = read_file(files.key_path, files.options['key'])
        self.key_exists = key_bytes is not None
        if key_bytes is not None:
            try:
                loaded = load_private_key(key_bytes, files.passphrase, files.label('key'), files.options['passphrase'])
            except DamagedFile as exc:
                self.key_problem = str(exc)
            else:
                self.key, self.key_reencrypt = loaded.key, loaded.reencrypt

    @property
    def cert_exists(self):
        return self.cert_bytes is not None

    @property
    def exists(self):
        return self.cert_exists or self.key_exists

    def key_matches_cert(self):
        return self.key is not None and self.cert is not None and same_public_key(self.key, self.cert)

    def usable_key(self, key_type):
        """The existing key when it can sign a new certificate of ``key_type``, else None."""
        if self.key is not None and key_type_of(self.key) == key_type:
            return self.key
        return None


class Issuer(object):
    """The CA that signs: its certificate (and bytes, for the full chain) and key.

    ``Issuer.pending(path)``: the CA does not exist yet (check mode before the tls_ca task ran).
    """

    def __init__(self, cert, cert_bytes, key, path):
        self.cert = cert
        self.cert_bytes = cert_bytes
        self.key = key
        self.path = path

    @classmethod
    def pending(cls, path):
        return cls(None, None, None, path)


def load_issuer(ca_path, ca_key_path, passphrase, options=None):
    """The signing CA; every problem (missing, damaged, wrong passphrase, not a CA, key of another CA)
    is a PKIError naming the option and the path: the CA is never changed by the certificates it signs."""
    options = dict({'cert': 'ca_path', 'key': 'ca_privatekey_path', 'passphrase': 'ca_privatekey_passphrase'},
                   **(options or {}))
    cert_bytes = read_file(ca_path, options['cert'])
    key_bytes = read_file(ca_key_path, options['key'])
    for option, path, data in ((options['cert'], ca_path, cert_bytes), (options['key'], ca_key_path, key_bytes)):
        if data is None:
            raise PKIError('%s: %s does not exist' % (option, path))
    try:
        cert = load_certificate(cert_bytes, '%s %s' % (options['cert'], ca_path))
        key = load_private_key(key_bytes, passphrase, '%s %s' % (options['key'], ca_key_path), options['passphrase']).key
    except DamagedFile as exc:
        raise PKIError(str(exc))
    if not is_ca(cert):
        raise PKIError('%s: %s is not a CA certificate (basicConstraints CA:FALSE or missing)' % (options['cert'], ca_path))
    if key_type_of(key) not in KEY_TYPES:
        raise PKIError('%s: %s holds a %s key, which cannot sign here; supported: %s'
                       % (options['key'], ca_key_path, key_type_of(key), ', '.join(KEY_TYPES)))
    if not same_public_key(key, cert):
        raise PKIError('%s: %s does not match the CA certificate %s %s'
                       % (options['key'], ca_key_path, options['cert'], ca_path))
    return Issuer(cert, cert_bytes, key, ca_path)
