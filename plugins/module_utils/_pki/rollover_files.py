# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CA rollover on the controller's PKI directory: the files of each phase and the state file.

Each step reads the state and the CA files, decides with the pure state machine (``rollover``), records what
changes in one ``Differences`` tracker, and writes nothing in check mode. Every step holds the PKI directory's
lock (``plan.pki_lock``), so forks and parallel runs serialize. Files (in ``pki_dir``):

  ``ca.crt`` / ``ca.key``                the CA that signs the registry's certificate (the server role's)
  ``ca-next.crt`` / ``ca-next.key``      the next CA, phase trust
  ``ca-previous.crt`` / ``ca-previous.key``  the old CA after the switch, until the rollover is done
  ``ca-trust.crt``                       what clients trust while a rollover is under way (the roles read it)
  ``rollover.json``                      the state (0600)
  ``retired/ca-<fingerprint>.crt``       an old CA's certificate once the rollover is done (its key is deleted)

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import json
import os

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter, read_file
from ansible_collections.berth.registry.plugins.module_utils._pki import rollover
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import (
    certificate_summary, dump_certificate, fingerprint_sha256, is_signed_by, iso, load_certificate, utcnow,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import DamagedFile, PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import generate_private_key
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import issue
from ansible_collections.berth.registry.plugins.module_utils._pki.options import ca_plan
from ansible_collections.berth.registry.plugins.module_utils._pki.plan import pki_lock

STATE_FILE = 'rollover.json'
TRUST_FILE = 'ca-trust.crt'
RETIRED_DIR = 'retired'
NAMES = {'ca': 'ca', 'next': 'ca-next', 'previous': 'ca-previous'}


def identity(cert):
    summary = certificate_summary(cert)
    return {'fingerprint': summary['fingerprint_sha256'], 'subject': summary['subject_string'],
            'not_after': summary['not_after']}


class CaFile(object):
    """One CA certificate (+ key) of the PKI directory as found: bytes, certificate, fingerprint (None: absent)."""

    def __init__(self, pki_dir, which):
        self.which = which
        self.cert_path = os.path.join(pki_dir, NAMES[which] + '.crt')
        self.key_path = os.path.join(pki_dir, NAMES[which] + '.key')
        self.cert_bytes = read_file(self.cert_path, 'pki_dir')
        self.key_bytes = read_file(self.key_path, 'pki_dir')
        self.cert = None
        if self.cert_bytes is not None:
            try:
                self.cert = load_certificate(self.cert_bytes, self.cert_path)
            except DamagedFile as exc:
                raise PKIError('%s; the rollover reads the CA files and changes none it cannot read' % exc)

    @property
    def fingerprint(self):
        return fingerprint_sha256(self.cert) if self.cert is not None else None


class Rollover(object):
    """The rollover steps on one PKI directory. ``ca_options``: the next CA's request (subject, key_type,
    validity_days, regenerate), as for tls_ca."""

    def __init__(self, pki_dir, ca_options=None, writer=None, check_mode=False, now=None):
        self.pki_dir = pki_dir
        self.ca_options = dict(ca_options or {})
        self.writer = writer if writer is not None else FileWriter(None)
        self.check_mode = check_mode
        self.now = iso(now or utcnow())
        self.differences = Differences()
        self.warnings = []
        self.state = rollover.State()
        self.files = {}
        self.preview = None  # a check-mode stand-in for a next CA that does not exist yet
        self.state_path = os.path.join(pki_dir, STATE_FILE)
        self.trust_path = os.path.join(pki_dir, TRUST_FILE)

    # --- reading -----------------------------------------------------------------------------------
    def load(self):
        if not os.path.isdir(self.pki_dir):
            raise PKIError('pki_dir: %s does not exist; run site.yml first (the server role makes the CA there)'
                           % self.pki_dir)
        data = read_file(self.state_path, 'pki_dir')
        if data is None:
            self.state = rollover.State()
        else:
            try:
                parsed = json.loads(data.decode('utf-8'))
            except (UnicodeDecodeError, ValueError) as exc:
                raise rollover.RolloverError('%s is not valid JSON (%s); fix or remove it (it records the CA rollover)'
                                             % (self.state_path, exc))
            self.state = rollover.State.from_dict(parsed, self.state_path)
        self.files = dict((which, CaFile(self.pki_dir, which)) for which in NAMES)
        if self.files['ca'].cert is None:
            raise PKIError('%s does not exist: there is no CA to roll over yet; run site.yml first (the server role '
                           'makes it)' % self.files['ca'].cert_path)
        return self

    def found(self):
        return dict((which, f.fingerprint) for which, f in self.files.items())

    # --- the steps ---------------------------------------------------------------------------------
    def begin(self, target):
        """Start or continue the rollover up to ``target`` as far as the controller goes: make the next CA (phase
        trust), or abort; then make ca-trust.crt match the phase. Nothing here needs the clients."""
        state = self.state
        rollover.check_target(state, target)
        if target == 'abort':
            self._abort()
        elif target != 'status':
            if rollover.starts_new(state, target):
                self._start()
            elif state.phase == 'trust':
                self._keep_next()
        if target != 'status':
            self._sync_trust_file()
        return self

    def record(self, clients, confirmed):
        """Record what each client was given to trust; in phase retire, finish once every client trusts the new CA only.

        clients: every client host of the inventory; confirmed: {host: [fingerprints]} of those that applied a
        trust list in this run."""
        if not self.state.under_way:
            return self
        wanted = self.state.trust(self.files['ca'].fingerprint)
        unexpected = sorted(h for h, fps in confirmed.items() if list(fps) != wanted)
        confirmed = dict((h, fps) for h, fps in confirmed.items() if list(fps) == wanted)
        if unexpected:
            self.warnings.append('not recorded (they were given another trust list than phase %s has): %s'
                                 % (self.state.phase, ', '.join(unexpected)))
        new_state, changed = rollover.confirm(self.state, confirmed, self.now)
        if changed:
            self.differences.add('clients confirmed', None, ', '.join(changed))
        if new_state.phase == 'retire' and not rollover.missing(new_state, clients, 'new-only'):
            self._finish(new_state)
        elif changed:
            self._write_state(new_state)
        return self

    def switch(self, clients):
        """Make the new CA the one that signs (phase trust -> switch), once every client trusts it. The caller then
        runs the server side, which re-issues the registry's certificate (it is not signed by ca.crt any more)."""
        state = self.state
        if state.phase in ('switch', 'retire', 'done'):
            return self
        if state.phase != 'trust':
            raise rollover.RolloverError('switch needs a rollover in phase trust; start one with phase trust')
        waiting = rollover.missing(state, clients, 'new')
        if waiting:
            raise rollover.RolloverError(
                'not switching: %d client(s) have not confirmed that they trust the new CA sha256 %s: %s. They would '
                'fail to pull once the registry serves a certificate of the new CA. Bring them up (or remove them from '
                'the inventory) and run phase switch again; the others are not touched meanwhile.'
                % (len(waiting), rollover.short(state.new['fingerprint']), ', '.join(waiting)),
                waiting=waiting)
        steps = rollover.promotion(state, self.found())
        files = self.files
        if 'install-new' in steps:
            self.differences.add('ca.crt', 'old CA sha256 %s' % state.old['fingerprint'],
                                 'new CA sha256 %s' % state.new['fingerprint'])
            self.differences.add('server certificate', 'signed by the old CA',
                                 're-issued under the new CA by the server side (the registry is recreated once)')
        if 'record' in steps:
            self.differences.add('phase', 'trust', 'switch')
        if 'drop-next' in steps:
            self.differences.add('ca-next.crt', 'new CA', None)
        if self.check_mode:
            return self
        if 'save-previous' in steps:
            self._write_pair('previous', files['ca'].cert_bytes, files['ca'].key_bytes)
        if 'install-new' in steps:
            self._write_pair('ca', files['next'].cert_bytes, files['next'].key_bytes)
        if 'record' in steps:
            self._write_state(rollover.switched(state, self.now))
        if 'drop-next' in steps:
            for path in (files['next'].cert_path, files['next'].key_path):
                if os.path.lexists(path):
                    os.unlink(path)
        self.load()
        return self

    def retire(self, server_cert=None, served=None):
        """Phase switch -> retire: clients are to trust the new CA only. ``server_cert`` (bytes of the registry's
        certificate on the controller) and ``served`` (DER the registry presented) must be signed by the new CA."""
        state = self.state
        if state.phase in ('retire', 'done'):
            return self
        if state.phase != 'switch':
            raise rollover.RolloverError('retire needs phase switch; the rollover is in phase %s' % state.phase)
        new_ca = self.files['ca'].cert
        for label, data, loader in (('the server certificate on the controller', server_cert, _pem),
                                    ('the certificate the registry serves', served, _der)):
            if data is None:
                continue
            cert = loader(data, label)
            if not is_signed_by(cert, new_ca):
                raise rollover.RolloverError(
                    'not retiring the old CA: %s (sha256 %s) is not signed by the new CA sha256 %s; clients would '
                    'stop trusting the registry. Run phase switch again (it re-issues the certificate and recreates '
                    'the registry), then retire.' % (label, fingerprint_sha256(cert), state.new['fingerprint']))
        new_state = rollover.retired(state, self.now)
        self.differences.add('phase', 'switch', 'retire')
        if not self.check_mode:
            self._write_state(new_state)
        self.state = new_state
        self._sync_trust_file()
        return self

    # --- results -----------------------------------------------------------------------------------
    def trust_certificates(self):
        """PEM of each CA clients are to trust now, in order (a preview stands in for a next CA in check mode)."""
        by_fingerprint = {}
        for f in self.files.values():
            if f.cert is not None:
                by_fingerprint[f.fingerprint] = dump_certificate(f.cert).decode('ascii')
        wanted = self.state.trust(self.files['ca'].fingerprint)
        pems = []
        for fingerprint in wanted:
            if fingerprint in by_fingerprint:
                pems.append(by_fingerprint[fingerprint])
            elif self.preview is not None and fingerprint == fingerprint_sha256(self.preview):
                pems.append(dump_certificate(self.preview).decode('ascii'))
            else:
                raise rollover.RolloverError('the CA sha256 %s that clients are to trust in phase %s is in none of the '
                                             'CA files of %s' % (fingerprint, self.state.phase, self.pki_dir))
        return wanted, pems

    def result(self, diff_mode, clients=()):
        fingerprints, pems = self.trust_certificates()
        state = self.state
        facts = dict(phase=state.phase, under_way=state.under_way, trust_fingerprints=fingerprints,
                     trust_pem=''.join(pems), trust_file=self.trust_path if state.under_way else None,
                     old=state.old, new=state.new, clients=state.clients, state_path=self.state_path,
                     summary=rollover.describe(state, list(clients), self.files['ca'].fingerprint),
                     preview=self.preview is not None)
        if state.under_way:
            facts['waiting'] = rollover.missing(state, list(clients), 'new-only' if state.phase == 'retire' else 'new')
        else:
            facts['waiting'] = []
        return self.differences.result(diff_mode, header=self.pki_dir, **facts)

    # --- internals ---------------------------------------------------------------------------------
    def _next_plan(self):
        options = dict(self.ca_options)
        return ca_plan(path=self.files['next'].cert_path, privatekey_path=self.files['next'].key_path,
                       subject=options.get('subject'), key_type=_given(options, 'key_type', 'ecdsa-p256'),
                       validity_days=_given(options, 'validity_days', 3650),
                       privatekey_passphrase=options.get('passphrase') or None,
                       options={'passphrase': 'registry_ca_passphrase'},
                       regenerate=_given(options, 'regenerate', 'fail'), backup=False, mode='0644',
                       writer=self.writer, check_mode=self.check_mode)

    def _start(self):
        plan = self._next_plan()
        plan.plan()
        plan.apply()
        self.warnings.extend(plan.warnings)
        self.differences.extend(plan.differences, prefix='next CA ')
        if self.check_mode and plan.differences:
            request = plan.request
            self.preview = issue(request, generate_private_key(request.key_type))
            new = identity(self.preview)
        else:
            self.files['next'] = CaFile(self.pki_dir, 'next')
            new = identity(self.files['next'].cert)
        old = identity(self.files['ca'].cert)
        new_state = rollover.begin(self.state, old, new, self.now)
        self.differences.add('phase', self.state.phase, 'trust')
        if not self.check_mode:
            self._write_state(new_state)
        self.state = new_state

    def _keep_next(self):
        """A rerun in phase trust: the next CA is still there and still what was asked for (the regenerate policy
        decides about a changed request; a replaced next CA becomes the rollover's new CA, confirmations restart)."""
        if self.files['next'].cert is None:
            raise rollover.RolloverError('%s is gone although the rollover is in phase trust; abort the rollover '
                                         '(phase abort) and start again' % self.files['next'].cert_path)
        plan = self._next_plan()
        plan.plan()
        plan.apply()
        self.warnings.extend(plan.warnings)
        if not plan.differences:
            return
        self.differences.extend(plan.differences, prefix='next CA ')
        if self.check_mode:
            self.preview = issue(plan.request, generate_private_key(plan.request.key_type))
            replaced = identity(self.preview)
        else:
            self.files['next'] = CaFile(self.pki_dir, 'next')
            replaced = identity(self.files['next'].cert)
        new_state = self.state.copy()
        new_state.new, new_state.clients = replaced, {}
        new_state.record('trust (next CA replaced)', self.now)
        if not self.check_mode:
            self._write_state(new_state)
        self.state = new_state

    def _abort(self):
        state = self.state
        if state.phase != 'trust':
            return
        self.differences.add('phase', 'trust', 'none (aborted)')
        if self.files['next'].cert is not None:
            self.differences.add('ca-next.crt', 'new CA sha256 %s' % self.files['next'].fingerprint, None)
        new_state = rollover.aborted(state, self.now)
        if not self.check_mode:
            for path in (self.files['next'].cert_path, self.files['next'].key_path):
                if os.path.lexists(path):
                    os.unlink(path)
            self._write_state(new_state)
            self.files['next'] = CaFile(self.pki_dir, 'next')
        self.state = new_state

    def _finish(self, new_state):
        """Every client trusts the new CA only: archive the old certificate, delete its key, phase done."""
        previous = self.files['previous']
        done = rollover.finished(new_state, self.now)
        self.differences.add('phase', 'retire', 'done')
        archived = os.path.join(self.pki_dir, RETIRED_DIR, 'ca-%s.crt' % previous.fingerprint.replace(':', '')[:32]) \
            if previous.cert is not None else None
        if archived:
            self.differences.add('ca-previous.crt', 'old CA sha256 %s' % previous.fingerprint, archived)
        if os.path.lexists(self.trust_path):
            self.differences.add(TRUST_FILE, 'new CA', None)
        if not self.check_mode:
            if archived:
                self.writer.ensure_directory(os.path.dirname(archived), 0o700)
                self.writer.write(self.writer.attrs(archived, 0o644), previous.cert_bytes)
            self._write_state(done)
            for path in (previous.cert_path, previous.key_path, self.trust_path):
                if os.path.lexists(path):
                    os.unlink(path)
            self.files['previous'] = CaFile(self.pki_dir, 'previous')
        self.state = done

    def _sync_trust_file(self):
        """ca-trust.crt holds the phase's trust list while a rollover is under way, and is absent otherwise."""
        if not self.state.under_way:
            if os.path.lexists(self.trust_path):
                self.differences.add(TRUST_FILE, 'present', None)
                if not self.check_mode:
                    os.unlink(self.trust_path)
            return
        fingerprints, pems = self.trust_certificates()
        data = ''.join(pems).encode('ascii')
        current = read_file(self.trust_path, 'pki_dir')
        if current == data:
            return
        self.differences.add(TRUST_FILE, None if current is None else 'other CAs',
                             ', '.join('sha256 %s' % rollover.short(f) for f in fingerprints))
        if not self.check_mode:
            self.writer.write(self.writer.attrs(self.trust_path, 0o644), data)

    def _write_pair(self, which, cert_bytes, key_bytes):
        f = self.files[which]
        self.writer.write_together([(self.writer.attrs(f.key_path, 0o600), key_bytes),
                                    (self.writer.attrs(f.cert_path, 0o644), cert_bytes)])

    def _write_state(self, state):
        data = (json.dumps(state.to_dict(), indent=1, sort_keys=True) + '\n').encode('utf-8')
        self.writer.write(self.writer.attrs(self.state_path, 0o600), data)
        self.state = state


def signing_ca(pki_dir):
    """What the server side must honour while a rollover is under way: ``(phase, fingerprint)`` of the CA that signs
    the registry's certificate in that phase (``ca.crt``: the old CA in phase trust, the new one from switch on), or
    None when no rollover is under way. A damaged state file is a RolloverError naming it."""
    path = os.path.join(pki_dir, STATE_FILE)
    data = read_file(path, 'pki_dir')
    if data is None:
        return None
    try:
        parsed = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as exc:
        raise rollover.RolloverError('%s is not valid JSON (%s); fix or remove it (it records the CA rollover)'
                                     % (path, exc))
    state = rollover.State.from_dict(parsed, path)
    if not state.under_way:
        return None
    return state.phase, (state.old if state.phase == 'trust' else state.new)['fingerprint']


def check_signing_ca(pki_dir):
    """During a rollover: None, or the phase after checking that ``ca.crt`` is the CA the phase signs with (a
    RolloverError otherwise: the server side never makes or replaces a CA in the middle of a rollover)."""
    found = signing_ca(pki_dir)
    if found is None:
        return None
    phase, wanted = found
    current = CaFile(pki_dir, 'ca')
    if current.fingerprint != wanted:
        raise rollover.RolloverError(
            '%s is %s, but the CA rollover in phase %s (%s) signs with the CA sha256 %s; the server side does not '
            'make or replace a CA during a rollover. Resume it with playbooks/ca_rollover.yml (-e '
            'registry_ca_rollover_phase=%s), or put that CA back'
            % (current.cert_path, 'missing' if current.fingerprint is None else 'the CA sha256 %s'
               % rollover.short(current.fingerprint), phase, os.path.join(pki_dir, STATE_FILE),
               rollover.short(wanted), 'switch' if phase == 'trust' else phase))
    return phase


def _given(options, key, default):
    value = options.get(key)
    return default if value is None else value


def _pem(data, label):
    return load_certificate(data, label)


def _der(data, label):
    try:
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        return x509.load_der_x509_certificate(data)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise PKIError('%s is not a readable certificate (%s)' % (label, exc))


def run_step(pki_dir, step, ca_options=None, clients=(), confirmed=None, server_cert=None, served=None,
             target='status', check_mode=False, writer=None, diff_mode=False, now=None):
    """One step: 'begin' (with target), 'record', 'switch', 'retire' or 'status'. Returns (result dict, warnings).

    Inputs, the state file and the CA files are checked before the PKI directory's lock is taken (a bad input
    leaves the directory exactly as it was); the step itself runs under the lock, on what it reads again there."""
    if step not in ('begin', 'record', 'switch', 'retire', 'status'):
        raise PKIError('step: %r is not one of begin, record, switch, retire, status' % (step,))
    if not os.path.isdir(pki_dir):
        raise PKIError('pki_dir: %s does not exist; run site.yml first (the server role makes the CA there)' % pki_dir)
    # the whole step in check mode first, without the lock: whatever it refuses leaves the directory as it was
    dry = _step(Rollover(pki_dir, ca_options, writer=writer, check_mode=True, now=now).load(), step, target,
                clients, confirmed, server_cert, served)
    if step == 'status' or check_mode:
        return dry.result(diff_mode, clients), dry.warnings
    with pki_lock(pki_dir):
        run = _step(Rollover(pki_dir, ca_options, writer=writer, check_mode=False, now=now).load(), step, target,
                    clients, confirmed, server_cert, served)
        return run.result(diff_mode, clients), run.warnings


def _step(run, step, target, clients, confirmed, server_cert, served):
    if step == 'begin':
        run.begin(target)
    elif step == 'record':
        run.record(list(clients), dict(confirmed or {}))
    elif step == 'switch':
        run.switch(list(clients))
    elif step == 'retire':
        run.retire(server_cert=server_cert, served=served)
    return run
