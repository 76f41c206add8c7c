# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CA rollover's state machine: pure, no files."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._pki import rollover
from ansible_collections.berth.registry.plugins.module_utils._pki.rollover import RolloverError, State

OLD = {'fingerprint': 'AA:' * 31 + 'AA', 'subject': '/CN=old', 'not_after': '2030-01-01T00:00:00Z'}
NEW = {'fingerprint': 'BB:' * 31 + 'BB', 'subject': '/CN=new', 'not_after': '2036-01-01T00:00:00Z'}
OTHER = 'CC:' * 31 + 'CC'
T0, T1, T2 = '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'
CLIENTS = ['c1', 'c2', 'c3']


def in_trust():
    return rollover.begin(State(), OLD, NEW, T0)


def test_no_rollover_trusts_the_current_ca():
    state = State()
    assert not state.under_way
    assert state.trust(OLD['fingerprint']) == [OLD['fingerprint']]
    assert state.signing() is None


def test_begin_moves_to_trust_with_old_then_new():
    state = in_trust()
    assert state.phase == 'trust' and state.under_way
    assert state.trust(OLD['fingerprint']) == [OLD['fingerprint'], NEW['fingerprint']]
    assert state.signing() == 'old'
    assert state.history == [{'phase': 'trust', 'at': T0}]


def test_the_trust_list_keeps_its_order_over_the_switch():
    # a rerun of phase switch must write the same ca.crt bytes on every client as phase trust did
    trust = in_trust()
    switch = rollover.switched(trust, T1)
    assert switch.trust(NEW['fingerprint']) == trust.trust(OLD['fingerprint'])
    assert rollover.retired(switch, T2).trust(NEW['fingerprint']) == [NEW['fingerprint']]


def test_begin_refuses_the_same_ca_and_a_second_rollover():
    with pytest.raises(RolloverError, match='is the current CA'):
        rollover.begin(State(), OLD, dict(OLD), T0)
    with pytest.raises(RolloverError, match='already in phase trust'):
        rollover.begin(in_trust(), OLD, NEW, T1)


@pytest.mark.parametrize('phase, target, allowed', [
    ('none', 'trust', True), ('none', 'switch', True), ('none', 'retire', True), ('none', 'abort', True),
    ('trust', 'trust', True), ('trust', 'switch', True), ('trust', 'abort', True),
    ('switch', 'trust', False), ('switch', 'switch', True), ('switch', 'retire', True), ('switch', 'abort', False),
    ('retire', 'switch', False), ('retire', 'retire', True), ('retire', 'abort', False),
    ('done', 'trust', True), ('done', 'retire', True),
])
def test_targets_are_reached_forwards_only(phase, target, allowed):
    state = State()
    state.phase = phase
    if allowed:
        rollover.check_target(state, target)
    else:
        with pytest.raises(RolloverError):
            rollover.check_target(state, target)


def test_an_unknown_target_names_the_choices():
    with pytest.raises(RolloverError, match="'later' is not one of status, trust"):
        rollover.check_target(State(), 'later')


def test_confirmations_change_only_what_changed():
    state, changed = rollover.confirm(in_trust(), {'c1': [OLD['fingerprint'], NEW['fingerprint']]}, T1)
    assert changed == ['c1'] and state.clients['c1']['at'] == T1
    again, changed = rollover.confirm(state, {'c1': [OLD['fingerprint'], NEW['fingerprint']]}, T2)
    assert changed == [] and again.clients['c1']['at'] == T1


def test_missing_lists_clients_without_the_new_ca_then_without_it_alone():
    state, dummy = rollover.confirm(in_trust(), {'c1': [OLD['fingerprint'], NEW['fingerprint']],
                                                 'c2': [OLD['fingerprint']]}, T1)
    assert rollover.missing(state, CLIENTS, 'new') == ['c2', 'c3']
    state, dummy = rollover.confirm(state, {'c2': [NEW['fingerprint']]}, T2)
    assert rollover.missing(state, CLIENTS, 'new') == ['c3']
    assert rollover.missing(state, CLIENTS, 'new-only') == ['c1', 'c3']


