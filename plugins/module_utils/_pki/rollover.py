# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CA rollover as a state machine. Pure: no files, no clock (callers pass ``now``), no Ansible.

A rollover replaces the CA the registry's certificate is signed by, without a moment in which a
client does not trust what the registry serves. It moves through phases, each one reached only
when the one before holds on every client:

  ``none``    no rollover (no state yet): clients trust the current CA
  ``trust``   the next CA exists beside the current one; clients trust both (old first, then new)
  ``switch``  the next CA became the current one: the registry serves a certificate signed by it;
              clients still trust both
  ``retire``  clients are told to trust the new CA only; the rollover waits for every client
  ``done``    every client trusts the new CA only; the old CA is archived

The state is one JSON document kept next to the PKI: the phase, the identities (SHA-256
fingerprints) of the old and the new CA, and what each client was last given to trust. Moving on
is gated by those confirmations: ``switch`` needs every client of the inventory to trust the new
CA, ``done`` needs every client to trust it alone. A client that missed a phase is simply given
the phase's trust list on the next run and confirmed then.

Cross-signing is not used: clients trust exactly the CA certificates berth installs, so a second
self-signed root trusted next to the first is all a client needs (see README, "CA rollover").
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import copy

from ansible_collections.berth.registry.plugins.module_utils._pki.errors import PKIError

STATE_VERSION = 1
PHASES = ('none', 'trust', 'switch', 'retire', 'done')
TARGETS = ('status', 'trust', 'switch', 'retire', 'abort')
# how far a phase is along; none and done are both "no rollover under way"
_RANK = {'none': 0, 'done': 0, 'trust': 1, 'switch': 2, 'retire': 3}
_TARGET_RANK = {'trust': 1, 'switch': 2, 'retire': 3}
HISTORY_LIMIT = 50


class RolloverError(PKIError):
    """A rollover step that may not run now (wrong phase, clients not confirmed, files that disagree with the state)."""


def _ca_identity(value, where):
    if not isinstance(value, dict) or not isinstance(value.get('fingerprint'), str) or not value['fingerprint']:
        raise RolloverError('%s: expected {fingerprint, subject, not_after}, got %r' % (where, value))
    return dict((k, value.get(k)) for k in ('fingerprint', 'subject', 'not_after'))


class State(object):
    """The rollover's state. ``State()`` is "no rollover"; ``State.from_dict(data, path)`` reads a stored one
    (a damaged one is a RolloverError naming the file: it is never silently replaced)."""

    def __init__(self):
        self.phase = 'none'
        self.old = None
        self.new = None
        self.started = None
        self.clients = {}
        self.history = []

    @classmethod
    def from_dict(cls, data, path='state'):
        state = cls()
        if not isinstance(data, dict):
            raise RolloverError('%s is not a JSON object; fix or remove it (it records the CA rollover)' % path)
        if data.get('version') != STATE_VERSION:
            raise RolloverError('%s: version %r is not %d, which this collection writes'
                                % (path, data.get('version'), STATE_VERSION))
        phase = data.get('phase')
        if phase not in PHASES:
            raise RolloverError('%s: phase %r is not one of %s' % (path, phase, ', '.join(PHASES)))
        state.phase = phase
        if phase != 'none':
            state.old = _ca_identity(data.get('old'), '%s: old' % path)
            state.new = _ca_identity(data.get('new'), '%s: new' % path)
        clients = data.get('clients') or {}
        if not isinstance(clients, dict):
            raise RolloverError('%s: clients must be an object of host -> {trusts, at}' % path)
        for host, entry in clients.items():
            trusts = entry.get('trusts') if isinstance(entry, dict) else None
            if not isinstance(trusts, list) or not all(isinstance(f, str) for f in trusts):
                raise RolloverError('%s: clients[%r].trusts must be a list of fingerprints' % (path, host))
            state.clients[str(host)] = {'trusts': list(trusts), 'at': entry.get('at')}
        state.started = data.get('started')
        history = data.get('history') or []
        state.history = list(history) if isinstance(history, list) else []
        return state

    def to_dict(self):
        return {'version': STATE_VERSION, 'phase': self.phase, 'old': self.old, 'new': self.new,
                'started': self.started, 'clients': dict(sorted(self.clients.items())),
                'history': self.history[-HISTORY_LIMIT:]}

    def copy(self):
        return copy.deepcopy(self)

    @property
    def under_way(self):
        return _RANK[self.phase] > 0

    def trust(self, current_fingerprint):
        """The fingerprints clients are to trust in this phase, in file order (old before new, stable over
        trust and switch so a rerun rewrites nothing)."""
        if self.phase in ('trust', 'switch'):
            return [self.old['fingerprint'], self.new['fingerprint']]
        if self.phase in ('retire', 'done'):
            return [self.new['fingerprint']]
        return [current_fingerprint]

    def signing(self):
        """Which CA signs the registry's certificate in this phase: 'old' or 'new' (None without a rollover)."""
        if self.phase == 'trust':
            return 'old'
        if self.phase in ('switch', 'retire', 'done'):
            return 'new'
        return None

    def record(self, phase, now):
        self.history.append({'phase': phase, 'at': now})


