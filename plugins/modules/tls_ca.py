#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: tls_ca
short_description: Own root CA (private key + self-signed certificate) for the registry
description:
  - Creates a CA private key and a self-signed root certificate with the extensions
    C(basicConstraints=critical,CA:TRUE,pathlen:1),
    C(keyUsage=critical,nonRepudiation,cRLSign,keyCertSign) and C(subjectKeyIdentifier=hash).
  - A missing CA is created. An existing valid CA is never replaced unless O(regenerate) says so,
    because a new CA breaks the trust of every client.
  - Only metadata (subject, key type, not_after, fingerprint, file modes) appears in diffs and
    return values; key bytes never do.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._tls_key
  - berth.registry._tls_subject
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows subject, key type, not_after, fingerprint and file metadata only.
  idempotent:
    support: partial
    details:
      - Idempotent except with O(regenerate=always), which replaces the CA on every run.
options:
  path:
    description:
      - Path of the CA certificate (PEM).
    type: path
    required: true
  validity_days:
    description:
      - Days the new CA certificate is valid. Changing it does not replace an existing CA.
    type: int
    default: 3650
  regenerate:
    description:
      - What to do when an existing CA differs from the request (subject, key type), is expired,
        unreadable, or its key is missing or does not match the certificate.
      - V(fail) reports the differences as an error and writes nothing.
      - V(keep) keeps the existing CA and warns.
      - V(on_change) replaces the CA (new key and certificate) when it differs.
      - V(always) replaces the CA on every run.
    type: str
    choices: [fail, keep, on_change, always]
    default: fail
'''

EXAMPLES = r'''
- name: Root CA of the registry
  berth.registry.tls_ca:
    path: /etc/docker/registry/ssl/root-ca.crt
    privatekey_path: /etc/docker/registry/ssl/root-ca.key
    subject:
      C: CN
      ST: Sichuan
      L: Chengdu
      O: GTDQ
      CN: docker.gt.com CA

- name: RSA CA with an encrypted key
  berth.registry.tls_ca:
    path: /srv/pki/ca.crt
    privatekey_path: /srv/pki/ca.key
    privatekey_passphrase: "{{ vault_ca_passphrase }}"
    key_type: rsa-4096
    subject:
      CN: Example registry CA
'''

RETURN = r'''
path:
  description: Path of the CA certificate.
  returned: always
  type: str
privatekey_path:
  description: Path of the CA private key.
  returned: always
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate, colon-separated upper-case hex (as openssl prints it).
    V(null) in check mode when the CA would be created or replaced.
  returned: always
  type: str
  sample: "4F:1A:...:9C"
not_before:
  description: Start of validity, ISO 8601 UTC. V(null) when the certificate does not exist yet (check mode).
  returned: always
  type: str
  sample: "2025-01-01T00:00:00Z"
not_after:
  description: End of validity, ISO 8601 UTC. V(null) when the certificate does not exist yet (check mode).
  returned: always
  type: str
subject:
  description: Subject of the CA certificate as a dict (C, ST, L, O, OU, CN).
  returned: always
  type: dict
subject_string:
  description: Subject in the openssl C(-subj) form.
  returned: always
  type: str
  sample: "/C=CN/ST=Sichuan/L=Chengdu/O=GTDQ/CN=docker.gt.com CA"
key_type:
  description: Key type of the CA.
  returned: always
  type: str
  sample: ecdsa-p256
differences:
  description: How the existing CA differed from the request (empty when it did not).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._crypto_deps import require_cryptography
from ansible_collections.berth.registry.plugins.module_utils._pki import (
    run_tls_ca, subject_argument_spec, tls_key_argument_spec)


def main():
    argument_spec = tls_key_argument_spec()
    argument_spec.update(
        path=dict(type='path', required=True),
        subject=subject_argument_spec(),
        validity_days=dict(type='int', default=3650),
        regenerate=dict(type='str', default='fail', choices=['fail', 'keep', 'on_change', 'always']),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_cryptography()
    run_tls_ca(module)


if __name__ == '__main__':
    main()
