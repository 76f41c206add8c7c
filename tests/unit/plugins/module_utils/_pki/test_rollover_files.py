# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CA rollover on a real PKI directory, without Ansible (as the action plugin runs it)."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import (
    der, fingerprint_sha256, is_signed_by, load_certificate,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.options import ca_plan, cert_plan
from ansible_collections.berth.registry.plugins.module_utils._pki.rollover_files import run_step

CLIENTS = ['c1', 'c2']
CA = {'subject': {'CN': 'Unit CA', 'O': 'berth'}, 'key_type': 'ecdsa-p256', 'validity_days': 3650}


def server_side(d):
    """What the server role does on every run: the CA (kept), the server certificate signed by ca.crt."""
    changed = []
    for plan in (ca_plan(path=str(d / 'ca.crt'), privatekey_path=str(d / 'ca.key'), subject=CA['subject']),
                 cert_plan(path=str(d / 'reg.crt'), privatekey_path=str(d / 'reg.key'), ca_path=str(d / 'ca.crt'),
                           ca_privatekey_path=str(d / 'ca.key'), dns_names=['reg.example'])):
        plan.plan()
        plan.apply()
        changed.append(bool(plan.differences))
    return changed


def step(d, name, **kwargs):
    kwargs.setdefault('ca_options', CA)
    kwargs.setdefault('clients', CLIENTS)
    result, dummy = run_step(str(d), name, **kwargs)
    return result


def fp(d, name):
    with open(str(d / name), 'rb') as f:
        return fingerprint_sha256(load_certificate(f.read(), name))


def confirm_all(d, result):
    return step(d, 'record', confirmed=dict((c, result['trust_fingerprints']) for c in CLIENTS))


def snapshot(d):
    out = {}
    for root, dummy, files in os.walk(str(d)):
        for name in files:
            if name == '.berth-pki.lock':
                continue
            path = os.path.join(root, name)
            with open(path, 'rb') as f:
                out[os.path.relpath(path, str(d))] = (f.read(), stat.S_IMODE(os.stat(path).st_mode))
    return out


@pytest.fixture
def pki(tmp_path):
    d = tmp_path / 'pki'
    d.mkdir()
    server_side(d)
    return d


def test_a_whole_rollover_never_leaves_a_client_without_the_signing_ca(pki):
    old = fp(pki, 'ca.crt')

    trust = step(pki, 'begin', target='trust')
    assert trust['changed'] and trust['phase'] == 'trust'
    new = fp(pki, 'ca-next.crt')
    assert trust['trust_fingerprints'] == [old, new]
    with open(str(pki / 'ca-trust.crt')) as f:
        assert f.read() == trust['trust_pem'] and trust['trust_pem'].count('BEGIN CERTIFICATE') == 2
    assert oct(os.stat(str(pki / 'ca-next.key')).st_mode & 0o777) == '0o600'
    assert oct(os.stat(str(pki / 'rollover.json')).st_mode & 0o777) == '0o600'
    assert server_side(pki) == [False, False], 'the server side changed during phase trust'

    # switch is refused until every client confirmed the new CA
    record = step(pki, 'record', confirmed={'c1': trust['trust_fingerprints']})
    assert record['waiting'] == ['c2']
    with pytest.raises(BerthError, match='1 client.*c2'):
        step(pki, 'switch')
    assert fp(pki, 'ca.crt') == old
    confirm_all(pki, trust)

    switch = step(pki, 'switch')
    assert switch['changed'] and switch['phase'] == 'switch'
    assert fp(pki, 'ca.crt') == new and fp(pki, 'ca-previous.crt') == old
    assert not os.path.exists(str(pki / 'ca-next.crt')) and not os.path.exists(str(pki / 'ca-next.key'))
    assert switch['trust_fingerprints'] == [old, new], 'the trust list must not change order over the switch'
    # the server side re-issues the registry's certificate under the new CA, once
    assert server_side(pki) == [False, True]
    assert server_side(pki) == [False, False]
    with open(str(pki / 'reg.crt'), 'rb') as f, open(str(pki / 'ca.crt'), 'rb') as g:
        assert is_signed_by(load_certificate(f.read(), 'reg'), load_certificate(g.read(), 'ca'))

    with open(str(pki / 'reg.crt'), 'rb') as f:
        retire = step(pki, 'retire', server_cert=f.read())
    assert retire['phase'] == 'retire' and retire['trust_fingerprints'] == [new]
    with open(str(pki / 'ca-trust.crt')) as f:
        assert f.read().count('BEGIN CERTIFICATE') == 1
    partial = step(pki, 'record', confirmed={'c1': [new]})
    assert partial['phase'] == 'retire' and partial['waiting'] == ['c2']
    done = step(pki, 'record', confirmed={'c2': [new]})
    assert done['phase'] == 'done' and not done['under_way']
    assert sorted(os.listdir(str(pki))) == ['.berth-pki.lock', 'ca.crt', 'ca.key', 'reg.crt', 'reg.key', 'retired',
                                            'rollover.json']
    (archived,) = os.listdir(str(pki / 'retired'))
    assert archived == 'ca-%s.crt' % old.replace(':', '')[:32]
    assert done['trust_fingerprints'] == [new] and done['trust_file'] is None


