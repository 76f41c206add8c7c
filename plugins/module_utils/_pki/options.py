# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PKI modules' options: argument specs, and plans built from plain option values.

``ca_plan(**options)`` and ``cert_plan(**options)`` take the modules' option names as keyword
arguments (a module passes ``**module.params``; an action plugin passes its own values), validate
them (PKIError naming the option and the value) and return a ``PairPlan``. Nothing is read here:
the plan reads in ``plan()``. Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._pki.certs import check_validity_days
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import KEY_TYPES, check_key_type
from ansible_collections.berth.registry.plugins.module_utils._pki.kinds import (
    ClientCertificate, Request, RootCA, ServerCertificate,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.names import (
    normalize_dns_names, normalize_ip_addresses, normalize_subject, subject_argument_spec,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.pair import PairFiles
from ansible_collections.berth.registry.plugins.module_utils._pki.plan import REGENERATE, IssuerFiles, PairPlan, Policy


def tls_key_argument_spec():
    """Options shared by tls_ca and tls_cert (documented in doc_fragments/_tls_key.py)."""
    return dict(
        privatekey_path=dict(type='path', required=True),
        privatekey_passphrase=dict(type='str', no_log=True),
        key_type=dict(type='str', default='ecdsa-p256', choices=list(KEY_TYPES)),
        mode=dict(type='raw', default='0644'),
        owner=dict(type='str'),
        group=dict(type='str'),
    )


def tls_ca_argument_spec():
    spec = tls_key_argument_spec()
    spec.update(
        path=dict(type='path', required=True),
        subject=subject_argument_spec(),
        validity_days=dict(type='int', default=3650),
        regenerate=dict(type='str', default='fail', choices=list(REGENERATE)),
        backup=dict(type='bool', default=True),
    )
    return spec


def tls_cert_argument_spec():
    spec = tls_key_argument_spec()
    spec.update(
        path=dict(type='path', required=True),
        ca_path=dict(type='path', required=True),
        ca_privatekey_path=dict(type='path', required=True),
        ca_privatekey_passphrase=dict(type='str', no_log=True),
        subject=subject_argument_spec(),
        dns_names=dict(type='list', elements='str', default=[]),
        ip_addresses=dict(type='list', elements='str', default=[]),
        validity_days=dict(type='int', default=397),
        renew_before_days=dict(type='int', default=30),
        fullchain_path=dict(type='path'),
        force=dict(type='bool', default=False),
    )
    return spec


def tls_cert_info_argument_spec():
    return dict(
        path=dict(type='path', required=True),
        privatekey_path=dict(type='path'),
        privatekey_passphrase=dict(type='str', no_log=True),
        ca_path=dict(type='path'),
        fail_on_mismatch=dict(type='bool', default=False),
    )


def ca_plan(path, privatekey_path, subject=None, privatekey_passphrase=None, key_type='ecdsa-p256',
            validity_days=3650, regenerate='fail', backup=True, mode='0644', owner=None, group=None,
            writer=None, check_mode=False, options=None):
    """The plan of a root CA (tls_ca): created when missing, replaced only as ``regenerate`` says.

    ``options``: how messages name the files and the passphrase, e.g. {'passphrase': 'registry_ca_passphrase'}
    for a caller whose users know other names (see pair.PairFiles)."""
    request = Request(RootCA(), normalize_subject(subject), check_key_type(key_type),
                      check_validity_days(validity_days))
    files = PairFiles(path, privatekey_path, privatekey_passphrase, mode=mode, owner=owner, group=group,
                      backup=backup, options=options)
    return PairPlan(request, files, Policy(regenerate, renew_before_days=0, new_key_on_change=True),
                    writer=writer, check_mode=check_mode)


def cert_plan(path, privatekey_path, ca_path, ca_privatekey_path, dns_names=(), ip_addresses=(), subject=None,
              privatekey_passphrase=None, ca_privatekey_passphrase=None, key_type='ecdsa-p256', validity_days=397,
              renew_before_days=30, fullchain_path=None, force=False, mode='0644', owner=None, group=None,
              writer=None, check_mode=False, kind=None, options=None, issuer_options=None):
    """The plan of a certificate signed by the CA (tls_cert; ``kind`` defaults to a server certificate):
    (re)issued when missing, different, not signed by the CA or within ``renew_before_days`` of expiry.

    ``options`` / ``issuer_options``: how messages name the pair's and the CA's files and passphrases."""
    validity_days = _check_renewal(validity_days, renew_before_days)
    dns_names = normalize_dns_names(dns_names)
    ip_addresses = normalize_ip_addresses(ip_addresses)
    if not dns_names and not ip_addresses:
        raise PKIError('dns_names and ip_addresses are both empty: give at least one (clients match the subjectAltName)')
    subject = normalize_subject(subject, default_cn=(dns_names + ip_addresses)[0], cn_required=False)
    request = Request(kind or ServerCertificate(), subject, check_key_type(key_type), validity_days,
                      dns_names=dns_names, ip_addresses=ip_addresses)
    files = PairFiles(path, privatekey_path, privatekey_passphrase, fullchain_path=fullchain_path, mode=mode,
                      owner=owner, group=group, options=options)
    return _leaf_plan(request, files, IssuerFiles(ca_path, ca_privatekey_path, ca_privatekey_passphrase,
                                                  options=issuer_options),
                      renew_before_days, force, writer, check_mode)


def client_cert_plan(path, privatekey_path, subject, issuer_files, key_type='ecdsa-p256', validity_days=397,
                     renew_before_days=30, force=False, forced_by=('force', True), mode='0644', owner=None, group=None,
                     writer=None, check_mode=False):
    """The plan of a client certificate for mutual TLS (EKU clientAuth, no subjectAltName; ``subject.CN`` names
    the client), signed by the CA of ``issuer_files``; (re)issued like a server certificate. ``force``: issue
    anew in any case, recorded as the difference ``forced_by`` = (field, value)."""
    validity_days = _check_renewal(validity_days, renew_before_days)
    request = Request(ClientCertificate(), normalize_subject(subject), check_key_type(key_type), validity_days)
    files = PairFiles(path, privatekey_path, mode=mode, owner=owner, group=group)
    return _leaf_plan(request, files, issuer_files, renew_before_days, force, writer, check_mode, forced_by)


def _check_renewal(validity_days, renew_before_days):
    validity_days = check_validity_days(validity_days)
    if renew_before_days is None or isinstance(renew_before_days, bool) or not isinstance(renew_before_days, int) \
            or renew_before_days < 0:
        raise PKIError('renew_before_days must be 0 or more, got %r' % (renew_before_days,))
    return validity_days


def _leaf_plan(request, files, issuer_files, renew_before_days, force, writer, check_mode, forced_by=('force', True)):
    policy = Policy('always' if force else 'on_change', renew_before_days=renew_before_days, forced_by=forced_by)
    plan = PairPlan(request, files, policy, issuer_files, writer=writer, check_mode=check_mode)
    if request.validity_days <= renew_before_days:
        plan.warnings.append('validity_days (%d) is not more than renew_before_days (%d): the certificate will be '
                             'renewed on every run' % (request.validity_days, renew_before_days))
    return plan
