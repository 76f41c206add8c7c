#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_ca_rollover
short_description: One step of a registry CA rollover without an outage, on the controller's PKI directory
description:
  - Replaces the CA that signs the registry's certificate in phases, so that no client ever distrusts what the
    registry serves - C(trust) (a next CA is made; clients trust the old and the new CA), C(switch) (the new CA
    signs; the server side re-issues the registry's certificate, one recreate), C(retire) (clients trust the new CA
    only; when every client confirmed, the old CA is archived and its key deleted; phase C(done)).
  - The phase and what each client was last given to trust are kept in C(<pki_dir>/rollover.json); what clients
    are to trust during a rollover is written to C(<pki_dir>/ca-trust.crt), which the client and doctor roles read
    instead of C(ca.crt) while it exists. C(playbooks/ca_rollover.yml) runs the steps in order around the client
    and server roles.
  - Moving on is gated - O(step=switch) refuses while a client of O(clients) has not confirmed that it trusts the
    new CA (naming them); the rollover reaches C(done) only when every client trusts the new CA alone. Every step
    can be rerun and resumes a step cut short (files are checked against the fingerprints in the state).
  - An action plugin - runs on the controller only, no remote call; every step holds the PKI directory's lock.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._tls_subject
attributes:
  check_mode:
    support: partial
    details:
      - Nothing is written. A next CA that does not exist yet is stood in for by a preview certificate made in memory,
        so that clients given RV(trust_pem) report the change; its fingerprint is not the one a real run makes.
      - O(step=switch) reports the promotion and the re-issue of the server certificate; the server side run in
        check mode after it still sees the old CA and does not predict the recreate.
  diff_mode:
    support: full
    details: Fingerprints and phases only.
  idempotent:
    support: full
options:
  pki_dir:
    description: The controller's PKI directory (C(registry_pki_dir)) with C(ca.crt) and C(ca.key) made by the server role.
    type: path
    required: true
  step:
    description:
      - V(status) reads only. V(begin) starts or continues the rollover up to O(phase) as far as the controller goes
        (makes the next CA for V(trust), aborts for V(abort)) and writes C(ca-trust.crt) for the phase.
      - V(record) records which clients applied the trust list (from O(confirmed_var)) and, in phase C(retire),
        finishes the rollover once all of O(clients) trust the new CA only.
      - V(switch) promotes the next CA to C(ca.crt) once all of O(clients) trust it.
      - V(retire) moves from C(switch) to C(retire) after checking that the registry's certificate is signed by the
        new CA (O(server_cert_path), O(served)).
    type: str
    choices: [status, begin, record, switch, retire]
    default: status
  phase:
    description:
      - The phase asked for, for O(step=begin). Phases are reached forwards only; asking for one already passed fails.
        V(abort) ends a rollover still in phase C(trust) (the next CA is deleted, clients go back to the old CA alone).
    type: str
    choices: [status, trust, switch, retire, abort]
    default: status
  key_type:
    description: Key type of the next CA (the server role's C(registry_ca_key_type)).
    type: str
    choices: [ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096]
    default: ecdsa-p256
  validity_days:
    description: Validity of the next CA in days (C(registry_ca_validity_days)).
    type: int
    default: 3650
  regenerate:
    description:
      - What a next CA that differs from the request (O(subject), O(key_type)) does during phase C(trust), as for
        M(berth.registry.tls_ca) - V(fail), V(keep), or replace it (V(on_change), V(always)), after which every client
        has to confirm the replacement before the switch.
    type: str
    choices: [fail, keep, on_change, always]
    default: fail
  passphrase:
    description:
      - Passphrase of the CA key (the server role's C(registry_ca_passphrase)). The next CA's key is written encrypted
        with it, so the CA that signs after the switch is protected as the one before. Never shown.
    type: str
  clients:
    description: Every client host of the fleet. Defaults to group C(registry_clients).
    type: list
    elements: str
  confirmed_var:
    description:
      - The host variable each client sets, after it applied a trust list, to the fingerprints it was given
        (RV(trust_fingerprints)). Only lists equal to the phase's own are recorded.
    type: str
    default: registry_ca_rollover_trusted
  server_cert_path:
    description: The registry's certificate on the controller; O(step=retire) checks that the new CA signed it.
    type: path
  served:
    description:
      - Where to read the certificate the registry serves; O(step=retire) checks that the new CA signed it.
        Nothing is verified in the handshake itself. Not read in check mode.
    type: dict
    suboptions:
      address:
        description: Address (or name) to connect to.
        type: str
        required: true
      port:
        description: Port.
        type: int
        required: true
      server_name:
        description: Name sent as SNI (the registry's host name).
        type: str
      timeout:
        description: Seconds to wait for the connection.
        type: int
        default: 10
seealso:
  - module: berth.registry.tls_ca
  - module: berth.registry.registry_client
'''

EXAMPLES = r'''
- name: Start a rollover - make the next CA
  berth.registry.registry_ca_rollover:
    pki_dir: "{{ registry_pki_dir }}"
    step: begin
    phase: trust
    subject: "{{ registry_ca_subject }}"
  run_once: true
  register: plan

- name: Where is the fleet?
  berth.registry.registry_ca_rollover:
    pki_dir: "{{ registry_pki_dir }}"
  run_once: true
  register: rollover

- name: Show it
  ansible.builtin.debug:
    msg: "{{ rollover.summary }}"
  run_once: true
'''

RETURN = r'''
phase:
  description: The rollover's phase after the step - none, trust, switch, retire or done.
  type: str
  returned: always
under_way:
  description: Whether a rollover is in phase trust, switch or retire.
  type: bool
  returned: always
trust_fingerprints:
  description: SHA-256 fingerprints of the CAs clients are to trust now, in file order.
  type: list
  elements: str
  returned: always
trust_pem:
  description: The same CA certificates as one PEM bundle (public certificates only).
  type: str
  returned: always
trust_file:
  description: C(<pki_dir>/ca-trust.crt) while a rollover is under way, else null.
  type: str
  returned: always
old:
  description: The CA being retired - fingerprint, subject, not_after (null without a rollover).
  type: dict
  returned: always
new:
  description: The CA being introduced - fingerprint, subject, not_after (null without a rollover).
  type: dict
  returned: always
clients:
  description: Per client, the fingerprints it was last given to trust during this rollover and when.
  type: dict
  returned: always
waiting:
  description: The clients not confirmed yet for the phase (trust - the new CA; retire - the new CA only).
  type: list
  elements: str
  returned: always
summary:
  description: Lines for the run's summary - the phase, what signs the registry's certificate, who trusts what, what next.
  type: list
  elements: str
  returned: always
preview:
  description: True in check mode when a preview certificate stands in for a next CA that does not exist yet.
  type: bool
  returned: always
state_path:
  description: The state file.
  type: str
  returned: always
differences:
  description: What the step changed (or would change) - field, before, after.
  type: list
  elements: dict
  returned: always
'''
