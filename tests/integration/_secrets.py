# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Planted secrets and the check that none of them reaches what a user sees (issue 9).

Markers are long and unique on purpose: ``no_log`` masks every occurrence of a value, so a short
dummy such as ``test`` would hide unrelated output and could itself leak unnoticed.
"""

from __future__ import annotations

import base64
import re
import secrets as _random


def marker(kind):
    """A unique secret such as ``Mk-3f9c1e-PASSWORD-7d2a``; ``kind`` says what it stands for."""
    return 'Mk-%s-%s-%s' % (_random.token_hex(3), re.sub('[^A-Z0-9]', '', kind.upper()), _random.token_hex(2))


def basic_auth(username, password):
    """The ``auth`` value Docker's config.json stores for a login: base64 of ``user:password``."""
    return base64.b64encode(('%s:%s' % (username, password)).encode()).decode()


def pem_body_lines(data):
    """The base64 lines of every PEM block in data (bytes or str): what a leaked key would show."""
    text = data.decode('ascii', 'replace') if isinstance(data, bytes) else data
    return [line.strip() for line in text.splitlines()
            if not line.startswith('-----') and re.match(r'^[A-Za-z0-9+/=]{16,}$', line.strip())]


def file_secrets(path, kind='key bytes'):
    """{label: secret} for the PEM body lines of a file (keys written by a module, read back)."""
    with open(path, 'rb') as f:
        return dict(('%s %s line %d' % (kind, path, i), line) for i, line in enumerate(pem_body_lines(f.read()), 1))


def _labelled(secrets):
    return secrets if isinstance(secrets, dict) else dict((value, value) for value in secrets)


def leaks(outputs, secrets):
    """The labels of every secret (a {label: value} dict, or a list of values) found in the outputs."""
    text = outputs if isinstance(outputs, str) else '\n'.join(outputs)
    return sorted(label for label, value in _labelled(secrets).items() if value and value in text)


def assert_no_leaks(runs, secrets, what=''):
    """No secret in the stdout/stderr of a run or of a list of runs (PlaybookResult-like objects)."""
    runs = runs if isinstance(runs, (list, tuple)) else [runs]
    found = leaks([r.stdout for r in runs] + [r.stderr for r in runs], secrets)
    assert not found, 'secret(s) %s printed%s:\n%s' % (found, (' by ' + what) if what else '', runs[-1])
