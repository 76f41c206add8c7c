# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The server's TLS and shared secret, made or checked on the controller, in-process.

Own PKI: the CA and the server certificate through the _pki plans (``ca_plan``/``cert_plan``) written with
``FileWriter(None)``, under the exclusive lock of the PKI directory (several forks - replicas - may run this
at once; the second finds the pair made). Bring-your-own: the three files are checked against each other.
Either way the outcome is the bytes the registry host gets (or, in check mode, "pending": the pair would be
(re)issued, its bytes are not known yet), metadata for results and reports, and the differences.

The shared ``http.secret`` lives next to the PKI (``<pki_dir>/http.secret``, 0600), generated once and reused:
every replica of a registry must sign upload state with the same secret.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import contextlib
import os
import secrets as _random

from ansible_collections.berth.registry.plugins.module_utils import _der_cert
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter, read_file
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import utcnow
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.info import certificate_info
from ansible_collections.berth.registry.plugins.module_utils._pki.options import ca_plan, cert_plan
from ansible_collections.berth.registry.plugins.module_utils._pki.plan import pki_lock
from ansible_collections.berth.registry.plugins.module_utils._pki.rollover_files import check_signing_ca

HTTP_SECRET_FILE = 'http.secret'
MIN_SECRET = 16
# How messages name what the user set (the server role's variables are named after these options).
CA_OPTIONS = {'cert': 'ca', 'key': 'ca key', 'passphrase': 'ca.passphrase'}
CERT_OPTIONS = {'cert': 'certificate', 'key': 'certificate key', 'passphrase': 'certificate passphrase'}
ISSUER_OPTIONS = {'cert': 'ca', 'key': 'ca key', 'passphrase': 'ca.passphrase'}


class TLSOutcome(object):
    """What the host gets (``cert``, ``key``, ``ca`` bytes; ``pending`` when check mode cannot know them) and
    what results show (``facts``: ca / certificate metadata, never key material)."""

    def __init__(self):
        self.differences = Differences()
        self.warnings = []
        self.cert = self.key = self.ca = None
        self.pending = False
        self.facts = {'ca': None, 'certificate': None}

    def host_option(self):
        """The registry_host module's ``tls`` option."""
        if self.pending:
            return {'pending': True}
        return {'cert': self.cert.decode('utf-8', 'replace'), 'key': self.key.decode('utf-8', 'replace'),
                'ca': self.ca.decode('utf-8', 'replace'), 'pending': False}

    def secrets(self):
        """Key material to keep out of any output: the key, and each line of its PEM body."""
        if not self.key:
            return []
        text = self.key.decode('ascii', 'replace')
        return [text] + [line for line in text.splitlines() if line and not line.startswith('-----')]


def certificate_facts(data, path, now=None):
    """Metadata of the first certificate in PEM bytes (and the file), or None."""
    blocks = _der_cert.pem_blocks(data.decode('ascii', 'replace')) if data else []
    if not blocks:
        return None
    try:
        facts = _der_cert.summary(_der_cert.parse_certificate(blocks[0]), now or utcnow())
    except _der_cert.CertificateError:
        return None
    facts['path'] = path
    return facts


def ensure_pki_dir(pki_dir, check_mode, differences, writer=None):
    """True when the directory exists (or was made); False in check mode when it would be made. Kept 0700: it
    holds the CA key (the fleet report may have made it first, 0755)."""
    if os.path.isdir(pki_dir):
        writer = writer or FileWriter(None)
        args = writer.attrs(pki_dir, 0o700)
        if writer.record_attributes(differences, 'pki_dir', args) and not check_mode:
            writer.apply_attributes(args)
        return True
    if os.path.lexists(pki_dir):
        raise BerthError('pki_dir: %s exists and is not a directory' % pki_dir)
    differences.add('pki_dir', None, 'directory')
    if check_mode:
        return False
    (writer or FileWriter(None)).ensure_directory(pki_dir, 0o700)
    return True


