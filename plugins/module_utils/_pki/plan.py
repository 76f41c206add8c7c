# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One plan-apply-dump object for a key + certificate pair: a CA (tls_ca) or a certificate it signs (tls_cert).

``plan()`` reads the pair (and the CA), records every difference in one ``Differences`` tracker and
applies the regenerate policy; ``apply()`` writes (nothing in check mode, nothing when nothing differs);
``result()`` is the module result, built once. Parameters are plain values and files are written through
``_files.FileWriter(module or None)``, so an action plugin runs the same code on the controller. Several
runs (forks) creating the same CA serialize with ``with plan.locked(): plan.plan(); plan.apply()``.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter, read_file
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import (
    certificate_summary, dump_certificate, fingerprint_sha256, utcnow,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.decisions import pair_differences
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import dump_private_key, generate_private_key
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import issue
from ansible_collections.berth.registry.plugins.module_utils._pki.names import subject_string
from ansible_collections.berth.registry.plugins.module_utils._pki.pair import Issuer, PairOnDisk, load_issuer

REGENERATE = ('fail', 'keep', 'on_change', 'always')
LOCK_NAME = '.berth-pki.lock'
_LABELS = {'cert': 'certificate', 'key': 'privatekey', 'fullchain': 'fullchain'}


class Policy(object):
    """When an existing pair is replaced.

    regenerate: what a difference of an existing pair does: ``fail`` (error, nothing written), ``keep``
    (warning), ``on_change`` (replace), ``always`` (replace even when nothing differs; recorded as
    ``forced_by`` = (field, value)). A missing pair is always created.
    renew_before_days: a certificate expiring within that many days differs (0: only an expired one).
    new_key_on_change: a replaced certificate gets a new key (a CA: its key is its identity); otherwise a
    usable key of the requested type is kept. ``always`` makes a new key in any case.
    """

    def __init__(self, regenerate='on_change', renew_before_days=0, new_key_on_change=False,
                 forced_by=('regenerate', 'always')):
        if regenerate not in REGENERATE:
            raise PKIError('regenerate: %r is not one of %s' % (regenerate, ', '.join(REGENERATE)))
        self.regenerate = regenerate
        self.renew_before_days = renew_before_days
        self.new_key_on_change = new_key_on_change
        self.forced_by = forced_by


class IssuerFiles(object):
    """Where the signing CA is; loaded in ``plan()``. In check mode a missing CA (the tls_ca task before
    was only checked) is pending: the certificate is reported as to be issued."""

    def __init__(self, ca_path, ca_key_path, passphrase=None, options=None):
        self.ca_path = ca_path
        self.ca_key_path = ca_key_path
        self.passphrase = passphrase
        self.options = options

    def load(self, check_mode, warnings):
        if check_mode and not os.path.lexists(self.ca_path):
            warnings.append('ca_path %s does not exist (yet); in check mode the certificate is reported as to be issued'
                            % self.ca_path)
            return Issuer.pending(self.ca_path)
        return load_issuer(self.ca_path, self.ca_key_path, self.passphrase, self.options)


@contextlib.contextmanager
def pki_lock(directory, timeout=300):
    """Hold an exclusive flock on ``<directory>/.berth-pki.lock`` (created 0600, left in place)."""
    path = os.path.join(directory, LOCK_NAME)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise PKIError('the lock file %s cannot be opened: %s' % (path, exc.strerror))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise PKIError('another run has held the lock %s for more than %s s' % (path, timeout))
                time.sleep(0.05)
        yield path
    finally:
        os.close(fd)


class PairPlan(object):
    """Plan, apply and dump one pair. ``request`` (kinds.Request), ``files`` (pair.PairFiles),
    ``policy`` (Policy), ``issuer_files`` (IssuerFiles; None: self-signed)."""

    def __init__(self, request, files, policy, issuer_files=None, writer=None, check_mode=False):
        self.request = request
        self.files = files
        self.policy = policy
        self.issuer_files = issuer_files
        self.writer = writer if writer is not None else FileWriter(None)
        self.check_mode = check_mode
        self.now = utcnow()
        self.differences = Differences()
        self.kept = Differences()
        self.warnings = []
        self.pair = self.issuer = self.cert = None
        self.issue = self.new_key = self.rewrite_key = self.write_fullchain = False
        self.backups = {}
        self._attrs = {}

    def locked(self, timeout=300):
        """The PKI directory's lock, to hold around plan() and apply()."""
        return pki_lock(os.path.dirname(os.path.abspath(self.files.cert_path)), timeout)

    # --- plan -----------------------------------------------------------------------------
    def plan(self):
        """Read and decide; raises PKIError (nothing written) for what the user must fix."""
        files, policy = self.files, self.policy
        self._attrs = {'cert': self.writer.attrs(files.cert_path, files.mode, files.owner, files.group),
                       'key': self.writer.attrs(files.key_path, 0o600, files.owner, files.group)}
        if files.fullchain_path:
            self._attrs['fullchain'] = self.writer.attrs(files.fullchain_path, files.mode, files.owner, files.group)
        files.check_directories()
        if self.issuer_files is not None:
            self.issuer = self.issuer_files.load(self.check_mode, self.warnings)
        pair = self.pair = PairOnDisk(files)
        found = pair_differences(pair, self.request, self.issuer, policy.renew_before_days, self.now)
        creating = not pair.cert_exists and (not pair.key_exists or pair.usable_key(self.request.key_type) is not None)
        if found and not creating:
            found = self._apply_policy(found)
        if policy.regenerate == 'always' and not found:
            found.add(policy.forced_by[0], None, policy.forced_by[1])
        self.differences.extend(found)
        self.issue = bool(found)
        if self.issue:
            self.new_key = (pair.usable_key(self.request.key_type) is None or policy.regenerate == 'always'
                            or (policy.new_key_on_change and pair.cert_exists))
            self.rewrite_key = self.new_key or pair.key_reencrypt
        else:
            self.cert = pair.cert
            if pair.key_reencrypt:
                self.differences.add('privatekey', 'not encrypted', 'encrypted with %s' % files.options['passphrase'])
                self.rewrite_key = True
        self._plan_fullchain()
        for which, args in sorted(self._attrs.items()):
            if not self._rewrites(which):
                self.writer.record_attributes(self.differences, _LABELS[which], args)
        return self.differences

    def _apply_policy(self, found):
        regenerate = self.policy.regenerate
        what = 'The existing %s %s' % (self.request.kind.name, self.files.cert_path)
        if regenerate == 'fail':
            consequence = (' A new CA breaks every client that trusts the old one.' if self.request.kind.is_ca else '')
            raise PKIError('%s differs from the request: %s. Nothing was written.%s Set regenerate=on_change (or always) '
                           'to replace it, or regenerate=keep to keep it.' % (what, found.describe(), consequence),
                           differences=found.as_list())
        if regenerate == 'keep':
            self.kept = found
            self.warnings.append('Keeping the existing %s %s although it differs from the request (regenerate=keep): %s'
                                 % (self.request.kind.name, self.files.cert_path, found.describe()))
            return Differences()
        return found

    def _plan_fullchain(self):
        path = self.files.fullchain_path
        if not path:
            return
        current = read_file(path, self.files.options['fullchain'])
        if self.issue:
            self.write_fullchain = True
        elif self.pair.cert is not None and self.issuer is not None and self.issuer.cert_bytes is not None:
            if current != fullchain(self.pair.cert_bytes, self.issuer.cert_bytes):
                self.differences.add('fullchain', None if current is None else 'out of date', 'certificate + CA')
                self.write_fullchain = True

    def _rewrites(self, which):
        return {'cert': self.issue, 'key': self.rewrite_key, 'fullchain': self.write_fullchain}[which]

    # --- apply ----------------------------------------------------------------------------
    def apply(self):
        """Write what plan() decided: key first, then certificate, then full chain, all staged before the first
        rename; then the attributes of the files that stay. Nothing in check mode."""
        if self.check_mode or not self.differences:
            return self
        key = None
        if self.issue:
            if self.issuer is not None and self.issuer.cert is None:
                raise PKIError('ca_path %s does not exist' % self.issuer.path)
            key = generate_private_key(self.request.key_type) if self.new_key else self.pair.key
            if self.issuer is not None:
                self.cert = issue(self.request, key, self.issuer.key, self.issuer.cert, now=self.now)
            else:
                self.cert = issue(self.request, key, now=self.now)
        elif self.rewrite_key:
            key = self.pair.key
        writes = []
        if self.rewrite_key:
            writes.append(('key', dump_private_key(key, self.files.passphrase)))
        cert_bytes = dump_certificate(self.cert) if self.issue else self.pair.cert_bytes
        if self.issue:
            writes.append(('cert', cert_bytes))
        if self.write_fullchain:
            writes.append(('fullchain', fullchain(cert_bytes, self.issuer.cert_bytes)))
        if writes:
            backups = self.writer.write_together([(self._attrs[which], data) for which, data in writes],
                                                 backup=self.files.backup)
            self.backups = dict((which, b) for (which, dummy), b in zip(writes, backups) if b)
        for which, args in sorted(self._attrs.items()):
            if not self._rewrites(which) and os.path.exists(args['path']):
                self.writer.apply_attributes(args)
        return self

    # --- dump -----------------------------------------------------------------------------
    def result(self, diff_mode):
        """The module result: changed/differences/diff from the tracker, and what the certificate holds
        (the requested values, with null serial/fingerprint/dates, while it is only planned)."""
        request = self.request
        if self.cert is not None:
            facts = certificate_summary(self.cert)
        else:
            facts = dict(subject=request.subject, subject_string=subject_string(request.subject),
                         key_type=request.key_type, serial=None, fingerprint_sha256=None, not_before=None,
                         not_after=None, dns_names=request.dns_names, ip_addresses=request.ip_addresses)
        if request.dns_names is None:
            facts.pop('dns_names')
            facts.pop('ip_addresses')
        facts.update(path=self.files.cert_path, privatekey_path=self.files.key_path)
        if self.issuer_files is not None:
            facts.update(fullchain_path=self.files.fullchain_path, issuer_fingerprint_sha256=(
                fingerprint_sha256(self.issuer.cert) if self.issuer is not None and self.issuer.cert is not None
                else None))
        if 'cert' in self.backups:
            facts['backup_file'] = self.backups['cert']
        if 'key' in self.backups:
            facts['backup_privatekey'] = self.backups['key']
        return self.differences.result(diff_mode, header=self.files.cert_path, **facts)


def fullchain(cert_bytes, ca_bytes):
    return cert_bytes.rstrip(b'\n') + b'\n' + ca_bytes.rstrip(b'\n') + b'\n'
