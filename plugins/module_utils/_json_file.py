# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""JSON object files (daemon.json, the client config.json): read strictly, write stably.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import json


def parse_json_object(data, path, error=ValueError):
    """Bytes of a JSON object file -> dict (key order kept); a missing or blank file is {}.

    Anything else raises ``error`` naming the path and the parser's message, so the caller
    can refuse to touch a file it cannot read back.
    """
    if data is None or not data.strip():
        return {}
    try:
        value = json.loads(data.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as e:
        raise error('%s is not valid JSON: %s' % (path, e))
    if not isinstance(value, dict):
        raise error('%s does not hold a JSON object but a %s' % (path, type(value).__name__))
    return value
