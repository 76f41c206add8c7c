# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.berth.registry.plugins.module_utils._pki import certs
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import DamagedFile, PKIError


@pytest.mark.parametrize('days', [0, -5, None, True, '397'])
def test_validity_must_be_a_positive_number_of_days(days):
    with pytest.raises(PKIError, match='validity_days must be a positive number of days, got'):
        certs.check_validity_days(days)


def test_validity_at_most_100_years():
    assert certs.check_validity_days(36500) == 36500
    with pytest.raises(PKIError, match='validity_days: 36501 days is more than 36500'):
        certs.check_validity_days(36501)


def test_fingerprint_is_what_openssl_prints(ca, tmp_path):
    path = tmp_path / 'ca.crt'
    path.write_bytes(certs.dump_certificate(ca.cert))
    openssl = subprocess.run(['openssl', 'x509', '-in', str(path), '-noout', '-fingerprint', '-sha256'],
                             capture_output=True, text=True, check=True).stdout.strip().split('=', 1)[1]
    assert certs.fingerprint_sha256(ca.cert) == openssl
    summary = certs.certificate_summary(ca.cert)
    assert summary['fingerprint_sha256'] == openssl and summary['subject']['CN'] == 'docker.gt.com CA'
    assert summary['dns_names'] == [] and summary['not_after'].endswith('Z')


def test_signature_check(ca):
    dummy, cert = ca.server()
    assert certs.is_signed_by(cert, ca.cert) and certs.is_ca(ca.cert) and not certs.is_ca(cert)
    other = type(ca)()  # same subject, other key
    assert not certs.is_signed_by(cert, other.cert)


def test_garbage_is_a_damaged_file_naming_the_label():
    with pytest.raises(DamagedFile, match='path /x/c.crt is not a readable PEM certificate'):
        certs.load_certificate(b'-----BEGIN CERTIFICATE-----\nxx\n', 'path /x/c.crt')