def check_target(state, target):
    """Raise RolloverError when ``target`` cannot be reached from the state's phase.

    Targets are reached forwards only; asking for a phase that is already behind is refused (a rerun of the
    same phase is fine). ``abort`` is possible only while nothing but trust changed (phase trust).
    """
    if target not in TARGETS:
        raise RolloverError('phase: %r is not one of %s' % (target, ', '.join(TARGETS)))
    if target == 'status':
        return
    if target == 'abort':
        if state.phase not in ('none', 'done', 'trust'):
            raise RolloverError('the rollover is in phase %s: the registry already serves a certificate of the new CA, '
                                'so it can no longer be aborted; continue with phase retire (or start a new rollover '
                                'once it is done)' % state.phase)
        return
    if _RANK[state.phase] > _TARGET_RANK[target]:
        raise RolloverError('the rollover is already in phase %s, past %s; run phase %s (or a later one) to continue'
                            % (state.phase, target, state.phase))


def starts_new(state, target):
    """True when this target begins a rollover: any phase from none (a whole rollover in one run), only trust from
    done (switch or retire after done are reruns of the rollover that finished, and change nothing)."""
    if state.phase == 'none':
        return target in _TARGET_RANK
    return state.phase == 'done' and target == 'trust'


def begin(state, old, new, now):
    """The state of a new rollover from ``old`` (the current CA) to ``new`` (the next CA): phase trust."""
    if state.under_way:
        raise RolloverError('a rollover is already in phase %s' % state.phase)
    if old['fingerprint'] == new['fingerprint']:
        raise RolloverError('the next CA is the current CA (sha256 %s)' % old['fingerprint'])
    result = state.copy()
    result.phase, result.old, result.new, result.started, result.clients = 'trust', dict(old), dict(new), now, {}
    result.record('trust', now)
    return result


def confirm(state, confirmed, now):
    """A copy of the state with what clients were given to trust recorded ({host: [fingerprints]}); entries
    whose list did not change keep their time, so a rerun changes nothing. Returns (state, changed hosts)."""
    result = state.copy()
    changed = []
    for host in sorted(confirmed):
        trusts = list(confirmed[host])
        entry = result.clients.get(host)
        if entry is None or entry['trusts'] != trusts:
            result.clients[host] = {'trusts': trusts, 'at': now}
            changed.append(host)
    return result, changed


def missing(state, clients, need):
    """The clients (inventory names) whose recorded trust does not meet ``need``:
    'new' (the new CA among what they trust) or 'new-only' (the new CA alone)."""
    fingerprint = state.new['fingerprint']
    result = []
    for host in clients:
        trusts = (state.clients.get(host) or {}).get('trusts') or []
        ok = fingerprint in trusts if need == 'new' else trusts == [fingerprint]
        if not ok:
            result.append(host)
    return result


