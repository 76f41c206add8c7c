# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CRLs signed by our CA, checked by openssl the way nginx checks them (``ssl_crl``: CRL_CHECK + CRL_CHECK_ALL)."""

from __future__ import annotations

import datetime
import subprocess

import pytest
from cryptography import x509

from ansible_collections.berth.registry.plugins.module_utils._pki.certs import dump_certificate, not_after
from ansible_collections.berth.registry.plugins.module_utils._pki.crl import (
    Revoked, build_crl, crl_differences, crl_number, dump_crl, crl_signed_by, load_crl, next_update, revoked_serials,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import DamagedFile
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import generate_private_key
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import ClientCertificate, Request, issue

from .conftest import CA

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)


def client(ca, name='client1'):
    return issue(Request(ClientCertificate(), {'CN': name}, 'ecdsa-p256', 397), generate_private_key('ecdsa-p256'),
                 ca.key, ca.cert)


def verify(tmp_path, ca, cert, crl):
    (tmp_path / 'ca.crt').write_bytes(dump_certificate(ca.cert))
    (tmp_path / 'crl.pem').write_bytes(dump_crl(crl))
    (tmp_path / 'client.crt').write_bytes(dump_certificate(cert))
    proc = subprocess.run(['openssl', 'verify', '-crl_check_all', '-CAfile', str(tmp_path / 'ca.crt'),
                           '-CRLfile', str(tmp_path / 'crl.pem'), '-purpose', 'sslclient', str(tmp_path / 'client.crt')],
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


def test_an_empty_crl_lets_every_certificate_of_the_ca_through(ca, tmp_path):
    crl = build_crl(ca.cert, ca.key, [], 1)
    assert revoked_serials(crl) == [] and crl_number(crl) == 1 and crl_signed_by(crl, ca.cert)
    ok, text = verify(tmp_path, ca, client(ca), crl)
    assert ok, text


def test_a_revoked_certificate_is_refused_and_the_others_pass(ca, tmp_path):
    gone, staying = client(ca, 'gone'), client(ca, 'staying')
    crl = build_crl(ca.cert, ca.key, [Revoked(gone.serial_number, NOW)], 7)
    assert revoked_serials(crl) == [gone.serial_number] and crl_number(crl) == 7
    ok, text = verify(tmp_path, ca, gone, crl)
    assert not ok and 'certificate revoked' in text
    ok, text = verify(tmp_path, ca, staying, crl)
    assert ok, text
    entry = crl.get_revoked_certificate_by_serial_number(gone.serial_number)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.cessation_of_operation


def test_a_crl_never_outlives_its_ca():
    short = CA(days=100)
    crl = build_crl(short.cert, short.key, [], 1, validity_days=397)
    assert next_update(crl) <= not_after(short.cert)
    # and is then not renewed on every run although its nextUpdate is near
    assert not crl_differences(crl, short.cert, [], renew_before_days=365)


def test_differences_say_what_is_wrong(ca):
    crl = build_crl(ca.cert, ca.key, [Revoked(17, NOW)], 1, now=NOW, validity_days=397)
    assert not crl_differences(crl, ca.cert, [17], renew_before_days=30, now=NOW)
    assert crl_differences(crl, ca.cert, [17, 255], now=NOW).as_list() == [
        {'field': 'crl revoked', 'before': ['11'], 'after': ['11', 'FF']}]
    late = NOW + datetime.timedelta(days=370)
    assert crl_differences(crl, ca.cert, [17], renew_before_days=30, now=late).fields == ['crl next_update']
    other = CA()
    assert crl_differences(crl, other.cert, [17], now=NOW).fields == ['crl issuer']


def test_a_crl_signed_by_another_key_with_the_same_name_is_not_ours(ca):
    impostor = CA()  # same subject (the how-to's), another key
    crl = build_crl(impostor.cert, impostor.key, [], 1)
    assert crl.issuer == ca.cert.subject and not crl_signed_by(crl, ca.cert)


@pytest.mark.parametrize('data', [b'', b'garbage', b'-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'])
def test_damaged_bytes_name_the_file(data):
    with pytest.raises(DamagedFile, match='crl.pem is not a readable PEM CRL'):
        load_crl(data, 'crl.pem')
