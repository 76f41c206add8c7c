"""Planted marker secrets, and the check that none of them appears in what a run printed.

A marker looks like a real secret (``Mk-3f9c1e-PASSWORD-7d2a``): long and unique, so Ansible's
``no_log`` masking (which replaces every occurrence of a value) neither hides unrelated output nor
lets a short dummy slip through by coincidence.
"""

from __future__ import annotations

import uuid


def marker(kind):
    """A fresh realistic secret naming its kind, e.g. ``Mk-3f9c1e-PASSWORD-7d2a``."""
    return 'Mk-%s-%s-%s' % (uuid.uuid4().hex[:6], kind.upper(), uuid.uuid4().hex[:4])


def leaked(markers, *texts):
    """The markers that occur in any of the texts (str or bytes), sorted."""
    found = set()
    for text in texts:
        if isinstance(text, bytes):
            text = text.decode('utf-8', 'replace')
        found.update(m for m in markers if m in (text or ''))
    return sorted(found)


def assert_no_leak(markers, result, what='the run'):
    """Fail naming the markers found in a playbook result's stdout/stderr (and where)."""
    found = leaked(markers, result.stdout, result.stderr)
    if found:
        lines = [line for line in (result.stdout + result.stderr).splitlines() if any(m in line for m in found)]
        raise AssertionError('%s printed planted secrets %s:\n%s' % (what, found, '\n'.join(lines[:20])))
