#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_report
short_description: Write the fleet report (JSON + one self-contained HTML page) on the controller
description:
  - Collects, for every node of the fleet, what the play registered - the results of M(berth.registry.registry_doctor),
    of M(berth.registry.registry_client) and, for the registry host, of M(berth.registry.registry_info) (or the
    server's result) - and writes C(report.json) (schema C(docs/report.schema.json)) and C(report.html) under O(dest).
  - Per node - status, the doctor's verdict, runtimes found, the CA files each trusts (fingerprint, current CA or
    not), daemon.json's registry keys, the login and whether it still works, the last check. Problems first.
  - The registry - served certificate, container state, repositories and tags, storage size, user names.
  - Days left of the CA, the server certificate and client certificates (files on the controller), and a failure
    naming each certificate with fewer than O(expiry_fail_days) days left - after the report is written.
  - An action plugin - runs on the controller only, no remote call. Run it once (C(run_once)).
  - The report is an output of the run, like its log, not managed state - RV(changed) is always false. It is
    written in check mode too, marked there (C(check_mode) in the JSON, a banner on the page).
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
attributes:
  check_mode:
    support: full
    details: Writes the report in check mode too, marked as written by a check-mode run; nothing on any node changes.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Nothing on the nodes changes. The report files are rewritten on every run (their timestamp changes).
options:
  dest:
    description: Controller directory for C(report.json) and C(report.html) (created 0755 when missing).
    type: path
    required: true
  nodes:
    description: Inventory names of the nodes. Defaults to group C(registry_clients), else the play's hosts.
    type: list
    elements: str
  registry_host:
    description: Inventory name of the registry host. Defaults to the first host of group C(registry).
    type: str
  endpoint:
    description: The registry as clients type it (shown, and the server certificate's name in the expiry table).
    type: str
  url:
    description: The registry's URL (shown).
    type: str
  address:
    description: The registry's address (shown).
    type: str
  tls:
    description: Whether the registry serves HTTPS; without it no certificate is listed.
    type: bool
    default: true
  ca_path:
    description: The current CA on the controller; its fingerprints mark what each node should trust.
    type: path
  cert_path:
    description: The server certificate on the controller.
    type: path
  client_cert_paths:
    description: Client certificates on the controller (paths or glob patterns); a pattern that matches nothing adds nothing.
    type: list
    elements: path
    default: []
  expiry_warn_days:
    description: Mark certificates with fewer days left than this.
    type: int
    default: 30
  expiry_fail_days:
    description: Fail (after writing the report) when any certificate has fewer days left than this, naming each.
      Omit to never fail on expiry.
    type: int
  doctor_var:
    description: The variable each node registered the doctor's result in.
    type: str
    default: registry_doctor_result
  client_var:
    description: The variable each node registered M(berth.registry.registry_client)'s result in.
    type: str
    default: registry_client_result
  info_var:
    description: The variable the registry host registered M(berth.registry.registry_info)'s result in.
    type: str
    default: registry_info_result
  server_var:
    description: The variable the registry host registered the server's result in (used when there is no info result).
    type: str
    default: registry_server_result
  title:
    description: The page's title.
    type: str
    default: Registry fleet report
seealso:
  - module: berth.registry.registry_doctor
  - module: berth.registry.registry_info
'''

EXAMPLES = r'''
- name: Write the fleet report and fail when a certificate has less than 14 days left
  berth.registry.registry_report:
    dest: "{{ registry_pki_dir }}/report"
    ca_path: "{{ registry_pki_dir }}/ca.crt"
    cert_path: "{{ registry_pki_dir }}/{{ registry_hostname }}.crt"
    expiry_fail_days: 14
  run_once: true
'''

RETURN = r'''
changed:
  description: Always false.
  type: bool
  returned: always
json_path:
  description: The JSON report.
  type: str
  returned: always
html_path:
  description: The HTML page.
  type: str
  returned: always
summary:
  description: Node counts - fail, warn, unknown, ok, total.
  type: dict
  returned: always
lines:
  description: One line per node (problems first), then one per certificate with its days left.
  type: list
  elements: str
  returned: always
expiry:
  description: The certificates with kind, name, path, subject, not_after, days_left, fingerprint_sha256, status.
  type: list
  elements: dict
  returned: always
check_mode:
  description: Whether a check-mode run wrote the report.
  type: bool
  returned: always
'''
