# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How a pair on disk differs from a request: one ``Differences`` record, the reasons users see.

Works for every kind of certificate (the kind adds its own checks). Reads nothing itself.
Fields: certificate, privatekey, key_type, subject, dns_names, ip_addresses, issuer, not_after and
the kind's (basic_constraints, extended_key_usage). Private to the collection: free to refactor.
"""

from __future__ import annotations

import datetime

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._pki.certs import (
    fingerprint_sha256, is_signed_by, iso, not_after, utcnow,
)
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import key_type_of
from ansible_collections.berth.registry.plugins.module_utils._pki.names import name_to_dict, san_of, subject_string


def planned(request):
    """The one-line description of a certificate that would be issued (diffs, check mode)."""
    names = (request.dns_names or []) + (request.ip_addresses or [])
    return '%s %s, %s%s' % (request.kind.name, subject_string(request.subject), request.key_type,
                            ', SAN ' + ', '.join(names) if names else '')


def pair_differences(pair, request, issuer=None, renew_before_days=0, now=None):
    """Everything that makes the pair unfit for the request (empty: it fits as it is).

    ``issuer``: the signing CA (None: self-signed); ``renew_before_days``: a certificate expiring within
    that many days differs in not_after (0: only an expired one). Missing files are differences too.
    """
    now = now or utcnow()
    found = Differences()
    cert = pair.cert
    if not pair.cert_exists:
        found.add('certificate', None, planned(request))
    elif cert is None:
        found.add('certificate', pair.cert_problem, planned(request))
    if not pair.key_exists:
        found.add('privatekey', None, 'new %s key' % request.key_type)
    elif pair.key is None:
        found.add('privatekey', pair.key_problem, 'new %s key' % request.key_type)
    current_type = key_type_of(cert.public_key()) if cert is not None else (
        key_type_of(pair.key) if pair.key is not None else None)
    if current_type is not None and current_type != request.key_type:
        found.add('key_type', current_type, request.key_type)
    if cert is None:
        return found
    if pair.key is not None and not pair.key_matches_cert():
        found.add('privatekey', 'does not match the certificate', 'the certificate\'s key')
    for field, before, after in request.kind.differences(cert):
        found.add(field, before, after)
    if issuer is not None:
        _issuer_difference(found, cert, issuer)
    for field, current, wanted in zip(('dns_names', 'ip_addresses'), san_of(cert),
                                      (request.dns_names, request.ip_addresses)):
        if wanted is not None and sorted(current) != sorted(wanted):
            found.add(field, sorted(current), sorted(wanted))
    current_subject = name_to_dict(cert.subject)
    if current_subject != request.subject:
        found.add('subject', subject_string(current_subject), subject_string(request.subject))
    expires = not_after(cert)
    if expires - now <= datetime.timedelta(days=renew_before_days):
        found.add('not_after', iso(expires), iso(now + datetime.timedelta(days=request.validity_days)))
    return found


def _issuer_difference(found, cert, issuer):
    before = subject_string(name_to_dict(cert.issuer))
    if issuer.cert is None:
        found.add('issuer', before, 'CA %s (does not exist yet)' % issuer.path)
    elif not is_signed_by(cert, issuer.cert):
        wanted = subject_string(name_to_dict(issuer.cert.subject))
        found.add('issuer', '%s (not signed by the CA %s)' % (before, issuer.path),
                  '%s (SHA-256 %s)' % (wanted, fingerprint_sha256(issuer.cert)))
