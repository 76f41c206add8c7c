# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad-input tables: many malformed inputs of one module in ONE ansible-playbook run.

Each case gets its own directory (prepared by the test), the playbook loops over the cases with
``ignore_errors`` and writes every registered result to ``results.json``; then each case is checked:
failed, the message says what it must, no traceback, and its directory is exactly as it was.
The playbook reads ``<workdir>/cases.json`` (a list of {name, args}) and writes ``<workdir>/results.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

from bed.playbook import run_playbook


def snapshot(root):
    """{relative path: what it is} for everything below root: links by target, files by mode and content hash."""
    result = {}
    for directory, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                result[rel] = ('link', os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                result[rel] = ('dir', stat.S_IMODE(st.st_mode))
            else:
                digest = hashlib.sha256()
                with open(path, 'rb') as f:
                    for block in iter(lambda: f.read(1 << 20), b''):
                        digest.update(block)
                result[rel] = ('file', stat.S_IMODE(st.st_mode), st.st_size, digest.hexdigest())
    return result


class Case(object):
    """One malformed input: module args (paths may use {dir} for the case directory), what the message
    must contain, and an optional ``setup(directory)`` that plants existing files."""

    def __init__(self, name, args, expect, setup=None):
        self.name = name
        self.args = args
        self.expect = expect
        self.setup = setup


def _expand(value, directory):
    if isinstance(value, str):
        return value.replace('{dir}', directory)
    if isinstance(value, dict):
        return dict((k, _expand(v, directory)) for k, v in value.items())
    if isinstance(value, list):
        return [_expand(v, directory) for v in value]
    return value


def run_table(playbook, workdir, cases, defaults=None):
    """Prepare every case, run the playbook once, return {name: (result, before snapshot, directory)}."""
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), 'case names must be unique'
    prepared = []
    for case in cases:
        directory = os.path.join(str(workdir), 'cases', case.name)
        os.makedirs(directory)
        if case.setup:
            case.setup(directory)
        args = _expand(dict(defaults or {}, **case.args), directory)
        prepared.append((case, directory, {'name': case.name, 'args': args}))
    befores = dict((case.name, snapshot(directory)) for case, directory, dummy in prepared)
    with open(os.path.join(str(workdir), 'cases.json'), 'w') as f:
        json.dump([item for dummy, dummy2, item in prepared], f)
    run = run_playbook(playbook, extra_vars={'workdir': str(workdir)})
    assert run.rc == 0, run
    assert 'Traceback' not in run.stdout + run.stderr, run
    with open(os.path.join(str(workdir), 'results.json')) as f:
        results = dict((r['item']['name'], r) for r in json.load(f))
    return dict((case.name, (results[case.name], befores[case.name], directory)) for case, directory, dummy in prepared)


def check_case(case, outcome):
    """The case failed with a message holding every expected piece ({dir}: the case directory), no traceback,
    and its directory is untouched."""
    result, before, directory = outcome
    msg = result.get('msg', '')
    problems = []
    if not result.get('failed'):
        problems.append('did not fail: %r' % dict((k, v) for k, v in result.items() if k != 'invocation'))
    for piece in case.expect:
        piece = piece.replace('{dir}', directory)
        if piece not in msg:
            problems.append('%r not in the message' % piece)
    for key in ('msg', 'module_stderr', 'module_stdout', 'exception'):
        if 'Traceback' in str(result.get(key, '')):
            problems.append('traceback in %s' % key)
    if result.get('exception', '(traceback unavailable)') != '(traceback unavailable)':
        problems.append('failed through an unexpected exception, not a BerthError')
    if snapshot(directory) != before:
        problems.append('the directory changed: %r -> %r' % (before, snapshot(directory)))
    return ['%s: %s (msg: %r)' % (case.name, p, msg) for p in problems]


def check_table(cases, outcomes):
    """Every case's problems in one assertion, so one run shows all that is wrong."""
    problems = []
    for case in cases:
        problems.extend(check_case(case, outcomes[case.name]))
    assert not problems, '\n'.join(problems)
