# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._plans import run_plan


class FakeModule(object):
    _diff = True

    def __init__(self):
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


class FakePlan(object):
    def __init__(self, fail=False):
        self.fail = fail
        self.warnings = ['heads up']
        self.calls = []

    def plan(self):
        self.calls.append('plan')
        if self.fail:
            raise BerthError('bad input')

    def apply(self):
        self.calls.append('apply')

    def result(self, diff_mode):
        return {'changed': False, 'diff_mode': diff_mode}


def test_run_plan_plans_applies_warns_and_returns_the_result():
    module, plan = FakeModule(), FakePlan()
    assert run_plan(module, plan) == {'changed': False, 'diff_mode': True}
    assert plan.calls == ['plan', 'apply'] and module.warnings == ['heads up']


def test_warnings_are_shown_when_the_plan_fails():
    module, plan = FakeModule(), FakePlan(fail=True)
    with pytest.raises(BerthError):
        run_plan(module, plan)
    assert plan.calls == ['plan'] and module.warnings == ['heads up']
