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
    C(basicConstraints=critical,CA:TRUE,pathlen:0),
    C(keyUsage=critical,nonRepudiation,cRLSign,keyCertSign) and C(subjectKeyIdentifier=hash).
  - The path length is 0 because this CA signs leaf (server) certificates only. The how-to, and this module
    before, used C(pathlen:1); the path length is not compared, so an existing CA with C(pathlen:1) is kept
    as it is and not reported as differing.
  - A missing CA is created. An existing valid CA is never replaced unless O(regenerate) says so,
    because a new CA breaks the trust of every client.
  - An existing key that cannot be read for a reason you can fix (encrypted and no or a wrong
    O(privatekey_passphrase), permission denied, a directory in its place, a file too large) is an error
    naming the file, whatever O(regenerate) says; nothing is replaced. Only a file whose bytes are no key or
    certificate at all (truncated, garbage) counts as a difference that O(regenerate) may replace.
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
      - The diff shows the differing fields (subject, key type, not_after, file attributes), metadata only.
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
      - What to do when an existing CA differs from the request (subject, key type), is expired, is not a
        CA certificate, holds damaged bytes, or its key is missing, damaged or does not match the certificate.
      - V(fail) reports the differences as an error and writes nothing.
      - V(keep) keeps the existing CA and warns.
      - V(on_change) replaces the CA (new key and certificate) when it differs.
      - V(always) replaces the CA on every run.
      - A key that needs the right passphrase is never replaced, in any mode (see above).
    type: str
    choices: [fail, keep, on_change, always]
    default: fail
  backup:
    description:
      - Keep a timestamped copy of the CA key and certificate next to them before they are replaced
        (returned as RV(backup_privatekey) and RV(backup_file)).
    type: bool
    default: true
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
serial:
  description: Serial number in upper-case hex; V(null) in check mode when the CA would be created or replaced.
  returned: always
  type: str
differences:
  description:
    - What differed and was (or in check mode would be) changed, one item per field (certificate, privatekey,
      subject, key_type, not_after, basic_constraints, regenerate, and file attributes such as C(certificate mode)).
    - Empty when nothing changed, also with O(regenerate=keep) (the kept differences are in the warning).
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
      description: The wanted value (V(null) when it goes away).
      type: raw
  sample: [{"field": "subject", "before": "/CN=Old CA", "after": "/CN=New CA"}]
backup_file:
  description: The copy of the replaced CA certificate.
  returned: when a CA certificate was replaced with O(backup=true)
  type: str
backup_privatekey:
  description: The copy of the replaced CA key.
  returned: when a CA key was replaced with O(backup=true)
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._pki.modules import TlsCa
from ansible_collections.berth.registry.plugins.module_utils._pki.options import tls_ca_argument_spec


def main():
    module = AnsibleModule(argument_spec=tls_ca_argument_spec(), supports_check_mode=True)
    run_module(module, lambda: TlsCa(module).run())


if __name__ == '__main__':
    main()
