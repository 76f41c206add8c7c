# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry CA in dockerd's certs.d (<certs_dir>/<host:port>/ca.crt), stdlib only."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re

DEFAULT_CERTS_DIR = '/etc/docker/certs.d'

_PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----')


class CertsDirError(Exception):
    pass


def split_registry(registry):
    """'host[:port]' as users type it -> (host, port or None). IPv6 as [addr]:port."""
    value = registry.strip()
    if not value or '://' in value or '/' in value or any(c.isspace() for c in value):
        raise CertsDirError('registry %r must be host or host:port as typed in docker pull (no scheme, no path)'
                            % registry)
    m = re.match(r'^(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::([0-9]{1,5}))?$', value)
    if not m or (m.group(2) is not None and not 0 < int(m.group(2)) < 65536):
        raise CertsDirError('registry %r must be host or host:port' % registry)
    return m.group(1), (int(m.group(2)) if m.group(2) else None)


def cert_dir_names(registry):
    """certs.d directory names dockerd looks up for this registry.

    dockerd uses the name as typed; for port 443 both 'host' and 'host:443' are typed by users.
    """
    host, port = split_registry(registry)
    if port is None or port == 443:
        return ['%s:443' % host, host]
    return ['%s:%d' % (host, port)]


def normalize_pem(text):
    """Validate PEM certificate text; return it with exactly one trailing newline."""
    if not isinstance(text, str) or not text.strip().startswith('-----BEGIN CERTIFICATE-----'):
        raise CertsDirError('ca_content must be PEM certificate text beginning with -----BEGIN CERTIFICATE-----')
    blocks = _PEM_CERT.findall(text)
    if not blocks:
        raise CertsDirError('ca_content has no complete -----BEGIN/END CERTIFICATE----- block')
    for body in blocks:
        try:
            base64.b64decode(''.join(body.split()), validate=True)
        except (binascii.Error, ValueError) as e:
            raise CertsDirError('ca_content holds a certificate block that is not valid base64: %s' % e)
    return text.strip() + '\n'


def fingerprint(pem):
    """SHA-256 fingerprint (openssl style) of the first certificate's DER, or None."""
    blocks = _PEM_CERT.findall(pem or '')
    if not blocks:
        return None
    der = base64.b64decode(''.join(blocks[0].split()))
    digest = hashlib.sha256(der).hexdigest().upper()
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def ca_paths(certs_dir, registry):
    return [os.path.join(certs_dir, name, 'ca.crt') for name in cert_dir_names(registry)]