@contextlib.contextmanager
def locked(pki_dir, exists):
    if exists:
        with pki_lock(pki_dir):
            yield
    else:
        yield


class OwnPKI(object):
    """Our CA and the server certificate under ``pki_dir``. Built from the options (every value checked, nothing
    read); ``run(exists)`` makes or keeps them (call it holding the PKI lock) and returns a TLSOutcome.

    ``ca``: subject, key_type, validity_days, regenerate, passphrase; ``certificate``: name, dns_names,
    ip_addresses, key_type, validity_days, renew_before_days.
    """

    def __init__(self, pki_dir, ca, certificate, check_mode, writer=None):
        self.check_mode = check_mode
        self.pki_dir = pki_dir
        self.regenerate = ca.get('regenerate') or 'fail'
        name = certificate.get('name') or (list(certificate.get('dns_names') or [])
                                           + list(certificate.get('ip_addresses') or [None]))[0]
        if not name or '/' in name or name.startswith('.') or any(ord(c) < 32 for c in name):
            raise PKIError('certificate.name: %r cannot name the certificate files under %s' % (name, pki_dir))
        self.ca_path, self.ca_key = os.path.join(pki_dir, 'ca.crt'), os.path.join(pki_dir, 'ca.key')
        self.cert_path, self.key_path = os.path.join(pki_dir, name + '.crt'), os.path.join(pki_dir, name + '.key')
        writer = writer or FileWriter(None)
        passphrase = ca.get('passphrase') or None
        subject = ca.get('subject') or {'CN': '%s CA' % name, 'O': 'berth.registry'}
        self.ca_run = ca_plan(self.ca_path, self.ca_key, subject=subject, privatekey_passphrase=passphrase,
                              key_type=ca.get('key_type') or 'ecdsa-p256', validity_days=ca.get('validity_days', 3650),
                              regenerate=ca.get('regenerate') or 'fail', backup=True, writer=writer,
                              check_mode=check_mode, options=CA_OPTIONS)
        self.cert_run = cert_plan(self.cert_path, self.key_path, self.ca_path, self.ca_key,
                                  dns_names=certificate.get('dns_names') or [],
                                  ip_addresses=certificate.get('ip_addresses') or [], ca_privatekey_passphrase=passphrase,
                                  key_type=certificate.get('key_type') or 'ecdsa-p256',
                                  validity_days=certificate.get('validity_days', 397),
                                  renew_before_days=certificate.get('renew_before_days', 30), writer=writer,
                                  check_mode=check_mode, options=CERT_OPTIONS, issuer_options=ISSUER_OPTIONS)

    def run(self, exists=True):
        outcome = TLSOutcome()
        if not exists:  # check mode, no PKI directory yet: everything is to be made
            outcome.differences.add('ca', None, 'created: %s' % self.ca_path)
            outcome.differences.add('certificate', None, 'issued: %s' % self.cert_path)
            outcome.pending = True
            return outcome
        ca_run, cert_run = self.ca_run, self.cert_run
        phase = check_signing_ca(self.pki_dir)
        if phase is not None:
            # a CA rollover owns the CA until it is done: ca.crt is the phase's signing CA, kept as it is
            outcome.facts['rollover_phase'] = phase
            if self.regenerate in ('on_change', 'always'):
                outcome.warnings.append('ca.regenerate=%s is not applied while a CA rollover is under way (phase %s): '
                                        'the rollover replaces the CA' % (self.regenerate, phase))
            return self._certificate(outcome, cert_run)
        ca_run.plan()
        ca_run.apply()
        if self.check_mode and ca_run.issue:
            # a new CA re-issues the certificate; the plan would compare it with the CA still on disk
            outcome.differences.extend(ca_run.differences, 'ca: ')
            if os.path.lexists(self.cert_path):
                outcome.differences.add('certificate', 'signed by the current CA', 're-issued by the new CA')
            else:
                outcome.differences.add('certificate', None, 'issued: %s' % self.cert_path)
            outcome.pending = True
            outcome.warnings.extend(ca_run.warnings)
            return outcome
        outcome.differences.extend(ca_run.differences, 'ca: ')
        outcome.warnings.extend(ca_run.warnings)
        return self._certificate(outcome, cert_run)

    def _certificate(self, outcome, cert_run):
        """The server certificate under ca.crt (re-issued when another CA signed it), then the bytes for the host."""
        cert_run.plan()
        cert_run.apply()
        outcome.differences.extend(cert_run.differences, 'certificate: ')
        outcome.warnings.extend(cert_run.warnings)
        if self.check_mode and (cert_run.issue or cert_run.rewrite_key):
            outcome.pending = True
            outcome.facts['ca'] = certificate_facts(read_file(self.ca_path, 'ca'), self.ca_path)
            return outcome
        outcome.cert = read_file(self.cert_path, 'certificate')
        outcome.key = read_file(self.key_path, 'certificate key')
        outcome.ca = read_file(self.ca_path, 'ca')
        outcome.facts.update(ca=certificate_facts(outcome.ca, self.ca_path),
                             certificate=certificate_facts(outcome.cert, self.cert_path))
        return outcome


