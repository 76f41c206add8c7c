# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_lb: the module of the same name, with its missing Debian packages (haproxy, redis-server)
installed by ansible.builtin.apt when it reports them (plugin_utils/_packages.py)."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.berth.registry.plugins.plugin_utils._packages import run_with_packages


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        install = boolean(args.get('install_packages', True), strict=False)
        result.update(run_with_packages(self, 'berth.registry.registry_lb', args, task_vars, install=install))
        return result
