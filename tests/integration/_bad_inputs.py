"""Table-driven bad-input tests: every case in a directory of its own, one playbook run for all.

A case is ``Case(name, args, expect, files, forbid)``: ``files`` maps paths (relative to the
case directory) to bytes, ``DIR`` or ``Link(target)``; ``args`` are the module options the
playbook passes; ``expect`` are strings the failure message must contain (the option, the value,
what is allowed); ``forbid`` are strings that must appear nowhere in the result (userinfo, key
bytes). Each case must fail with a message of the module's own (no ``Traceback``, no crash) and
leave its directory exactly as it was (names, modes, bytes, link targets).
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field

DIR = object()


@dataclass
class Link:
    target: str


@dataclass
class Case:
    name: str
    args: dict
    expect: list
    files: dict = field(default_factory=dict)
    forbid: list = field(default_factory=list)


def build(root, cases):
    """Create <root>/cases/<name>/ with each case's files; returns {name: directory}."""
    dirs = {}
    for case in cases:
        base = os.path.join(root, 'cases', case.name)
        os.makedirs(base)
        for rel, content in case.files.items():
            path = os.path.join(base, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if content is DIR:
                os.makedirs(path, exist_ok=True)
            elif isinstance(content, Link):
                os.symlink(content.target, path)
            else:
                with open(path, 'wb') as f:
                    f.write(content)
        dirs[case.name] = base
    return dirs


def snapshot(root):
    """{relative path: (kind, mode, bytes or link target)} of everything below root."""
    out = {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(base, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ('link', None, os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ('dir', stat.S_IMODE(st.st_mode), None)
            else:
                with open(path, 'rb') as f:
                    out[rel] = ('file', stat.S_IMODE(st.st_mode), f.read())
    return out


def problems(cases, results, dirs, before):
    """Every way a case's result falls short, as readable lines (empty when all is well)."""
    by_name = {r['item']['name']: r for r in results}
    found = []
    for case in cases:
        result = by_name.get(case.name)
        if result is None:
            found.append('%s: no result' % case.name)
            continue
        shown = dict((k, v) for k, v in result.items() if k != 'item')  # `item` is Ansible's echo of the loop
        msg = str(result.get('msg', ''))
        text = json.dumps(shown)
        if not result.get('failed'):
            found.append('%s: did not fail: %s' % (case.name, text[:600]))
            continue
        # ansible-core 2.19 sets `exception: (traceback unavailable)` on every failure; a crash shows as
        # a Traceback, 'Module failed' (the controller's wrapper) or run_module's 'failed unexpectedly'
        if 'Traceback' in text or 'Module failed' in msg or 'failed unexpectedly' in msg or 'module_stderr' in result:
            found.append('%s: a traceback instead of a message: %s' % (case.name, msg[:300]))
        missing = [e for e in case.expect if e not in msg]
        if missing:
            found.append('%s: message lacks %r: %s' % (case.name, missing, msg[:400]))
        leaked = [f for f in case.forbid if f in text]
        if leaked:
            found.append('%s: result shows %r' % (case.name, leaked))
        if snapshot(dirs[case.name]) != before[case.name]:
            found.append('%s: its directory changed' % case.name)
    return found
