# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``registry garbage-collect`` and ``registry --version`` print, parsed. Pure.

garbage-collect (Distribution 2.8 and 3.0) prints, besides its log lines:
  ``<repo>: marking manifest sha256:...`` / ``<repo>: marking blob sha256:...``
  ``manifest eligible for deletion: sha256:...`` (with --delete-untagged)
  ``N blobs marked, M blobs and K manifests eligible for deletion``
  ``blob eligible for deletion: sha256:...``
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import re

_SUMMARY = re.compile(r'(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion')
_BLOB = re.compile(r'^blob eligible for deletion: (sha256:[0-9a-f]{64})\s*$')
_MANIFEST = re.compile(r'manifest eligible for deletion: (?:\S+@)?(sha256:[0-9a-f]{64})')
_VERSION = re.compile(r'\bv?(\d+)\.(\d+)\.(\d+)')


class GcOutputError(ValueError):
    """The output has no summary line: garbage-collect did not get to the end."""


def parse_gc_output(text):
    """{blobs_marked, blobs_eligible, manifests_eligible, blobs: [digests], manifests: [digests]}."""
    summary = _SUMMARY.search(text or '')
    if summary is None:
        raise GcOutputError('garbage-collect printed no summary line ("N blobs marked, ...")')
    blobs, manifests = [], []
    for line in (text or '').splitlines():
        match = _BLOB.match(line.strip())
        if match and match.group(1) not in blobs:
            blobs.append(match.group(1))
        match = _MANIFEST.search(line)
        if match and match.group(1) not in manifests:
            manifests.append(match.group(1))
    return {'blobs_marked': int(summary.group(1)), 'blobs_eligible': int(summary.group(2)),
            'manifests_eligible': int(summary.group(3)), 'blobs': blobs, 'manifests': manifests}


def parse_version(text):
    """(major, minor, patch) of ``registry --version`` (``github.com/docker/distribution 2.8.2+ds1``,
    ``github.com/distribution/distribution/v3 v3.0.0``), or None."""
    for token in (text or '').split():
        if '/' in token:  # the import path (distribution/v3) is not the version
            continue
        match = _VERSION.match(token)
        if match:
            return tuple(int(g) for g in match.groups())
    return None


def tail(text, lines=20):
    """The last lines of an output, for a message."""
    return '\n'.join((text or '').rstrip().splitlines()[-lines:])
