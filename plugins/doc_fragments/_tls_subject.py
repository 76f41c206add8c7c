# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # The subject option shared by tls_ca and tls_cert
    # (argument spec: module_utils/_pki/names.py subject_argument_spec()).
    DOCUMENTATION = r'''
options:
  subject:
    description:
      - Subject of the certificate. Empty fields are left out. Every field is one line of printable text
        (no newline, NUL or other control character), at most 64 characters (C(ST), C(L) 128; C(C) two letters).
      - M(berth.registry.tls_ca) needs O(subject.CN); M(berth.registry.tls_cert) defaults it to the first DNS name
        (or IP address), and leaves it out when that name is longer than 64 characters.
    type: dict
    suboptions:
      C:
        description: Country, two letters.
        type: str
      ST:
        description: State or province.
        type: str
      L:
        description: Locality.
        type: str
      O:
        description: Organization.
        type: str
      OU:
        description: Organizational unit.
        type: str
      CN:
        description: Common name.
        type: str
'''
