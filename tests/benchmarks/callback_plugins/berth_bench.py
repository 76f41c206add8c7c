# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark-only callback: when each task started and when each host finished it, as JSON.

Enabled by tests/benchmarks/rollout.py through ANSIBLE_CALLBACK_PLUGINS + ANSIBLE_CALLBACKS_ENABLED;
writes to $BERTH_BENCH_EVENTS at the end of the run. Not part of the collection.
"""

from __future__ import annotations

DOCUMENTATION = r'''
name: berth_bench
type: aggregate
short_description: Per-task and per-host timestamps for berth.registry's rollout benchmark
description: Writes task start times and per-host results with their action to $BERTH_BENCH_EVENTS.
requirements: [enabled in callbacks_enabled]
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase

# Actions that run entirely in the controller process: no connection to the host.
CONTROLLER_ACTIONS = {
    'set_fact', 'validate_argument_spec', 'assert', 'debug', 'fail', 'meta', 'add_host', 'group_by',
    'include_tasks', 'import_tasks', 'include_role', 'import_role', 'include_vars', 'set_stats', 'pause',
}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'berth_bench'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loaded = time.time()
        self.tasks = []
        self.results = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.tasks.append({'name': task.get_name(), 'uuid': task._uuid, 'start': time.time()})

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _record(self, result, status):
        task = result.task if hasattr(result, 'task') else result._task
        host = result.host if hasattr(result, 'host') else result._host
        action = task.action.rsplit('.', 1)[-1]
        delegated = task.delegate_to is not None and str(task.delegate_to) in ('localhost', '127.0.0.1')
        self.results.append({
            'host': host.get_name(), 'task': task.get_name(), 'uuid': task._uuid, 'action': action,
            'status': status, 'end': time.time(),
            'remote': not (action in CONTROLLER_ACTIONS or delegated),
        })

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('BERTH_BENCH_EVENTS')
        if path:
            with open(path, 'w') as f:
                json.dump({'loaded': self.loaded, 'stats': time.time(), 'tasks': self.tasks,
                           'results': self.results}, f)
