# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""JSON object files (daemon.json, the client config.json): read strictly, write stably.

Strict means what dockerd and the Docker CLI (Go's encoding/json) accept: standard JSON only
(no NaN/Infinity), an object at the top, and a size and nesting depth no configuration file has.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import json

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import read_file

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64


def _refuse_constant(name):
    raise ValueError('%s is not standard JSON (dockerd and the Docker CLI refuse it)' % name)


def _depth(value):
    deepest, todo = 0, [(value, 1)]
    while todo:
        value, level = todo.pop()
        deepest = max(deepest, level)
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        todo.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def parse_json_object(data, path, error=BerthError):
    """Bytes of a JSON object file -> dict (key order kept); a missing or blank file is {}.

    Anything else raises ``error`` naming the path and what is wrong, so the caller can refuse to
    touch a file it cannot read back.
    """
    if data is None or not data.strip():
        return {}
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise error('%s is not UTF-8 text (byte %d); the file was left untouched' % (path, exc.start))
    too_deep = False
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        value, too_deep = None, True
    except ValueError as exc:
        raise error('%s is not valid JSON: %s' % (path, exc))
    if too_deep or _depth(value) > MAX_DEPTH:
        raise error('%s is nested deeper than %d levels, which no configuration file is' % (path, MAX_DEPTH))
    if not isinstance(value, dict):
        raise error('%s does not hold a JSON object but a %s' % (path, type(value).__name__))
    return value


def read_json_object(path, option, error=BerthError):
    """(dict, existed) of a JSON object file; a directory, a huge or unreadable file is an ``error`` too."""
    data = read_file(path, option, MAX_BYTES)
    return parse_json_object(data, path, error), data is not None


def check_json_value(value, option, error=BerthError):
    """A value that serializes as standard JSON (no NaN/Infinity, not absurdly deep), or ``error`` naming option."""
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        raise error('%s: %r holds NaN or Infinity, which is not JSON' % (option, value))
    except (TypeError, RecursionError) as exc:
        raise error('%s: cannot be written as JSON: %s' % (option, exc))
    if _depth(value) > MAX_DEPTH:
        raise error('%s is nested deeper than %d levels' % (option, MAX_DEPTH))
    return value
