# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filesystem driver's tree on the host, read-only: image indexes (manifest lists) and blob sizes.

Layout (Distribution 2.x and 3.x): ``docker/registry/v2/blobs/sha256/<2 hex>/<64 hex>/data`` holds each blob;
``docker/registry/v2/repositories/<name>/_manifests/revisions/sha256/<64 hex>/link`` names each manifest of a
repository. Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import json
import os

V2 = os.path.join('docker', 'registry', 'v2')
INDEX_TYPES = ('application/vnd.docker.distribution.manifest.list.v2+json',
               'application/vnd.oci.image.index.v1+json')
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


def blob_path(data_dir, digest):
    algorithm, dummy, hexdigest = digest.partition(':')
    return os.path.join(data_dir, V2, 'blobs', algorithm, hexdigest[:2], hexdigest, 'data')


def blob_bytes(data_dir, digests):
    """Allocated bytes (like du) of the blobs' data files that exist."""
    total = 0
    for digest in digests:
        try:
            st = os.lstat(blob_path(data_dir, digest))
        except OSError:
            continue
        total += getattr(st, 'st_blocks', 0) * 512 or st.st_size
    return total


def _is_index(data):
    try:
        manifest = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    return manifest.get('mediaType') in INDEX_TYPES or (
        'manifests' in manifest and 'layers' not in manifest and 'config' not in manifest)


def image_indexes(data_dir, limit=100000):
    """[(repository, digest)] of the manifest lists / OCI image indexes the storage holds (at most ``limit``
    manifests are read)."""
    root = os.path.join(data_dir, V2, 'repositories')
    found, seen = [], 0
    for current, dirs, dummy in os.walk(root):
        if '_manifests' in dirs:
            revisions = os.path.join(current, '_manifests', 'revisions', 'sha256')
            try:
                names = sorted(os.listdir(revisions))
            except OSError:
                names = []
            for hexdigest in names:
                seen += 1
                if seen > limit:
                    return found
                digest = 'sha256:' + hexdigest
                try:
                    with open(blob_path(data_dir, digest), 'rb') as f:
                        data = f.read(MAX_MANIFEST_BYTES)
                except OSError:
                    continue
                if _is_index(data):
                    found.append((os.path.relpath(current, root), digest))
        dirs[:] = sorted(d for d in dirs if not d.startswith('_'))
    return found
