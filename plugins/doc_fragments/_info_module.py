# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Attributes of the read-only modules (registry_doctor, registry_info): they change nothing, in any mode.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: N/A
    details: The module changes nothing, so there is never a difference to show.
  idempotent:
    support: full
'''