def _advance(state, current, to, now):
    """A copy of the state moved from phase ``current`` to phase ``to`` (RolloverError from any other phase)."""
    if state.phase != current:
        raise RolloverError('%s needs phase %s, the rollover is in phase %s' % (to, current, state.phase))
    result = state.copy()
    result.phase = to
    result.record(to, now)
    return result


def switched(state, now):
    return _advance(state, 'trust', 'switch', now)


def retired(state, now):
    return _advance(state, 'switch', 'retire', now)


def finished(state, now):
    return _advance(state, 'retire', 'done', now)


def aborted(state, now):
    if state.phase != 'trust':
        raise RolloverError('abort needs phase trust, the rollover is in phase %s' % state.phase)
    result = State()
    result.history = list(state.history)
    result.record('aborted', now)
    return result


# --- the CA files on the controller while a rollover is under way ------------------------------------
#
# trust:  ca.* = old, ca-next.* = new           switch/retire: ca.* = new, ca-previous.* = old
# done:   ca.* = new, the old certificate archived (its key deleted)
# A promotion copies old to ca-previous.* first, then new to ca.*, then records phase switch, then removes
# ca-next.*; each step is checked against the fingerprints found, so a promotion cut short resumes.

def promotion(state, found):
    """What a switch still has to do, from the fingerprints found in the files ({'ca', 'next', 'previous'}:
    fingerprint or None): a list of 'save-previous', 'install-new', 'record', 'drop-next' (empty: done).
    RolloverError when the files hold CAs the state does not know."""
    old, new = state.old['fingerprint'], state.new['fingerprint']
    ca, nxt, previous = found.get('ca'), found.get('next'), found.get('previous')
    steps = []
    if ca == old:
        if nxt != new:
            raise RolloverError('ca-next.crt should hold the new CA sha256 %s but holds %s: it was changed or removed '
                                'outside the rollover; abort it (phase abort) and start again' % (new, nxt or 'nothing'))
        if previous != old:
            steps.append('save-previous')
        steps.append('install-new')
    elif ca == new:
        if previous != old:
            raise RolloverError('ca.crt already holds the new CA, but ca-previous.crt does not hold the old one '
                                '(sha256 %s): the old CA was lost outside the rollover' % old)
    else:
        raise RolloverError('ca.crt holds sha256 %s, neither the old CA (%s) nor the new one (%s) of the rollover'
                            % (ca or '(nothing)', old, new))
    if state.phase == 'trust':
        steps.append('record')
    if nxt is not None:
        steps.append('drop-next')
    return steps


def describe(state, clients, current=None):
    """Lines for the run's summary: the phase, what signs the registry's certificate, who trusts what, what next."""
    if not state.under_way:
        line = 'CA rollover: none under way; clients trust the current CA%s' % (
            ' sha256 %s' % short(current) if current else '')
        if state.phase == 'done':
            line += ' (the last rollover, from sha256 %s, is done)' % short(state.old['fingerprint'])
        return [line]
    old, new = short(state.old['fingerprint']), short(state.new['fingerprint'])
    lines = ['CA rollover: phase %s (old CA sha256 %s -> new CA sha256 %s)' % (state.phase, old, new)]
    if state.phase == 'trust':
        waiting = missing(state, clients, 'new')
        lines.append('  the registry still serves a certificate of the old CA; %d/%d clients trust both'
                     % (len(clients) - len(waiting), len(clients)))
        nxt = 'switch'
    elif state.phase == 'switch':
        waiting = []
        lines.append('  the registry serves a certificate of the new CA; clients trust both')
        nxt = 'retire'
    else:
        waiting = missing(state, clients, 'new-only')
        lines.append('  %d/%d clients trust the new CA only' % (len(clients) - len(waiting), len(clients)))
        nxt = 'retire (again, for the clients still missing)'
    if waiting:
        lines.append('  not confirmed yet: %s' % ', '.join(waiting))
    lines.append('  next: registry_ca_rollover_phase=%s' % nxt)
    return lines


def short(fingerprint):
    """The first 8 bytes of a fingerprint, enough to tell CAs apart in a summary."""
    return ':'.join((fingerprint or '').split(':')[:8])