def test_phases_move_in_order_and_refuse_skips():
    trust = in_trust()
    with pytest.raises(RolloverError, match='retire needs phase switch'):
        rollover.retired(trust, T1)
    switch = rollover.switched(trust, T1)
    with pytest.raises(RolloverError, match='switch needs phase trust'):
        rollover.switched(switch, T1)
    with pytest.raises(RolloverError, match='done needs phase retire'):
        rollover.finished(switch, T2)
    done = rollover.finished(rollover.retired(switch, T2), T2)
    assert done.phase == 'done' and not done.under_way
    assert [h['phase'] for h in done.history] == ['trust', 'switch', 'retire', 'done']
    assert rollover.starts_new(done, 'trust')
    assert not rollover.starts_new(done, 'retire'), 'retire after done is a rerun, not a new rollover'
    assert rollover.starts_new(State(), 'retire'), 'a whole rollover in one run'


def test_abort_only_from_trust_keeps_the_history():
    state = rollover.aborted(in_trust(), T1)
    assert state.phase == 'none' and state.old is None
    assert [h['phase'] for h in state.history] == ['trust', 'aborted']
    with pytest.raises(RolloverError):
        rollover.aborted(rollover.switched(in_trust(), T1), T2)


def test_state_round_trips_and_damaged_states_are_refused():
    state, dummy = rollover.confirm(in_trust(), {'c1': [NEW['fingerprint']]}, T1)
    again = State.from_dict(state.to_dict(), 'rollover.json')
    assert again.to_dict() == state.to_dict()
    for bad, words in [([], 'not a JSON object'), ({'version': 9}, 'version 9'),
                       ({'version': 1, 'phase': 'later'}, "phase 'later'"),
                       ({'version': 1, 'phase': 'trust', 'old': OLD}, 'new: expected'),
                       ({'version': 1, 'phase': 'none', 'clients': {'c1': {'trusts': 'AA'}}}, 'must be a list')]:
        with pytest.raises(RolloverError, match=words):
            State.from_dict(bad, 'rollover.json')


@pytest.mark.parametrize('found, steps', [
    ({'ca': OLD['fingerprint'], 'next': NEW['fingerprint'], 'previous': None},
     ['save-previous', 'install-new', 'record', 'drop-next']),
    # cut short after the old CA was saved: install the new one and go on
    ({'ca': OLD['fingerprint'], 'next': NEW['fingerprint'], 'previous': OLD['fingerprint']},
     ['install-new', 'record', 'drop-next']),
    # cut short after the new CA was installed
    ({'ca': NEW['fingerprint'], 'next': NEW['fingerprint'], 'previous': OLD['fingerprint']}, ['record', 'drop-next']),
    ({'ca': NEW['fingerprint'], 'next': None, 'previous': OLD['fingerprint']}, ['record']),
])
def test_promotion_resumes_from_what_the_files_hold(found, steps):
    assert rollover.promotion(in_trust(), found) == steps


@pytest.mark.parametrize('found, words', [
    ({'ca': OLD['fingerprint'], 'next': None, 'previous': None}, 'ca-next.crt should hold the new CA'),
    ({'ca': NEW['fingerprint'], 'next': None, 'previous': None}, 'old CA was lost'),
    ({'ca': OTHER, 'next': NEW['fingerprint'], 'previous': None}, 'neither the old CA'),
])
def test_promotion_refuses_files_the_state_does_not_know(found, words):
    with pytest.raises(RolloverError, match=words):
        rollover.promotion(in_trust(), found)


def test_describe_says_the_phase_who_is_missing_and_what_next():
    state, dummy = rollover.confirm(in_trust(), {'c1': [OLD['fingerprint'], NEW['fingerprint']]}, T1)
    lines = rollover.describe(state, CLIENTS)
    assert lines[0].startswith('CA rollover: phase trust (old CA sha256 AA:AA:AA:AA:AA:AA:AA:AA -> new CA')
    assert '1/3 clients trust both' in lines[1]
    assert lines[2] == '  not confirmed yet: c2, c3'
    assert lines[-1] == '  next: registry_ca_rollover_phase=switch'
    assert rollover.describe(State(), CLIENTS, OLD['fingerprint'])[0].startswith('CA rollover: none under way')
