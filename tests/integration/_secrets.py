# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Planted secrets and the search for them in what a run printed.

Markers are realistic (long, unique, mixed) on purpose: ``no_log`` masks every occurrence of a
secret value in the output, so a short dummy such as ``test`` would mask unrelated words and could
itself leak unnoticed.
"""

from __future__ import annotations

import os
import re


def marker(kind):
    """A unique secret such as ``Mk-3f9c1e-PASSWORD-7d2a``; ``kind`` says what it stands for."""
    return 'Mk-%s-%s-%s' % (os.urandom(3).hex(), re.sub('[^A-Z0-9]', '', kind.upper()), os.urandom(2).hex())


def pem_body_lines(data):
    """The base64 lines of every PEM block in data (bytes or str): what a leaked key would show."""
    text = data.decode('ascii', 'replace') if isinstance(data, bytes) else data
    return [line.strip() for line in text.splitlines()
            if len(line.strip()) >= 16 and not line.startswith('-----') and ':' not in line]


def file_secrets(path, kind='key bytes'):
    """{label: secret} for the PEM body lines of a file (keys written by a module, read back)."""
    with open(path, 'rb') as f:
        return dict(('%s %s line %d' % (kind, path, i), line) for i, line in enumerate(pem_body_lines(f.read()), 1))


def leaks(outputs, secrets):
    """The labels of every secret that appears in any of the outputs (strings)."""
    text = '\n'.join(outputs)
    return sorted(label for label, value in secrets.items() if value and value in text)


def assert_no_leaks(runs, secrets):
    """No secret value in the stdout/stderr of any run (PlaybookResult-like objects)."""
    found = leaks([r.stdout for r in runs] + [r.stderr for r in runs], secrets)
    assert not found, 'secrets in the output: %s' % ', '.join(found)
