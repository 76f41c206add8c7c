"""Planted secrets and the check that none of them reaches what a user sees (issue 9).

Markers are long and unique on purpose: ``no_log`` masks every occurrence of a value, so a short
dummy such as ``test`` would hide unrelated output and could itself leak unnoticed.
"""

from __future__ import annotations

import base64
import re
import secrets


def marker(kind):
    """A realistic unique secret, e.g. ``Mk-3f9c1e-PASSWORD-7d2a``."""
    return 'Mk-%s-%s-%s' % (secrets.token_hex(3), kind.upper(), secrets.token_hex(2))


def basic_auth(username, password):
    """The ``auth`` value Docker's config.json stores for a login: base64 of ``user:password``."""
    return base64.b64encode(('%s:%s' % (username, password)).encode()).decode()


def pem_body_lines(pem):
    """The base64 lines of every PEM block in text (a key written to disk, read back as markers)."""
    return [line.strip() for line in pem.splitlines()
            if line.strip() and not line.startswith('-----') and re.match(r'^[A-Za-z0-9+/=]{16,}$', line.strip())]


def leaks(text, markers):
    """The markers that occur in text."""
    return [m for m in markers if m and m in text]


def assert_no_leak(result, markers, what=''):
    """No marker in a PlaybookResult's stdout or stderr."""
    found = leaks(result.stdout + result.stderr, markers)
    assert not found, 'secret(s) %s printed%s:\n%s' % (found, (' by ' + what) if what else '', result)
