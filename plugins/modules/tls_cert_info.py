#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: tls_cert_info
short_description: Read a certificate's metadata and check it against its key and CA
description:
  - Reads a PEM certificate and returns its subject, SANs, validity and SHA-256 fingerprint.
  - Optionally checks that a private key belongs to it and that a CA certificate signed it, so a
    bring-your-own certificate is refused before anything is deployed. Never returns key bytes.
  - Read-only. A file that is missing, not readable or not PEM, and a key with no or a wrong passphrase,
    is an error naming the option and the file.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  path:
    description: The PEM certificate (the first certificate of a full chain is read).
    type: path
    required: true
  privatekey_path:
    description: A private key that must belong to the certificate.
    type: path
  privatekey_passphrase:
    description: Passphrase of O(privatekey_path).
    type: str
  ca_path:
    description: A CA certificate that must have signed the certificate (a self-signed O(path) may be the CA itself).
    type: path
  fail_on_mismatch:
    description: Fail when the key does not match, the CA did not sign it, or it has expired.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Refuse a bring-your-own certificate whose key or CA does not fit
  berth.registry.tls_cert_info:
    path: /srv/pki/registry.crt
    privatekey_path: /srv/pki/registry.key
    ca_path: /srv/pki/corporate-ca.crt
    fail_on_mismatch: true

- name: Read the CA's fingerprint and expiry
  berth.registry.tls_cert_info:
    path: ~/.berth/docker.gt.com/ca.crt
  register: ca
'''

RETURN = r'''
fingerprint_sha256:
  description: SHA-256 fingerprint, colon-separated hex as openssl prints it.
  type: str
  returned: success
subject:
  description: Subject fields.
  type: dict
  returned: success
subject_string:
  description: Subject as C(/C=../CN=..).
  type: str
  returned: success
not_before:
  description: Start of validity (ISO 8601 UTC).
  type: str
  returned: success
not_after:
  description: End of validity (ISO 8601 UTC).
  type: str
  returned: success
expired:
  description: Whether the certificate has expired.
  type: bool
  returned: success
is_ca:
  description: Whether basicConstraints says CA:TRUE.
  type: bool
  returned: success
dns_names:
  description: DNS SANs.
  type: list
  elements: str
  returned: success
ip_addresses:
  description: IP SANs.
  type: list
  elements: str
  returned: success
key_type:
  description: Key type of the certificate's public key.
  type: str
  returned: success
serial:
  description: Serial number (hex).
  type: str
  returned: success
key_matches:
  description: Whether O(privatekey_path) belongs to the certificate.
  type: bool
  returned: when privatekey_path is given
signed_by_ca:
  description: Whether O(ca_path) signed the certificate.
  type: bool
  returned: when ca_path is given
ca:
  description: Metadata of O(ca_path), same fields as above.
  type: dict
  returned: when ca_path is given
problems:
  description: Mismatches found, in words.
  type: list
  elements: str
  returned: success
changed:
  description: Always V(false) (read-only).
  type: bool
  returned: always
differences:
  description: Always empty (read-only); the same result vocabulary as the other modules.
  type: list
  elements: dict
  returned: always
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._pki.modules import TlsCertInfo
from ansible_collections.berth.registry.plugins.module_utils._pki.options import tls_cert_info_argument_spec


def main():
    module = AnsibleModule(argument_spec=tls_cert_info_argument_spec(), supports_check_mode=True)
    run_module(module, lambda: TlsCertInfo(module).run())


if __name__ == '__main__':
    main()
