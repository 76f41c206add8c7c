# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Atomic file writes and file-metadata comparison shared by every module.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import tempfile


def read_bytes(path):
    """Return the file's bytes, or None when it does not exist."""
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return None


def resolve_uid(owner):
    if owner is None:
        return None
    if isinstance(owner, int) or str(owner).isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise ValueError('owner %r does not exist on this host' % owner)


def resolve_gid(group):
    if group is None:
        return None
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValueError('group %r does not exist on this host' % group)


def metadata_differences(path, mode=None, owner=None, group=None):
    """Compare an existing file's mode/owner/group with the wanted ones.

    Returns a dict {field: (current, wanted)} of what differs; empty when the file
    matches or does not exist (a missing file is a content difference, not this).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {}
    diffs = {}
    if mode is not None and stat.S_IMODE(st.st_mode) != mode:
        diffs['mode'] = ('%04o' % stat.S_IMODE(st.st_mode), '%04o' % mode)
    uid = resolve_uid(owner)
    if uid is not None and st.st_uid != uid:
        diffs['owner'] = (st.st_uid, uid)
    gid = resolve_gid(group)
    if gid is not None and st.st_gid != gid:
        diffs['group'] = (st.st_gid, gid)
    return diffs


def write_atomic(path, data, mode, owner=None, group=None):
    """Write ``data`` (bytes) to ``path`` atomically with an explicit ``mode``.

    A temporary file is created in the same directory (so the final rename never
    crosses a filesystem), given its mode and ownership *before* any byte is
    written (a private key is never readable by others, not even briefly),
    fsynced, then renamed over the target. On any error the temporary file is
    removed and the old file is left as it was.
    """
    directory = os.path.dirname(os.path.abspath(path))
    uid = resolve_uid(owner)
    gid = resolve_gid(group)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        os.fchmod(fd, mode)
        if uid is not None or gid is not None:
            os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
        with os.fdopen(fd, 'wb') as f:
            fd = None
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
        tmp = None
        _fsync_directory(directory)
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def apply_metadata(path, mode=None, owner=None, group=None):
    """Set mode/owner/group on an existing file (no content change)."""
    if mode is not None:
        os.chmod(path, mode)
    uid = resolve_uid(owner)
    gid = resolve_gid(group)
    if uid is not None or gid is not None:
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)


def _fsync_directory(directory):
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
