#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: tls_cert
short_description: Server key and certificate signed by the own CA, renewed before expiry
description:
  - Creates a server private key and a certificate signed by a CA made with M(berth.registry.tls_ca),
    with the extensions C(authorityKeyIdentifier=keyid), C(basicConstraints=critical,CA:FALSE),
    C(extendedKeyUsage=serverAuth), C(keyUsage=critical,digitalSignature) (plus C(keyEncipherment) for RSA keys),
    C(subjectAltName) from O(dns_names) and O(ip_addresses) and C(subjectKeyIdentifier=hash).
  - The certificate is (re)issued only when it is missing or damaged, its key is missing, damaged or
    does not match, it is not signed by the given CA, the SAN set, subject or key type differs, it expires
    within O(renew_before_days), or O(force=true). Otherwise nothing is re-signed and the serial stays.
  - An existing usable private key of the requested type is kept when the certificate is re-issued.
  - An existing key that cannot be read for a reason you can fix (encrypted and no or a wrong
    O(privatekey_passphrase), permission denied, a directory in its place) is an error naming the file, also
    with O(force=true); nothing is replaced.
  - The CA certificate and key are always read and checked; a problem with them is an error and nothing is written.
  - The subject CN defaults to the first DNS name (or IP address). A DNS name longer than the 64 characters
    X.509 allows in a CN leaves the CN out instead (clients match the subjectAltName, never the CN; the
    subjectAltName is then critical when the subject is empty); an explicit O(subject.CN) over 64 characters
    is an error.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._tls_key
  - berth.registry._tls_subject
attributes:
  check_mode:
    support: full
    details:
      - When O(ca_path) does not exist yet (an earlier M(berth.registry.tls_ca) task was only checked),
        the certificate is reported as to be issued, with a warning.
  diff_mode:
    support: full
    details:
      - The diff shows the differing fields (subject, SANs, key type, issuer, not_after, file attributes),
        metadata only.
  idempotent:
    support: partial
    details:
      - Not idempotent with O(force=true), or when O(validity_days) is not more than O(renew_before_days)
        (the certificate is then renewed on every run).
options:
  path:
    description:
      - Path of the server certificate (PEM).
    type: path
    required: true
  ca_path:
    description:
      - Path of the CA certificate that signs.
    type: path
    required: true
  ca_privatekey_path:
    description:
      - Path of the CA private key. It must match O(ca_path).
    type: path
    required: true
  ca_privatekey_passphrase:
    description:
      - Passphrase of the CA private key.
    type: str
  dns_names:
    description:
      - DNS names in the subjectAltName (lower-cased; C(*.example.com) allowed). Each is a host name of
        letters, digits and inner hyphens per label; an IP address belongs in O(ip_addresses).
    type: list
    elements: str
    default: []
  ip_addresses:
    description:
      - IPv4 and IPv6 addresses in the subjectAltName. An IPv6 zone (C(fe80::1%eth0)) is refused because a certificate
        cannot carry it.
      - At least one of O(dns_names) and O(ip_addresses) is required.
    type: list
    elements: str
    default: []
  validity_days:
    description:
      - Days a newly issued certificate is valid.
    type: int
    default: 397
  renew_before_days:
    description:
      - Re-issue the certificate (same CA, same key) when it expires within this many days.
    type: int
    default: 30
  fullchain_path:
    description:
      - Also write the certificate followed by the CA certificate to this path.
    type: path
  force:
    description:
      - Re-issue the certificate with a new private key on this run.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Server certificate of the registry
  berth.registry.tls_cert:
    path: /etc/docker/registry/ssl/docker.gt.com.crt
    privatekey_path: /etc/docker/registry/ssl/docker.gt.com.key
    fullchain_path: /etc/docker/registry/ssl/docker.gt.com.fullchain.crt
    ca_path: /etc/docker/registry/ssl/root-ca.crt
    ca_privatekey_path: /etc/docker/registry/ssl/root-ca.key
    subject:
      C: CN
      O: GTDQ
    dns_names: [docker.gt.com]
    ip_addresses: [127.0.0.1]
  register: site_cert

- name: Show why it was issued
  ansible.builtin.debug:
    var: site_cert.differences
'''

RETURN = r'''
path:
  description: Path of the certificate.
  returned: always
  type: str
privatekey_path:
  description: Path of the private key.
  returned: always
  type: str
fullchain_path:
  description: Path of the full-chain file, V(null) when not requested.
  returned: always
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate (colon hex); V(null) in check mode when it would be issued.
  returned: always
  type: str
serial:
  description: Serial number in upper-case hex; V(null) in check mode when it would be issued.
  returned: always
  type: str
not_before:
  description: Start of validity, ISO 8601 UTC; V(null) in check mode when it would be issued.
  returned: always
  type: str
not_after:
  description: End of validity, ISO 8601 UTC; V(null) in check mode when it would be issued.
  returned: always
  type: str
dns_names:
  description: DNS names in the subjectAltName.
  returned: always
  type: list
  elements: str
ip_addresses:
  description: IP addresses in the subjectAltName.
  returned: always
  type: list
  elements: str
subject:
  description: Subject of the certificate as a dict.
  returned: always
  type: dict
key_type:
  description: Key type of the certificate.
  returned: always
  type: str
issuer_fingerprint_sha256:
  description: SHA-256 fingerprint of the signing CA certificate.
  returned: always
  type: str
subject_string:
  description: Subject in the openssl C(-subj) form.
  returned: always
  type: str
differences:
  description:
    - Why the certificate was (or in check mode would be) issued or its files changed, one item per field
      (certificate, privatekey, key_type, subject, dns_names, ip_addresses, issuer, not_after, force,
      extended_key_usage, fullchain, and file attributes such as C(certificate mode)); empty when nothing changed.
    - Replaces the former C(reasons) list of strings.
  returned: always
  type: list
  elements: dict
  contains:
    field:
      description: What differs.
      type: str
    before:
      description: The current value (V(null) when absent).
      type: raw
    after:
      description: The wanted value.
      type: raw
  sample: [{"field": "not_after", "before": "2025-03-01T00:00:00Z", "after": "2026-04-02T10:00:00Z"}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._pki.modules import TlsCert
from ansible_collections.berth.registry.plugins.module_utils._pki.options import tls_cert_argument_spec


def main():
    module = AnsibleModule(argument_spec=tls_cert_argument_spec(), supports_check_mode=True)
    run_module(module, lambda: TlsCert(module).run())


if __name__ == '__main__':
    main()
