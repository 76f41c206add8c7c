# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a runtime's own tool answers when asked for a manifest that is not there, and what it means. Pure.

The containerd and containers checks ask ``ctr``, ``skopeo`` or ``podman`` for CHECK_REFERENCE,
anonymously. Found, not found and unauthorized all prove that the tool reached the registry over a
connection it trusts; anything else (x509, connection refused, HTTP vs HTTPS) is a failure, shown
with the tool's own message.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import re

# What the checks ask the registry for: a manifest that is not there. The registry's answer
# (not found, or unauthorized) proves that the runtime reached it over a trusted connection.
CHECK_REFERENCE = 'berth/registry-client-check:absent'
_REACHED = ('not found', 'manifest unknown', 'name unknown', 'unauthorized', 'authentication required',
            'access to the resource is denied')


def tool_message(out, err, prefix=None):
    """The last meaningful line a tool printed (``ctr: ...``, ``Error: ...``, logrus ``msg="..."``)."""
    lines = [line.strip() for line in (err or '').splitlines() + (out or '').splitlines() if line.strip()]
    if prefix:
        own = [line[len(prefix):].strip() for line in lines if line.startswith(prefix)]
        if own:
            return own[-1]
    for line in reversed(lines):
        if 'msg="' in line:
            message = line.split('msg="', 1)[1].rsplit('"', 1)[0].replace('\\"', '"')
            return re.sub(r'^Error parsing image name "[^"]*": ', '', message)  # skopeo's wrapper of any error
        if line.startswith('Error: '):
            return line[len('Error: '):]
    return lines[-1] if lines else '(no output)'


def classify_probe(rc, message):
    """Whether a tool's answer (exit code, message) to CHECK_REFERENCE proves a trusted connection: found, not
    found and unauthorized do; anything else (x509, connection refused, HTTP vs HTTPS, a time-out) does not."""
    if rc == 0:
        return True
    lowered = message.lower()
    return rc is not None and any(word in lowered for word in _REACHED)
