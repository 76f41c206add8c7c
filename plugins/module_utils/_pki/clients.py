# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client certificates of a fleet (mutual TLS) and the CRL of the nodes that left it, on the controller.

One directory, written only here (the caller holds the PKI lock):

  ``<node>.crt`` + ``<node>.key``   one pair per enrolled node: EKU clientAuth, subject CN=<node>, signed by the
                                    CA; the key (0600) is made here, on the controller, and goes to its own node only
  ``index.json``                    which serial was issued to which node, and what was revoked when
  ``crl.pem``                       the CRL the front end checks (``ssl_crl``): every certificate of a node that is
                                    no longer enrolled, until it expires; always present, empty when none is revoked
  ``revoked/<node>.<serial>.crt``   revoked certificates, kept for the record (their keys are deleted)

Revocation = the node is no longer in ``nodes``: its certificate's serial goes into the CRL and its files leave
the directory. A node enrolled again gets a new pair (its old serial stays revoked). A renewed certificate
(expiry, key type) is not revoked: the old one sits on the same, still enrolled node and expires on its own.
``ClientFleet`` is a plan-apply-dump object like ``plan.PairPlan`` (one ``PairPlan`` per node inside).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import datetime
import json
import os
import re

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter, read_file
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import (
    fingerprint_sha256, is_signed_by, iso, load_certificate, not_after, utcnow,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.crl import (
    Revoked, build_crl, crl_differences, crl_number, crl_signed_by, dump_crl, load_crl, revocation_date, serial_text,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.decisions import planned
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import DamagedFile, PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.options import client_cert_plan
from ansible_collections.berth.registry.plugins.module_utils._pki.plan import IssuerFiles

INDEX_NAME = 'index.json'
CRL_NAME = 'crl.pem'
REVOKED_DIR = 'revoked'
MAX_NODE_LENGTH = 64  # the node name is the certificate's CN (ub-common-name)
_NODE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._:-]*$')
_ISO = '%Y-%m-%dT%H:%M:%SZ'


def check_node(name, option='nodes'):
    """A node name fit for a file name and a CN: letters, digits, ``.``, ``_``, ``:``, ``-``; not starting with
    a dot or a dash; at most 64 characters."""
    if not isinstance(name, str) or not _NODE.match(name) or len(name) > MAX_NODE_LENGTH:
        raise PKIError('%s: %r cannot name a client certificate: a node name (inventory_hostname) here has 1 to %d '
                       'characters among letters, digits, ".", "_", ":" and "-", and starts with a letter or digit'
                       % (option, name, MAX_NODE_LENGTH))
    return name


class _LoadedIssuer(object):
    """IssuerFiles' interface for a CA loaded once for every node's plan."""

    def __init__(self, issuer):
        self.issuer = issuer

    def load(self, check_mode, warnings):
        return self.issuer


class ClientFleet(object):
    """Plan, apply and dump the client certificates of ``nodes`` and the CRL, in ``directory``.

    ``ca_*``: the signing CA (its key never leaves the controller); ``key_type``, ``validity_days``,
    ``renew_before_days``: of the client certificates, and of the CRL's nextUpdate.
    """

    def __init__(self, directory, nodes, ca_path, ca_privatekey_path, ca_privatekey_passphrase=None,
                 key_type='ecdsa-p256', validity_days=397, renew_before_days=30, writer=None, check_mode=False):
        self.directory = directory
        self.nodes = []
        for index, node in enumerate(nodes or []):
            check_node(node, 'nodes[%d]' % index)
            if node in self.nodes:
                raise PKIError('nodes: %r is listed twice' % node)
            self.nodes.append(node)
        self.issuer_files = IssuerFiles(ca_path, ca_privatekey_path, ca_privatekey_passphrase)
        self.key_type, self.validity_days, self.renew_before_days = key_type, validity_days, renew_before_days
        self.writer = writer if writer is not None else FileWriter(None)
        self.check_mode = check_mode
        self.now = utcnow()
        self.differences = Differences()
        self.warnings = []
        self.issuer = None
        self.plans = {}
        self.leaving = {}      # node -> [serial] revoked by this run
        self.revoked = []      # index entries of the CRL: {node, serial, revoked_at, not_after}
        self.crl_bytes = None  # what crl.pem holds after apply (in check mode: would hold); None: not known yet
        self.write_crl = False
        self.index = None
        self.write_index = False

    def path(self, name):
        return os.path.join(self.directory, name)

    def pair_paths(self, node):
        """(certificate, key) paths of a node."""
        return self.path('%s.crt' % node), self.path('%s.key' % node)

    # --- plan -----------------------------------------------------------------------------
    def plan(self):
        """Read and decide; PKIError (nothing written) for what the user must fix."""
        self.issuer = self.issuer_files.load(self.check_mode, self.warnings)
        if os.path.lexists(self.directory) and not os.path.isdir(self.directory):
            raise PKIError('client certificates: %s exists and is not a directory' % self.directory)
        exists = os.path.isdir(self.directory)
        if not exists:
            self.differences.add('client certificates directory', None, self.directory)
        index = self._read_index() if exists else {'issued': {}, 'revoked': []}
        self._read_crl(exists)
        # an expired certificate is refused anyway: it leaves the CRL
        self.revoked = [e for e in index['revoked'] + self._recovered(index)
                        if e['not_after'] is None or _time(e['not_after']) > self.now]
        revoked_set = set(int(e['serial'], 16) for e in self.revoked)
        for node in self.nodes:
            self.plans[node] = plan = self._pair_plan(node, revoked_set)
            if exists:
                plan.plan()
                self.warnings.extend(plan.warnings)
                self.differences.extend(plan.differences, prefix='client %s: ' % node)
            else:
                self.differences.add('client %s: certificate' % node, None, planned(plan.request))
        if exists:
            self._plan_leaving(index)
        self._plan_crl()
        self._plan_index(index)
        return self.differences

    def _pair_plan(self, node, revoked_set):
        cert_path, key_path = self.pair_paths(node)
        force, forced_by = False, ('force', True)
        serial = _serial_on_disk(cert_path)
        if serial is not None and serial in revoked_set:
            force, forced_by = True, ('certificate', 'serial %s is revoked: issued anew' % serial_text(serial))
        return client_cert_plan(cert_path, key_path, {'CN': node}, _LoadedIssuer(self.issuer), key_type=self.key_type,
                                validity_days=self.validity_days, renew_before_days=self.renew_before_days,
                                force=force, forced_by=forced_by, writer=self.writer, check_mode=self.check_mode)

    def _plan_leaving(self, index):
        """Nodes with a certificate of this CA here (in the index or as a file) that are no longer enrolled."""
        found = {}  # node -> {serial: not_after (text or None)}
        for node, entry in index['issued'].items():
            if node not in self.nodes:
                found.setdefault(node, {})[int(entry['serial'], 16)] = entry['not_after']
        for name in sorted(os.listdir(self.directory)):
            node = name[:-len('.crt')]
            if not name.endswith('.crt') or node in self.nodes or not _NODE.match(node):
                continue
            cert = _certificate_on_disk(self.path(name))
            if cert is not None and self.issuer.cert is not None and is_signed_by(cert, self.issuer.cert):
                found.setdefault(node, {})[cert.serial_number] = iso(not_after(cert))
        known = set(int(e['serial'], 16) for e in self.revoked)
        for node in sorted(found):
            serials = sorted(set(found[node]) - known)
            self.leaving[node] = serials
            if not serials:  # revoked before, only its files are left
                self.differences.add('client %s files' % node, 'present', None)
                continue
            self.differences.add('client %s' % node, 'enrolled (serial %s)' % ', '.join(serial_text(s) for s in serials),
                                 'revoked (no longer in the inventory)')
            for serial in serials:
                self.revoked.append({'node': node, 'serial': serial_text(serial), 'revoked_at': iso(self.now),
                                     'not_after': found[node][serial]})

    def _read_crl(self, exists):
        self.current_crl_bytes = read_file(self.path(CRL_NAME), 'crl') if exists else None
        self.current_crl, self.crl_problem = None, None
        if self.current_crl_bytes is not None:
            try:
                self.current_crl = load_crl(self.current_crl_bytes, self.path(CRL_NAME))
            except DamagedFile as exc:
                self.crl_problem = str(exc)

    def _recovered(self, index):
        """Serials our CRL revokes that the index does not record (it was lost or replaced): they stay revoked.
        Node and expiry come from the copy in revoked/ when there is one."""
        crl, issuer = self.current_crl, self.issuer.cert
        if crl is None or issuer is None or not crl_signed_by(crl, issuer):
            return []
        known = set(int(e['serial'], 16) for e in index['revoked'])
        copies = {}
        if os.path.isdir(self.path(REVOKED_DIR)):
            for name in os.listdir(self.path(REVOKED_DIR)):
                cert = _certificate_on_disk(os.path.join(self.path(REVOKED_DIR), name))
                if cert is not None and name.count('.') >= 2:
                    copies[cert.serial_number] = (name.rsplit('.', 2)[0], iso(not_after(cert)))
        result = []
        for entry in crl:
            if entry.serial_number not in known:
                node, expires = copies.get(entry.serial_number, (None, None))
                result.append({'node': node, 'serial': serial_text(entry.serial_number),
                               'revoked_at': iso(revocation_date(entry)), 'not_after': expires})
        return result

    def _plan_crl(self):
        """The CRL lists every revoked certificate that has not expired; it is always there (see crl.py)."""
        serials = sorted(int(e['serial'], 16) for e in self.revoked)
        current, crl = self.current_crl_bytes, self.current_crl
        summary = 'CRL of %s, %d revoked' % (self.issuer_files.ca_path, len(serials))
        if current is None:
            self.differences.add('crl', None, summary)
        elif crl is None:
            self.differences.add('crl', self.crl_problem, summary)
        if crl is not None and self.issuer.cert is not None:
            found = crl_differences(crl, self.issuer.cert, serials, self.renew_before_days, self.now)
            self.differences.extend(found)
            self.write_crl = bool(found)
        else:
            self.write_crl = True
        if not self.write_crl:
            self.crl_bytes = current
        elif self.issuer.cert is not None:  # signed in memory now, so check mode shows the very bytes
            revoked = [Revoked(int(e['serial'], 16), _time(e['revoked_at'])) for e in self.revoked]
            number = crl_number(crl) + 1 if crl is not None else 1
            self.crl_bytes = dump_crl(build_crl(self.issuer.cert, self.issuer.key, revoked, number, now=self.now,
                                                validity_days=self.validity_days))

    def _plan_index(self, index):
        """The index follows what was issued and revoked; on its own it differs only when it is out of date."""
        self.index = index
        if self.differences:
            self.write_index = True
            return
        wanted = self._index_content()
        if wanted != index:
            self.write_index = True
            self.differences.add('client certificates index', 'out of date' if index['issued'] or index['revoked']
                                 else None, '%d enrolled, %d revoked' % (len(self.nodes), len(self.revoked)))

    def _index_content(self):
        issued = {}
        for node, plan in sorted(self.plans.items()):
            cert = plan.cert  # the pair's certificate once planned (kept) or applied (issued)
            if cert is not None:
                issued[node] = {'serial': serial_text(cert.serial_number), 'not_after': iso(not_after(cert)),
                                'fingerprint_sha256': fingerprint_sha256(cert)}
        revoked = sorted(self.revoked, key=_revoked_order)
        return {'issued': issued, 'revoked': revoked}

    def _read_index(self):
        path = self.path(INDEX_NAME)
        data = read_file(path, 'client certificates index')
        if data is None:
            return {'issued': {}, 'revoked': []}
        problem = 'is not what berth writes there'
        try:
            value = json.loads(data.decode('utf-8'))
            issued, revoked = value['issued'], value['revoked']
            if not isinstance(issued, dict) or not isinstance(revoked, list):
                raise ValueError(problem)
            for node, entry in issued.items():
                check_node(node, 'index issued')
                int(entry['serial'], 16)
                _time(entry['not_after'])
            for entry in revoked:
                if entry['node'] is not None:  # None: known from the CRL only
                    check_node(entry['node'], 'index revoked')
                int(entry['serial'], 16)
                _time(entry['revoked_at'])
                if entry.get('not_after') is not None:
                    _time(entry['not_after'])
                entry.setdefault('not_after', None)
        except (ValueError, KeyError, TypeError, AttributeError, PKIError) as exc:
            raise PKIError('client certificates index %s %s (%s): it records which certificates are revoked, so it is '
                           'not replaced; fix it, or remove it to start a new record (certificates of nodes no longer '
                           'in the inventory are then revoked again from their files)' % (path, problem, exc))
        return {'issued': issued, 'revoked': revoked}

    # --- apply ----------------------------------------------------------------------------
    def apply(self):
        """Write what plan() decided (nothing in check mode): directory, pairs, revocations, CRL, index."""
        if self.check_mode or not self.differences:
            return self
        if not os.path.isdir(self.directory):
            self.writer.ensure_directory(self.directory, 0o700)
            for plan in self.plans.values():
                plan.plan()
        for node in self.nodes:
            self.plans[node].apply()
        for node in sorted(self.leaving):
            self._retire(node)
        if self.write_crl:
            self.writer.write(self.writer.attrs(self.path(CRL_NAME), 0o644), self.crl_bytes)
        if self.write_index:
            self.writer.write(self.writer.attrs(self.path(INDEX_NAME), 0o644),
                              (json.dumps(self._index_content(), indent=2, sort_keys=True) + '\n').encode('ascii'))
        return self

    def _retire(self, node):
        """The node's key goes; its certificate moves to revoked/ (the record)."""
        cert_path, key_path = self.pair_paths(node)
        if os.path.exists(key_path):
            os.unlink(key_path)
        cert = _certificate_on_disk(cert_path)
        if cert is not None:
            self.writer.ensure_directory(self.path(REVOKED_DIR), 0o700)
            os.rename(cert_path, os.path.join(self.path(REVOKED_DIR),
                                              '%s.%s.crt' % (node, serial_text(cert.serial_number))))
        elif os.path.lexists(cert_path):
            os.unlink(cert_path)

    # --- dump -----------------------------------------------------------------------------
    def certificates(self):
        """{node: {path, privatekey_path, serial, fingerprint_sha256, not_after}} (serial etc. None while only
        planned)."""
        result = {}
        for node, plan in sorted(self.plans.items()):
            cert = plan.cert
            cert_path, key_path = self.pair_paths(node)
            result[node] = {'path': cert_path, 'privatekey_path': key_path,
                            'serial': serial_text(cert.serial_number) if cert is not None else None,
                            'fingerprint_sha256': fingerprint_sha256(cert) if cert is not None else None,
                            'not_after': iso(not_after(cert)) if cert is not None else None}
        return result

    def result(self, diff_mode):
        return self.differences.result(
            diff_mode, header=self.directory, directory=self.directory, crl_path=self.path(CRL_NAME),
            client_certificates=self.certificates(),
            revoked=[{'node': e['node'], 'serial': e['serial']} for e in sorted(self.revoked, key=_revoked_order)])


def _revoked_order(entry):
    return (entry['node'] or '', entry['serial'])


def _time(text):
    return datetime.datetime.strptime(text, _ISO).replace(tzinfo=datetime.timezone.utc)


def _certificate_on_disk(path):
    try:
        data = read_file(path, 'client certificate')
        return load_certificate(data, path) if data is not None else None
    except PKIError:
        return None


def _serial_on_disk(path):
    cert = _certificate_on_disk(path)
    return cert.serial_number if cert is not None else None