def test_every_step_rerun_changes_nothing(pki):
    trust = step(pki, 'begin', target='trust')
    confirm_all(pki, trust)
    before = snapshot(pki)
    assert not step(pki, 'begin', target='trust')['changed']
    assert not confirm_all(pki, trust)['changed']
    assert snapshot(pki) == before
    step(pki, 'switch')
    server_side(pki)
    before = snapshot(pki)
    for name, kwargs in (('begin', {'target': 'switch'}), ('switch', {}), ('record', {})):
        assert not step(pki, name, **kwargs)['changed'], name
    assert snapshot(pki) == before
    step(pki, 'retire')
    before = snapshot(pki)
    assert not step(pki, 'begin', target='retire')['changed']
    assert not step(pki, 'retire')['changed']
    assert snapshot(pki) == before
    done = confirm_all(pki, step(pki, 'status'))
    assert done['phase'] == 'done'
    before = snapshot(pki)
    for name, kwargs in (('begin', {'target': 'retire'}), ('switch', {}), ('retire', {}), ('record', {})):
        assert not step(pki, name, **kwargs)['changed'], name
    assert snapshot(pki) == before


def test_check_mode_writes_nothing_and_previews_the_next_ca(pki):
    before = snapshot(pki)
    result = step(pki, 'begin', target='trust', check_mode=True)
    assert result['changed'] and result['preview']
    assert len(result['trust_fingerprints']) == 2 and result['trust_pem'].count('BEGIN CERTIFICATE') == 2
    assert snapshot(pki) == before


def test_retire_refuses_while_the_registry_certificate_is_not_from_the_new_ca(pki):
    confirm_all(pki, step(pki, 'begin', target='trust'))
    step(pki, 'switch')
    with open(str(pki / 'reg.crt'), 'rb') as f:
        stale = f.read()  # the server side did not run: still signed by the old CA
    with pytest.raises(BerthError, match='not signed by the new CA'):
        step(pki, 'retire', server_cert=stale)
    with pytest.raises(BerthError, match='the certificate the registry serves'):
        step(pki, 'retire', served=der(load_certificate(stale, 'reg')))
    assert step(pki, 'status')['phase'] == 'switch'


def test_a_promotion_cut_short_resumes(pki):
    trust = step(pki, 'begin', target='trust')
    confirm_all(pki, trust)
    old, new = trust['trust_fingerprints']
    # the run died after saving the old CA and installing the new one, before recording the switch
    shutil.copy(str(pki / 'ca.crt'), str(pki / 'ca-previous.crt'))
    shutil.copy(str(pki / 'ca.key'), str(pki / 'ca-previous.key'))
    shutil.copy(str(pki / 'ca-next.crt'), str(pki / 'ca.crt'))
    shutil.copy(str(pki / 'ca-next.key'), str(pki / 'ca.key'))
    result = step(pki, 'switch')
    assert result['phase'] == 'switch' and result['changed']
    assert fp(pki, 'ca.crt') == new and fp(pki, 'ca-previous.crt') == old
    assert not os.path.exists(str(pki / 'ca-next.crt'))


