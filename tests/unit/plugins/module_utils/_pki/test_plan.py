# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan-apply-dump object on real files, without Ansible (FileWriter(None), as an action plugin runs it)."""

from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import load_certificate
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import (
    dump_private_key, generate_private_key, key_type_of, load_private_key, same_public_key,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.options import ca_plan, cert_plan
from ansible_collections.berth.registry.plugins.module_utils._pki.plan import LOCK_NAME, pki_lock

PASSPHRASE = 'Mk-2c8e4f-CA-PASSPHRASE-6a1b'
WRONG = 'Mk-9f0d3e-WRONG-PASSPHRASE-5b7c'


def ca_args(d, **extra):
    args = {'path': str(d / 'ca.crt'), 'privatekey_path': str(d / 'ca.key'), 'subject': {'CN': 'Unit CA'}}
    args.update(extra)
    return args


def cert_args(d, **extra):
    args = {'path': str(d / 'server.crt'), 'privatekey_path': str(d / 'server.key'), 'ca_path': str(d / 'ca.crt'),
            'ca_privatekey_path': str(d / 'ca.key'), 'dns_names': ['docker.gt.com']}
    args.update(extra)
    return args


def run(factory, **args):
    plan = factory(**args)
    plan.plan()
    plan.apply()
    return plan, plan.result(True)


def snapshot(d):
    return dict((name, (os.lstat(str(d / name)).st_mode, (d / name).read_bytes() if (d / name).is_file() else None))
                for name in sorted(os.listdir(str(d))))


def fields(result):
    return [item['field'] for item in result['differences']]


def test_a_ca_is_created_once(tmp_path):
    plan, first = run(ca_plan, check_mode=True, **ca_args(tmp_path))
    assert first['changed'] and fields(first) == ['certificate', 'privatekey'] and os.listdir(str(tmp_path)) == []
    assert first['fingerprint_sha256'] is None and first['subject_string'] == '/CN=Unit CA'
    plan, created = run(ca_plan, **ca_args(tmp_path))
    assert created['changed'] and created['fingerprint_sha256'] and 'dns_names' not in created
    assert stat.S_IMODE(os.stat(str(tmp_path / 'ca.key')).st_mode) == 0o600
    plan, again = run(ca_plan, **ca_args(tmp_path))
    assert not again['changed'] and again['differences'] == [] and 'diff' not in again
    assert again['fingerprint_sha256'] == created['fingerprint_sha256']


@pytest.mark.parametrize('regenerate', ['fail', 'keep', 'on_change', 'always'])
@pytest.mark.parametrize('passphrase', [WRONG, None])
def test_a_ca_key_that_needs_its_passphrase_is_never_replaced(tmp_path, regenerate, passphrase):
    """Issue 9: with a wrong passphrase, regenerate=on_change replaced the CA (old key gone, no backup)."""
    run(ca_plan, **ca_args(tmp_path, privatekey_passphrase=PASSPHRASE))
    before = snapshot(tmp_path)
    with pytest.raises(BerthError, match='privatekey_path %s' % (tmp_path / 'ca.key')) as exc:
        run(ca_plan, **ca_args(tmp_path, privatekey_passphrase=passphrase, regenerate=regenerate,
                               subject={'CN': 'Other CA'}))
    assert 'nothing was replaced' in str(exc.value) and PASSPHRASE not in str(exc.value)
    assert snapshot(tmp_path) == before


def test_a_damaged_ca_key_is_replaced_only_when_allowed_and_then_backed_up(tmp_path):
    run(ca_plan, **ca_args(tmp_path))
    (tmp_path / 'ca.key').write_bytes((tmp_path / 'ca.key').read_bytes()[:100])
    damaged = snapshot(tmp_path)
    with pytest.raises(BerthError, match=r'The existing CA certificate .* differs from the request: privatekey: '
                                         r'privatekey_path .* is not a PEM private key .* regenerate=on_change'):
        run(ca_plan, **ca_args(tmp_path))
    assert snapshot(tmp_path) == damaged
    plan, kept = run(ca_plan, **ca_args(tmp_path, regenerate='keep'))
    assert not kept['changed'] and 'Keeping the existing CA certificate' in plan.warnings[0]
    assert snapshot(tmp_path) == damaged
    plan, replaced = run(ca_plan, **ca_args(tmp_path, regenerate='on_change'))
    assert replaced['changed'] and fields(replaced) == ['privatekey']
    assert open(replaced['backup_privatekey'], 'rb').read() == damaged['ca.key'][1]
    assert open(replaced['backup_file'], 'rb').read() == damaged['ca.crt'][1]
    cert = load_certificate((tmp_path / 'ca.crt').read_bytes(), 'c')
    assert same_public_key(load_private_key((tmp_path / 'ca.key').read_bytes(), None, 'k').key, cert)


def test_regenerate_policies(tmp_path):
    plan, first = run(ca_plan, **ca_args(tmp_path))
    with pytest.raises(BerthError, match='subject: /CN=Unit CA -> /CN=Renamed CA. Nothing was written. A new CA breaks every client') as exc:
        run(ca_plan, **ca_args(tmp_path, subject={'CN': 'Renamed CA'}))
    assert exc.value.result['differences'] == [{'field': 'subject', 'before': '/CN=Unit CA', 'after': '/CN=Renamed CA'}]
    plan, replaced = run(ca_plan, **ca_args(tmp_path, subject={'CN': 'Renamed CA'}, regenerate='on_change',
                                            backup=False))
    assert replaced['changed'] and replaced['fingerprint_sha256'] != first['fingerprint_sha256']
    assert 'backup_file' not in replaced and sorted(os.listdir(str(tmp_path))) == ['ca.crt', 'ca.key']
    plan, always = run(ca_plan, **ca_args(tmp_path, subject={'CN': 'Renamed CA'}, regenerate='always', backup=False))
    assert always['differences'] == [{'field': 'regenerate', 'before': None, 'after': 'always'}]
    assert plan.new_key


def test_an_existing_key_of_the_right_type_is_reused_when_the_ca_certificate_is_missing(tmp_path):
    key = generate_private_key('ecdsa-p256')
    (tmp_path / 'ca.key').write_bytes(dump_private_key(key, None))
    plan, result = run(ca_plan, **ca_args(tmp_path))
    assert fields(result) == ['certificate', 'privatekey mode'] and same_public_key(key, load_certificate(
        (tmp_path / 'ca.crt').read_bytes(), 'c'))


def test_server_certificate_four_steps_then_renewal_keeps_the_key(tmp_path):
    run(ca_plan, **ca_args(tmp_path, privatekey_passphrase=PASSPHRASE))
    args = cert_args(tmp_path, ca_privatekey_passphrase=PASSPHRASE, fullchain_path=str(tmp_path / 'full.crt'))
    plan, check = run(cert_plan, check_mode=True, **args)
    assert check['changed'] and not (tmp_path / 'server.crt').exists()
    plan, issued = run(cert_plan, **args)
    assert issued['changed'] and issued['issuer_fingerprint_sha256'] and issued['fullchain_path']
    assert (tmp_path / 'full.crt').read_bytes() == (tmp_path / 'server.crt').read_bytes() + (tmp_path / 'ca.crt').read_bytes()
    for check_mode in (True, False):
        plan, again = run(cert_plan, check_mode=check_mode, **args)
        assert not again['changed'] and again['serial'] == issued['serial']
    key_bytes = (tmp_path / 'server.key').read_bytes()
    plan, renewed = run(cert_plan, **dict(args, renew_before_days=500))
    assert fields(renewed) == ['not_after'] and renewed['serial'] != issued['serial']
    assert renewed['not_after'] == renewed['differences'][0]['after']
    assert (tmp_path / 'server.key').read_bytes() == key_bytes, 'renewal replaced the key'
    plan, forced = run(cert_plan, **dict(args, force=True))
    assert forced['differences'] == [{'field': 'force', 'before': None, 'after': True}]
    assert (tmp_path / 'server.key').read_bytes() != key_bytes


def test_a_server_key_with_a_wrong_passphrase_is_not_replaced_even_with_force(tmp_path):
    run(ca_plan, **ca_args(tmp_path))
    run(cert_plan, **cert_args(tmp_path, privatekey_passphrase=PASSPHRASE))
    before = snapshot(tmp_path)
    for extra in ({'force': True}, {'dns_names': ['other.gt.com']}, {}):
        with pytest.raises(BerthError, match='privatekey_path .*server.key cannot be decrypted'):
            run(cert_plan, **cert_args(tmp_path, privatekey_passphrase=WRONG, **extra))
    assert snapshot(tmp_path) == before


def test_reencryption_fullchain_and_attributes_are_changes_too(tmp_path):
    run(ca_plan, **ca_args(tmp_path))
    args = cert_args(tmp_path, fullchain_path=str(tmp_path / 'full.crt'))
    run(cert_plan, **args)
    os.chmod(str(tmp_path / 'server.crt'), 0o600)
    (tmp_path / 'full.crt').write_bytes(b'old chain')
    plan, result = run(cert_plan, **dict(args, privatekey_passphrase=PASSPHRASE))
    assert result['differences'] == [
        {'field': 'privatekey', 'before': 'not encrypted', 'after': 'encrypted with privatekey_passphrase'},
        {'field': 'fullchain', 'before': 'out of date', 'after': 'certificate + CA'},
        {'field': 'certificate mode', 'before': '0600', 'after': '0644'}]
    assert b'ENCRYPTED' in (tmp_path / 'server.key').read_bytes()
    assert stat.S_IMODE(os.stat(str(tmp_path / 'server.crt')).st_mode) == 0o644
    plan, again = run(cert_plan, **dict(args, privatekey_passphrase=PASSPHRASE))
    assert not again['changed']


def test_symlinks_are_followed_for_content_and_attributes(tmp_path):
    """Issue 9: a content write replaced the link with a file."""
    store = tmp_path / 'store'
    store.mkdir()
    run(ca_plan, **ca_args(tmp_path))
    os.symlink(str(store / 'server.crt'), str(tmp_path / 'server.crt'))
    run(cert_plan, **cert_args(tmp_path, validity_days=10))
    run(cert_plan, **cert_args(tmp_path, mode='0640'))  # renewal: a content write
    assert os.path.islink(str(tmp_path / 'server.crt'))
    assert stat.S_IMODE(os.stat(str(store / 'server.crt')).st_mode) == 0o640
    os.chmod(str(store / 'server.crt'), 0o600)
    plan, fixed = run(cert_plan, **cert_args(tmp_path, mode='0640'))  # a metadata-only fix
    assert fields(fixed) == ['certificate mode'] and os.path.islink(str(tmp_path / 'server.crt'))
    assert stat.S_IMODE(os.stat(str(store / 'server.crt')).st_mode) == 0o640


def test_check_mode_before_the_ca_exists_reports_the_certificate_as_to_be_issued(tmp_path):
    plan, result = run(cert_plan, check_mode=True, **cert_args(tmp_path))
    assert result['changed'] and result['issuer_fingerprint_sha256'] is None and 'does not exist (yet)' in plan.warnings[0]
    with pytest.raises(BerthError, match='ca_path: .*ca.crt does not exist'):
        run(cert_plan, **cert_args(tmp_path))
    assert os.listdir(str(tmp_path)) == []


def test_a_long_host_name_is_issued_without_cn(tmp_path):
    name = 'registry-with-a-rather-long-name.build-cluster-07.eu-west.corp.example'
    run(ca_plan, **ca_args(tmp_path))
    plan, result = run(cert_plan, **cert_args(tmp_path, dns_names=[name]))
    assert result['subject'] == {} and result['dns_names'] == [name]
    assert not run(cert_plan, **cert_args(tmp_path, dns_names=[name]))[1]['changed']


def _create_ca(directory, queue):
    plan = ca_plan(**ca_args(directory))
    with plan.locked(timeout=60):
        plan.plan()
        plan.apply()
    queue.put(plan.result(False)['changed'])


def test_concurrent_runs_create_one_ca_under_the_lock(tmp_path):
    queue = multiprocessing.get_context('fork').Queue()
    procs = [multiprocessing.get_context('fork').Process(target=_create_ca, args=(tmp_path, queue)) for dummy in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert sorted(queue.get(timeout=5) for dummy in procs) == [False, False, True]
    cert = load_certificate((tmp_path / 'ca.crt').read_bytes(), 'c')
    assert same_public_key(load_private_key((tmp_path / 'ca.key').read_bytes(), None, 'k').key, cert)
    assert sorted(os.listdir(str(tmp_path))) == [LOCK_NAME, 'ca.crt', 'ca.key']
    assert key_type_of(cert.public_key()) == 'ecdsa-p256'


def test_a_held_lock_times_out_with_a_message(tmp_path):
    with pki_lock(str(tmp_path)):
        with pytest.raises(BerthError, match='another run has held the lock .*%s' % LOCK_NAME):
            with pki_lock(str(tmp_path), timeout=0.2):
                pass
    with pki_lock(str(tmp_path), timeout=0.2):
        pass
