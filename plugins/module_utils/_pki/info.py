# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The read-only view behind tls_cert_info: a certificate, and whether a key and a CA fit it.

Every file that cannot be read or parsed is a PKIError naming the option and the path (read-only: there
is nothing to replace). Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._files import read_file
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import (
    certificate_summary, der, is_ca, is_signed_by, load_certificate, not_after, utcnow,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import load_private_key, same_public_key


def _read(path, option):
    data = read_file(path, option)
    if data is None:
        raise PKIError('%s: %s does not exist' % (option, path))
    return data


def certificate_info(path, privatekey_path=None, privatekey_passphrase=None, ca_path=None, now=None):
    """(info, problems): the certificate's metadata (and the CA's), whether the key matches it, whether the
    CA signed it; problems in words (mismatches, expiry)."""
    cert = load_certificate(_read(path, 'path'), 'path %s' % path)
    info = certificate_summary(cert)
    info.update(path=path, is_ca=is_ca(cert), expired=not_after(cert) <= (now or utcnow()))
    problems = []
    if privatekey_path:
        key = load_private_key(_read(privatekey_path, 'privatekey_path'), privatekey_passphrase,
                               'privatekey_path %s' % privatekey_path).key
        info['key_matches'] = same_public_key(key, cert)
        if not info['key_matches']:
            problems.append('privatekey_path %s does not match the certificate %s' % (privatekey_path, path))
    if ca_path:
        ca_cert = load_certificate(_read(ca_path, 'ca_path'), 'ca_path %s' % ca_path)
        info['ca'] = certificate_summary(ca_cert)
        info['signed_by_ca'] = is_signed_by(cert, ca_cert) or der(cert) == der(ca_cert)
        if not info['signed_by_ca']:
            problems.append('the certificate %s is not signed by the CA ca_path %s' % (path, ca_path))
    if info['expired']:
        problems.append('the certificate %s expired on %s' % (path, info['not_after']))
    return info, problems
