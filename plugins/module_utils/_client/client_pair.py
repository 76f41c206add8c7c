# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""This node's client certificate for the registry (mutual TLS), where a runtime presents it from. Stdlib only.

The pair is made on the controller (which holds the CA key; clients need nothing but python3) and given to
this node's run only. Each runtime reads it from its own place: Docker ``certs.d/<host:port>/client.cert`` +
``client.key``, containers/image any ``*.cert`` + ``*.key`` in its certs.d directory, containerd the paths in
hosts.toml's ``client``. Files are read per connection: nothing restarts. The key is 0600 and written before
its certificate (both staged first); diffs show the certificate's fingerprint and never the key.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from ansible_collections.berth.registry.plugins.module_utils._certs_d import CertsDirError, certificates, fingerprints
from ansible_collections.berth.registry.plugins.module_utils._client.base import PlannedFile

CERT_FILE = 'client.cert'
KEY_FILE = 'client.key'
KEY_LABELS = ('PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY')
_BLOCK = re.compile(r'-----BEGIN ([^-\r\n]*)-----(.*?)-----END \1-----', re.S)
_BEGIN = re.compile(r'-----BEGIN ([^-\r\n]*)-----')


class ClientCertificate(object):
    """A validated pair: ``cert`` (PEM certificate(s), canonical) and ``key`` (PEM private key, unencrypted)."""

    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @classmethod
    def parse(cls, cert, key, option='client_certificate'):
        """Both PEM texts checked (never shown): the certificate(s), then exactly one unencrypted private key."""
        pems = certificates(cert, '%s.cert' % option, 'the client certificate')
        if not isinstance(key, str):
            raise CertsDirError('%s.key must be the PEM text of the private key (the value is not shown)' % option)
        labels = _BEGIN.findall(key)
        blocks = _BLOCK.findall(key)
        if len(labels) != 1 or len(blocks) != 1 or blocks[0][0] not in KEY_LABELS:
            found = ', '.join(labels) or 'no PEM block'
            raise CertsDirError('%s.key must hold exactly one unencrypted private key (%s); found: %s (the value is '
                                'not shown)' % (option, ', '.join('-----BEGIN %s-----' % k for k in KEY_LABELS), found))
        label, body = blocks[0]
        try:
            der = base64.b64decode(''.join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            der = b''
        if len(der) < 2 or der[0] != 0x30:
            raise CertsDirError('%s.key: the %s block is not valid base64 DER (the value is not shown)' % (option, label))
        b64 = base64.b64encode(der).decode('ascii')
        canonical = '-----BEGIN %s-----\n%s\n-----END %s-----\n' % (
            label, '\n'.join(b64[i:i + 64] for i in range(0, len(b64), 64)), label)
        return cls(''.join(pems), canonical)


class ClientPairFiles(object):
    """The node's pair at each of ``pairs`` [(cert path, key path)] of one runtime: written when given, removed
    with ``remove``, left alone when neither (mutual TLS is not managed on this run)."""

    def __init__(self, writer, runtime, pairs, option):
        self.writer = writer
        self.runtime = runtime
        self.pairs = list(pairs)
        self.option = option
        self.pending = []  # (PlannedFile key, PlannedFile cert)

    def plan(self, tracker, desired):
        """From the desired state: write ``desired.client_certificate``, or remove the pair when
        ``desired.client_certificate_absent`` (state=absent too), or leave it alone when neither."""
        pair, remove = desired.client_certificate, desired.client_certificate_absent
        for cert_path, key_path in self.pairs:
            cert = PlannedFile(self.writer, cert_path, self.option, mode=0o644)
            key = PlannedFile(self.writer, key_path, self.option, mode=0o600)
            cert_field, key_field = ('%s client certificate %s' % (self.runtime, cert_path),
                                     '%s client key %s' % (self.runtime, key_path))
            if remove:
                # the key is shown as present/absent only, the certificate by its fingerprint
                gone = [key.plan_absent(tracker, key_field, 'present'),
                        cert.plan_absent(tracker, cert_field, fingerprints(cert.current))]
                if any(gone):
                    self.pending.append((key, cert))
                continue
            if pair is None:
                continue
            key_changed = key.plan(tracker, key_field, pair.key.encode('ascii'),
                                   None if key.current is None else 'present', 'present', secret=True)
            cert_changed = cert.plan(tracker, cert_field, pair.cert.encode('ascii'), fingerprints(cert.current),
                                     fingerprints(pair.cert.encode('ascii')))
            if key_changed or cert_changed:
                self.pending.append((key, cert))

    def apply(self):
        for key, cert in self.pending:
            if key.remove or cert.remove:
                key.apply()
                cert.apply()
                continue
            directory = os.path.dirname(os.path.abspath(key.args['path']))
            if not os.path.isdir(directory):
                self.writer.ensure_directory(directory, 0o755)
            writes = [(p.args, p.data) for p in (key, cert) if p.data is not None]
            if writes:  # key first, both staged before the first rename
                self.writer.write_together(writes)
            for planned in (key, cert):
                if planned.data is None and planned.attributes_differ:
                    self.writer.apply_attributes(planned.args)

    def paths(self):
        return [{'cert': c, 'key': k} for c, k in self.pairs]

    def presented(self, desired):
        """The (cert, key) paths a runtime configuration should name after this run: given now, or there already
        and not removed; None otherwise (one entry per directory, in ``pairs`` order)."""
        result = []
        for cert_path, key_path in self.pairs:
            there = os.path.isfile(cert_path) and os.path.isfile(key_path)
            keep = desired.client_certificate is not None or (there and not desired.client_certificate_absent)
            result.append((cert_path, key_path) if keep else None)
        return result


def pairs_next_to(ca_paths):
    """The pair next to each CA file, where Docker and containers/image look: ``<certs.d>/<host:port>/client.cert``
    + ``client.key`` (containers/image takes any ``*.cert`` with its ``*.key``; containerd the paths hosts.toml
    names)."""
    return [(os.path.join(os.path.dirname(p), CERT_FILE), os.path.join(os.path.dirname(p), KEY_FILE)) for p in ca_paths]