def own_pki(pki_dir, ca, certificate, check_mode, exists=True, writer=None):
    """OwnPKI(...).run(exists): make or keep our CA and the server certificate; a TLSOutcome."""
    return OwnPKI(pki_dir, ca, certificate, check_mode, writer).run(exists)


def byo_tls(cert_file, key_file, ca_file):
    """Bring-your-own files, checked against each other before anything is deployed; a TLSOutcome."""
    outcome = TLSOutcome()
    for option, path in (('tls_files.cert', cert_file), ('tls_files.key', key_file), ('tls_files.ca', ca_file)):
        if read_file(path, option) is None:
            raise PKIError('%s: %s does not exist on the controller' % (option, path))
    info, problems = certificate_info(cert_file, key_file, None, ca_file)
    del info
    if problems:
        raise PKIError('tls_files: %s; nothing was deployed' % '; '.join(problems))
    outcome.cert = read_file(cert_file, 'tls_files.cert')
    outcome.key = read_file(key_file, 'tls_files.key')
    outcome.ca = read_file(ca_file, 'tls_files.ca')
    outcome.facts = {'ca': certificate_facts(outcome.ca, ca_file), 'certificate': certificate_facts(outcome.cert, cert_file)}
    return outcome


def http_secret(pki_dir, check_mode, exists=True, writer=None):
    """(secret or None when check mode would generate it, Differences): ``<pki_dir>/http.secret``, made once
    (0600, 64 URL-safe characters) and reused; its mode is kept 0600. Call it holding the PKI lock."""
    differences = Differences()
    writer = writer or FileWriter(None)
    path = os.path.join(pki_dir, HTTP_SECRET_FILE)
    data = read_file(path, 'http_secret file') if exists else None
    if data is not None:
        try:
            secret = data.decode('utf-8').strip()
        except UnicodeDecodeError:
            secret = ''
        if len(secret) < MIN_SECRET or any(c.isspace() for c in secret):
            raise BerthError('%s: not a secret of at least %d characters on one line; remove the file to make a new '
                             'one (every replica gets it on the next run)' % (path, MIN_SECRET))
        args = writer.attrs(path, 0o600)
        if writer.record_attributes(differences, 'http.secret', args) and not check_mode:
            writer.apply_attributes(args)
        return secret, differences
    differences.add('http.secret', None, 'generated: %s' % path)
    if check_mode:
        return None, differences
    secret = _random.token_urlsafe(48)
    writer.write(writer.attrs(path, 0o600), (secret + '\n').encode('ascii'))
    return secret, differences
