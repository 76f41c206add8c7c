# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Names in certificates: the subject and the subjectAltNames. Pure (no files).

Input is validated here (one-line printable text, X.509 length bounds, DNS names and plain IP
addresses through ``_names``); what a certificate holds is read back in the same shapes, so the
decisions compare like with like. Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.berth.registry.plugins.module_utils._names import check_text, dns_name, ip_address
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import PKIError

try:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
except ImportError:  # reported by _crypto_deps.require_cryptography()
    pass

SUBJECT_FIELDS = ('C', 'ST', 'L', 'O', 'OU', 'CN')
# RFC 5280 upper bounds (ub-common-name, ub-organization-name, ...); cryptography 38 checks none but C
MAX_LENGTH = {'C': 2, 'ST': 128, 'L': 128, 'O': 64, 'OU': 64, 'CN': 64}


def subject_argument_spec():
    """The subject option (documented once in doc_fragments/_tls_subject.py)."""
    return dict(type='dict', options=dict((field, dict(type='str')) for field in SUBJECT_FIELDS))


def normalize_subject(subject, default_cn=None, cn_required=True):
    """Drop empty fields, validate, apply the CN default; returns {field: value} in X.509 order.

    ``default_cn`` (a server certificate's first SAN) is used only when it fits the 64 characters of a
    CN; a longer one leaves the CN out: clients match the subjectAltName, never the CN.
    """
    subject = dict((k, v) for k, v in (subject or {}).items() if v is not None and str(v) != '')
    unknown = sorted(set(subject) - set(SUBJECT_FIELDS))
    if unknown:
        raise PKIError('subject: unknown field(s) %s; allowed: %s' % (', '.join(unknown), ', '.join(SUBJECT_FIELDS)))
    result = {}
    for field in SUBJECT_FIELDS:
        if field not in subject:
            continue
        option = 'subject.%s' % field
        value = check_text(str(subject[field]), option)
        if field == 'C' and not (len(value) == 2 and value.isalpha() and value.isascii()):
            raise PKIError('%s must be a two-letter country code such as DE, got %r' % (option, value))
        if len(value) > MAX_LENGTH[field]:
            hint = ''
            if field == 'CN' and not cn_required:
                hint = '; leave subject.CN out for a long host name: clients match the subjectAltName'
            raise PKIError('%s: %r is longer than %d characters (the X.509 limit)%s'
                           % (option, value, MAX_LENGTH[field], hint))
        result[field] = value
    if 'CN' not in result and default_cn and len(default_cn) <= MAX_LENGTH['CN']:
        result['CN'] = default_cn
    if cn_required and 'CN' not in result:
        raise PKIError('subject.CN is required')
    return result


def build_name(subject):
    oids = _name_oids()
    return x509.Name([x509.NameAttribute(oids[f], subject[f]) for f in SUBJECT_FIELDS if f in subject])


def name_to_dict(name):
    by_oid = dict((oid, field) for field, oid in _name_oids().items())
    result = {}
    for attribute in name:
        key = by_oid.get(attribute.oid, attribute.oid.dotted_string)
        result[key] = attribute.value if key not in result else '%s+%s' % (result[key], attribute.value)
    return result


def subject_string(subject):
    """'/C=CN/ST=Sichuan/O=GTDQ/CN=docker.gt.com CA' (the openssl -subj form); '/' for an empty subject."""
    order = list(SUBJECT_FIELDS) + sorted(k for k in subject if k not in SUBJECT_FIELDS)
    return ''.join('/%s=%s' % (k, subject[k]) for k in order if k in subject) or '/'


def normalize_dns_names(values, option='dns_names'):
    """DNS names (lower-cased, ``*.`` wildcards below a registrable domain), without duplicates."""
    result = []
    for value in values or []:
        name = dns_name(value, option, wildcard=True)
        if name not in result:
            result.append(name)
    return result


def normalize_ip_addresses(values, option='ip_addresses'):
    """Plain IPv4/IPv6 addresses, normalized; a zone (``fe80::1%eth0``) is refused: a certificate cannot carry it."""
    result = []
    for value in values or []:
        address = ip_address(value, option)
        if address not in result:
            result.append(address)
    return result


def general_names(dns_names, ip_addresses):
    return ([x509.DNSName(n) for n in dns_names or []] +
            [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses or []])


def san_of(cert):
    """(dns_names, ip_addresses) of a certificate, both as lists of strings."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return ([n.lower() for n in san.get_values_for_type(x509.DNSName)],
            [str(ip) for ip in san.get_values_for_type(x509.IPAddress)])


def _name_oids():
    return {'C': NameOID.COUNTRY_NAME, 'ST': NameOID.STATE_OR_PROVINCE_NAME, 'L': NameOID.LOCALITY_NAME,
            'O': NameOID.ORGANIZATION_NAME, 'OU': NameOID.ORGANIZATIONAL_UNIT_NAME, 'CN': NameOID.COMMON_NAME}
