# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan protocol shared by module drivers: ``plan()`` reads and decides (one Differences tracker),
``apply()`` acts (nothing in check mode), ``warnings`` is a list of strings, ``result(diff_mode)`` the
module result. ``run_plan`` drives one plan for a module; an action plugin drives the same object itself.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations


def run_plan(module, plan):
    """plan(), apply(), the plan's warnings as module warnings (also when it failed), then its result."""
    try:
        plan.plan()
        plan.apply()
    finally:
        for warning in plan.warnings:
            module.warn(warning)
    return plan.result(module._diff)
