# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module that reports the Debian packages its host lacks (``missing_packages``), install them with
ansible.builtin.apt and run it again. On a converged host that never happens: one round trip.

In check mode nothing is installed: the packages join the module's differences (``package <name>:
absent -> present``) and the task reports changed. Private to the collection: free to refactor.
"""

from __future__ import annotations

APT_ARGS = dict(state='present', update_cache=True, cache_valid_time=3600)


def with_packages(result, packages, diff_mode):
    """result with ``package <name>: absent -> present`` first in its differences (and diff), changed."""
    result = dict(result)
    entries = [{'field': 'package %s' % name, 'before': 'absent', 'after': 'present'} for name in packages]
    result['differences'] = entries + list(result.get('differences') or [])
    result['changed'] = True
    if diff_mode:
        item = {'before': dict((e['field'], 'absent') for e in entries),
                'after': dict((e['field'], 'present') for e in entries)}
        current = result.get('diff')
        result['diff'] = [item] + (current if isinstance(current, list) else [current] if current else [])
    return result


def run_with_packages(action, module_name, module_args, task_vars, install=True):
    """The module's result, after installing what it reported missing (see the module docstring)."""
    check_mode = bool(action._play_context.check_mode)
    diff_mode = bool(action._play_context.diff)
    result = action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
    missing = list(result.get('missing_packages') or [])
    if not missing:
        return result
    if check_mode:
        return with_packages(result, missing, diff_mode)
    if not result.get('failed') or not install:
        return result
    apt = action._execute_module(module_name='ansible.builtin.apt', module_args=dict(APT_ARGS, name=missing),
                                 task_vars=task_vars)
    if apt.get('failed'):
        return {'failed': True, 'changed': bool(apt.get('changed')), 'missing_packages': missing,
                'msg': 'installing %s with apt failed: %s' % (', '.join(missing), apt.get('msg', apt))}
    result = action._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
    result = with_packages(result, missing, diff_mode)
    result['packages_installed'] = missing
    return result
