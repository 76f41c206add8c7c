# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a ContainerSpec names on the host, read before anything is touched: the restart files and
their content hash, the configuration and data directories, the image archive, the probe's CA.
Read-only, except emptying the data directory for remove_data; creating it is the driver's
(through _files.FileWriter).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat

from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ContainerInputError

PENDING = 'pending'
_CHUNK = 1024 * 1024


def _stat(path):
    try:
        return os.stat(path)  # follows a symlink: a dangling one counts as missing
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ContainerInputError('%s cannot be read: %s' % (path, exc.strerror))


def _regular_file(option, path):
    """None when path is a regular file (or a symlink to one); 'missing' when it does not exist."""
    st = _stat(path)
    if st is None:
        return 'missing'
    if stat.S_ISDIR(st.st_mode):
        raise ContainerInputError('%s: %s is a directory, expected a regular file' % (option, path))
    if not stat.S_ISREG(st.st_mode):
        raise ContainerInputError('%s: %s is not a regular file' % (option, path))
    return None


def _directory(option, path):
    st = _stat(path)
    if st is None:
        return 'missing'
    if not stat.S_ISDIR(st.st_mode):
        raise ContainerInputError('%s: %s exists and is not a directory' % (option, path))
    return None


def check(spec):
    """Raise for what is wrong whatever earlier tasks do (a directory where a file is expected, a
    file where a directory is expected); return what is missing, as messages (a role's earlier tasks
    create those files, so check mode only warns about them)."""
    missing = []
    if spec.state != 'started':
        if spec.data_dir and spec.remove_data:
            _directory('data_dir', spec.data_dir)
        return missing
    if spec.config_dir and _directory('config_dir', spec.config_dir):
        missing.append('config_dir: %s does not exist' % spec.config_dir)
    for path in spec.restart_files:
        if _regular_file('restart_files', path):
            missing.append('restart_files: %s does not exist' % path)
    if spec.image_archive and _regular_file('image_archive', spec.image_archive):
        missing.append('image_archive: %s does not exist' % spec.image_archive)
    if spec.probe['enabled'] and spec.probe['ca_path'] and _regular_file('probe.ca_path', spec.probe['ca_path']):
        missing.append('probe.ca_path: %s does not exist' % spec.probe['ca_path'])
    if spec.data_dir:
        _directory('data_dir', spec.data_dir)
        if is_root(spec.data_dir):
            raise ContainerInputError("data_dir: %s resolves to / : it cannot be the registry's data directory" % spec.data_dir)
    return missing


def data_dir_exists(spec):
    return bool(spec.data_dir) and os.path.isdir(spec.data_dir)


def contents_hash(contents):
    """The hash ``files_hash`` gives files holding these bytes: sha256 over the sorted (path, content)
    pairs of a {path: bytes} mapping; None when it is empty.

    For a caller that knows what the files WILL hold (the server module writes them in the same run):
    check mode then predicts a recreate exactly, and a rerun compares without reading the files back.
    """
    if not contents:
        return None
    digest = hashlib.sha256()
    for path in sorted(contents):
        encoded, data = path.encode('utf-8', 'surrogateescape'), contents[path]
        digest.update(b'%d:%s%d:' % (len(encoded), encoded, len(data)))
        digest.update(data)
    return 'sha256:' + digest.hexdigest()


def files_hash(paths):
    """sha256 over the sorted (path, content) pairs; None when no file is listed (see contents_hash)."""
    if not paths:
        return None
    digest = hashlib.sha256()
    for path in sorted(set(paths)):
        if _regular_file('restart_files', path):
            raise ContainerInputError('restart_files: %s does not exist' % path)
        encoded = path.encode('utf-8', 'surrogateescape')
        try:
            with open(path, 'rb') as f:
                size = os.fstat(f.fileno()).st_size
                digest.update(b'%d:%s%d:' % (len(encoded), encoded, size))
                for chunk in iter(lambda: f.read(_CHUNK), b''):
                    digest.update(chunk)
        except OSError as exc:
            raise ContainerInputError('restart_files: %s cannot be read: %s' % (path, exc.strerror))
    return 'sha256:' + digest.hexdigest()


def is_root(path):
    return os.path.realpath(path) == '/'


def has_entries(path):
    return os.path.isdir(path) and bool(os.listdir(path))


def empty_directory(path):
    """Remove everything inside path (the directory itself stays); symlinks are removed, not followed."""
    if is_root(path):
        raise ContainerInputError('data_dir: %s resolves to / : refusing to remove its contents' % path)
    for entry in os.listdir(path):
        full = os.path.join(path, entry)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)
