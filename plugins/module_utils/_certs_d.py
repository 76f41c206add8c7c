# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CA certificates for a registry in a ``certs.d`` directory, stdlib only.

dockerd reads ``<certs_dir>/<host:port>/*.crt`` on every pull; containers/image (Podman, Buildah,
Skopeo, CRI-O) reads the same layout under /etc/containers/certs.d, and containerd's hosts.toml can
name the same file. Every certificate in a ``.crt`` file is trusted, so one file holding a list of
CA certificates (old + next during a rollover) is trusted as a whole.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._names import endpoint_text

DEFAULT_CERTS_DIR = '/etc/docker/certs.d'
CA_FILE = 'ca.crt'

_BEGIN = re.compile(r'-----BEGIN ([^-\r\n]*)-----')
_BLOCK = re.compile(r'-----BEGIN ([^-\r\n]*)-----(.*?)-----END \1-----', re.S)


class CertsDirError(BerthError):
    """CA content that is not (only) certificates, or a certs.d path that cannot be used."""


def foreign_blocks(text):
    """The PEM blocks (and dangling BEGIN lines onwards) of text that are not certificates.

    A module hides them (no_log) before refusing them, so a private key pasted into a CA option
    never shows in its output.
    """
    if not isinstance(text, str):
        return []
    found = [m.group(0) for m in _BLOCK.finditer(text) if m.group(1) != 'CERTIFICATE']
    for begin in _BEGIN.finditer(text):
        if begin.group(1) != 'CERTIFICATE' and not any(begin.group(0) in block for block in found):
            found.append(text[begin.start():])
    return found


def certificates(text, option='ca_content', what='the CA certificate(s)'):
    """The certificates of PEM text (one or a bundle), each re-encoded canonically (64-column base64).

    Only CERTIFICATE blocks may be there: any other block (a private key, a CSR) is refused
    without showing it; text outside the blocks (openssl's ``subject=`` lines) is dropped.
    """
    if not isinstance(text, str) or not text.strip():
        raise CertsDirError('%s must be PEM text with one or more -----BEGIN CERTIFICATE----- blocks' % option)
    labels = [m.group(1) for m in _BEGIN.finditer(text)]
    for index, label in enumerate(labels):
        if label != 'CERTIFICATE':
            raise CertsDirError('%s: PEM block %d is a %s, not a CERTIFICATE: give only %s, never a key (the value '
                                'is not shown)' % (option, index + 1, label or 'unnamed block', what))
    blocks = [m.group(2) for m in _BLOCK.finditer(text)]
    if not blocks or len(blocks) != len(labels):
        raise CertsDirError('%s: needs complete -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- blocks'
                            % option)
    pems = []
    for index, body in enumerate(blocks):
        try:
            der = base64.b64decode(''.join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise CertsDirError('%s: certificate %d is not valid base64' % (option, index + 1))
        if len(der) < 2 or der[0] != 0x30:
            raise CertsDirError('%s: certificate %d is not a DER certificate' % (option, index + 1))
        pems.append(pem_of(der))
    return pems


def pem_of(der):
    b64 = base64.b64encode(der).decode('ascii')
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % '\n'.join(lines)


def fingerprint(der):
    """SHA-256 fingerprint, openssl style (AA:BB:...)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def fingerprints(data):
    """'sha256 AA:..' of every certificate in bytes of a .crt file (what a diff shows), or None for no file."""
    if data is None:
        return None
    found = []
    for match in _BLOCK.finditer(data.decode('utf-8', 'replace')):
        try:
            found.append('sha256 %s' % fingerprint(base64.b64decode(''.join(match.group(2).split()))))
        except (binascii.Error, ValueError):
            found.append('(not a certificate)')
    return ', '.join(found) or '(no certificate)'


def certificate_fingerprints(data):
    """SHA-256 fingerprints (AA:BB:..) of the certificates in the bytes of a .crt file (None: no file)."""
    found = []
    for match in _BLOCK.finditer((data or b'').decode('utf-8', 'replace')):
        if match.group(1) != 'CERTIFICATE':
            continue
        try:
            found.append(fingerprint(base64.b64decode(''.join(match.group(2).split()))))
        except (binascii.Error, ValueError):
            continue
    return found


def dir_names(host, port):
    """certs.d directory names for a registry: 'host:port' (IPv6 in brackets); for port 443 also 'host',
    since users type both forms and dockerd uses the name as typed."""
    if port is None or port == 443:
        return [endpoint_text(host, 443), endpoint_text(host)]
    return [endpoint_text(host, port)]


def ca_paths(certs_dir, host, port):
    return [os.path.join(certs_dir, name, CA_FILE) for name in dir_names(host, port)]