def test_a_client_given_another_list_is_not_recorded(pki):
    trust = step(pki, 'begin', target='trust')
    result, warnings = run_step(str(pki), 'record', clients=CLIENTS,
                                confirmed={'c1': trust['trust_fingerprints'][:1], 'c2': trust['trust_fingerprints']})
    assert result['waiting'] == ['c1']
    assert 'not recorded' in warnings[0] and 'c1' in warnings[0]


def test_abort_deletes_the_next_ca_and_clients_go_back_to_the_old_one(pki):
    old = fp(pki, 'ca.crt')
    step(pki, 'begin', target='trust')
    result = step(pki, 'begin', target='abort')
    assert result['phase'] == 'none' and result['trust_fingerprints'] == [old]
    assert not os.path.exists(str(pki / 'ca-next.crt')) and not os.path.exists(str(pki / 'ca-trust.crt'))
    assert not step(pki, 'begin', target='abort')['changed']


def test_asking_for_a_phase_already_passed_fails(pki):
    confirm_all(pki, step(pki, 'begin', target='trust'))
    step(pki, 'switch')
    with pytest.raises(BerthError, match='already in phase switch'):
        step(pki, 'begin', target='trust')
    with pytest.raises(BerthError, match='can no longer be aborted'):
        step(pki, 'begin', target='abort')


def test_a_new_rollover_after_done_starts_from_the_current_ca(pki):
    confirm_all(pki, step(pki, 'begin', target='trust'))
    step(pki, 'switch')
    server_side(pki)
    step(pki, 'retire')
    confirm_all(pki, step(pki, 'status'))
    current = fp(pki, 'ca.crt')
    again = step(pki, 'begin', target='trust')
    assert again['phase'] == 'trust' and again['trust_fingerprints'][0] == current
    with open(str(pki / 'rollover.json')) as f:
        state = json.load(f)
    assert [h['phase'] for h in state['history']] == ['trust', 'switch', 'retire', 'done', 'trust']
    assert state['clients'] == {}


def test_without_a_ca_or_with_a_damaged_state_nothing_is_written(tmp_path):
    with pytest.raises(BerthError, match='does not exist'):
        run_step(str(tmp_path / 'absent'), 'status')
    with pytest.raises(BerthError, match='no CA to roll over yet'):
        run_step(str(tmp_path), 'begin', target='trust')
    server_side(tmp_path)
    (tmp_path / 'rollover.json').write_text('{"version": 1, "phase": "trust"')
    before = snapshot(tmp_path)
    with pytest.raises(BerthError, match='not valid JSON'):
        run_step(str(tmp_path), 'begin', target='trust')
    assert snapshot(tmp_path) == before


def test_a_passphrase_protected_ca_is_followed_by_a_passphrase_protected_next_ca(tmp_path):
    d = tmp_path / 'pki'
    d.mkdir()
    secret = 'Mk-7c1e2a-CA-PASSPHRASE-44b9'
    plan = ca_plan(path=str(d / 'ca.crt'), privatekey_path=str(d / 'ca.key'), subject=CA['subject'],
                   privatekey_passphrase=secret)
    plan.plan()
    plan.apply()
    step(d, 'begin', target='trust', ca_options=dict(CA, passphrase=secret))
    with open(str(d / 'ca-next.key'), 'rb') as f:
        next_key = f.read()
    assert b'ENCRYPTED' in next_key
    assert stat.S_IMODE(os.stat(str(d / 'ca-next.key')).st_mode) == 0o600
    # the server side signs with it after the switch, with the same passphrase
    confirm_all(d, step(d, 'status'))
    step(d, 'switch')
    issued = cert_plan(path=str(d / 'reg.crt'), privatekey_path=str(d / 'reg.key'), ca_path=str(d / 'ca.crt'),
                       ca_privatekey_path=str(d / 'ca.key'), ca_privatekey_passphrase=secret,
                       dns_names=['reg.example'])
    issued.plan()
    issued.apply()
    with open(str(d / 'reg.crt'), 'rb') as f, open(str(d / 'ca.crt'), 'rb') as g:
        assert is_signed_by(load_certificate(f.read(), 'reg.crt'), load_certificate(g.read(), 'ca.crt'))
