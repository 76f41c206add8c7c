# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared material for the PKI unit tests: one CA per session, pairs written to tmp_path."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._pki.certs import dump_certificate
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import dump_private_key, generate_private_key
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import Request, RootCA, ServerCertificate, issue

HOWTO_SUBJECT = {'C': 'CN', 'ST': 'Sichuan', 'L': 'Chengdu', 'O': 'GTDQ', 'CN': 'docker.gt.com CA'}


class CA(object):
    def __init__(self, subject=None, path_length=0, days=3650, key_type='ecdsa-p256'):
        self.key = generate_private_key(key_type)
        self.request = Request(RootCA(path_length), subject or HOWTO_SUBJECT, key_type, days)
        self.cert = issue(self.request, self.key)

    def server(self, dns=('docker.gt.com',), ips=('127.0.0.1',), days=397, key=None, now=None, subject=None):
        key = key or generate_private_key('ecdsa-p256')
        request = server_request(dns, ips, days, subject=subject)
        return key, issue(request, key, self.key, self.cert, now=now)

    def write(self, directory, name='ca', passphrase=None):
        return write_pair(directory, self.cert, self.key, name, passphrase)


def server_request(dns=('docker.gt.com',), ips=('127.0.0.1',), days=397, key_type='ecdsa-p256', subject=None):
    return Request(ServerCertificate(), subject if subject is not None else {'CN': dns[0]}, key_type, days,
                   dns_names=list(dns), ip_addresses=list(ips))


def write_pair(directory, cert, key, name='server', passphrase=None):
    cert_path, key_path = str(directory / ('%s.crt' % name)), str(directory / ('%s.key' % name))
    with open(cert_path, 'wb') as f:
        f.write(dump_certificate(cert))
    with open(key_path, 'wb') as f:
        f.write(dump_private_key(key, passphrase))
    return cert_path, key_path


@pytest.fixture(scope='session')
def ca():
    return CA()
