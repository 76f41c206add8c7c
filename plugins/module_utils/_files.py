# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one file layer: reading strictly, writing atomically, file attributes through AnsibleModule.

Writes go through a staged file in the target's own directory whose mode is set before the
first byte (a private key is never readable by others, not even briefly), then
``AnsibleModule.atomic_move`` (SELinux context kept or defaulted), then
``set_fs_attributes_if_different`` (owner, group, octal or symbolic mode, SELinux, attributes).
A file that is a mount point (``/etc/hosts`` in a container is a bind mount, where a rename fails
with EBUSY) is rewritten in place. Several files can be written together: all are staged
completely before the first rename. A symlink is followed: its target is written and gets the
attributes, the link stays.

The same calls work without an AnsibleModule (``module=None``: action plugins writing on the
controller), with numeric modes and plain renames.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import tempfile
import time

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

MAX_BYTES = 16 * 1024 * 1024
_SYMBOLIC_MODE_CHARS = frozenset('ugoa+-=rwxXst,')


def file_argument_spec():
    """Owner/group/mode options of a module that writes one file with user-chosen attributes.

    Modules that want SELinux, attributes and unsafe_writes too use ``add_file_common_args=True``.
    """
    return dict(mode=dict(type='raw'), owner=dict(type='str'), group=dict(type='str'))


def validate_mode(value, option='mode'):
    """An octal (``'0644'``, ``644``, ``0o644``) or symbolic (``u=rw,g=r``) mode, or None.

    Returns the mode as int for octal input, the string for symbolic input.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise BerthError('%s: %r is not a file mode; give an octal mode such as 0644 or a symbolic one '
                         'such as u=rw,g=r' % (option, value))
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip()
        try:
            mode = int(text, 8)
        except ValueError:
            if text and set(text) <= _SYMBOLIC_MODE_CHARS and text[0] in 'ugoa+-=':
                return text
            raise BerthError('%s: %r is not a file mode; give an octal mode such as 0644 or a symbolic one '
                             'such as u=rw,g=r' % (option, value))
    if not 0 <= mode <= 0o7777:
        raise BerthError('%s: %r is out of range; an octal mode is 0000..7777' % (option, value))
    return mode


def _check_owner(owner, option='owner'):
    if owner is None or str(owner).isdigit():
        return
    try:
        pwd.getpwnam(owner)
    except KeyError:
        raise BerthError('%s: user %r does not exist on this host' % (option, owner))


def _check_group(group, option='group'):
    if group is None or str(group).isdigit():
        return
    try:
        grp.getgrnam(group)
    except KeyError:
        raise BerthError('%s: group %r does not exist on this host' % (option, group))


def resolve(path):
    """The path a write acts on: a symlink's final target (the link itself stays)."""
    return os.path.realpath(path) if os.path.islink(path) else path


def read_file(path, option='path', max_bytes=MAX_BYTES):
    """The file's bytes, or None when it does not exist (a dangling symlink counts as missing).

    A directory, a device, an unreadable or an oversized file is a BerthError naming the option
    and the path.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BerthError('%s: %s cannot be read: %s' % (option, path, exc.strerror))
    if stat.S_ISDIR(st.st_mode):
        raise BerthError('%s: %s is a directory, expected a file' % (option, path))
    if not stat.S_ISREG(st.st_mode):
        raise BerthError('%s: %s is not a regular file' % (option, path))
    if st.st_size > max_bytes:
        raise BerthError('%s: %s is %d bytes, more than the %d this module reads' % (option, path, st.st_size, max_bytes))
    try:
        with open(path, 'rb') as f:
            return f.read(max_bytes + 1)
    except OSError as exc:
        raise BerthError('%s: %s cannot be read: %s' % (option, path, exc.strerror))


def read_text(path, option='path', max_bytes=MAX_BYTES):
    """The file as text (UTF-8), or None when missing; not UTF-8 is a BerthError naming the file."""
    return decode_text(read_file(path, option, max_bytes), path, option)


def decode_text(data, path, option='path'):
    """Bytes read from path as UTF-8 text (None stays None); not UTF-8 is a BerthError naming the file."""
    if data is None:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise BerthError('%s: %s is not UTF-8 text (byte %d); the file was left untouched' % (option, path, exc.start))


def is_mount_point(path):
    """True when path is itself a mount point (e.g. a bind-mounted /etc/hosts)."""
    real = os.path.realpath(path)
    try:
        with open('/proc/self/mountinfo') as f:
            return any(len(fields) > 4 and fields[4] == real for fields in (line.split() for line in f))
    except OSError:
        return False


class FileWriter(object):
    """Writes files and their attributes for one module run (or one action on the controller)."""

    def __init__(self, module=None):
        self.module = module

    # --- what a file should look like -----------------------------------------------------
    def attrs(self, path, mode=None, owner=None, group=None, params=None):
        """File arguments for path: ``params`` (a module's file options) override the given defaults.

        Validates mode/owner/group up front (BerthError naming the value), resolves a symlink.
        """
        params = params or {}
        wanted = {'mode': mode, 'owner': owner, 'group': group}
        for key in ('mode', 'owner', 'group'):
            if params.get(key) is not None:
                wanted[key] = params[key]
        wanted['mode'] = validate_mode(wanted['mode'])
        _check_owner(wanted['owner'])
        _check_group(wanted['group'])
        path = resolve(path)
        if self.module is not None:
            source = dict((k, v) for k, v in params.items()
                          if k in ('seuser', 'serole', 'setype', 'selevel', 'attributes', 'unsafe_writes'))
            source.update(wanted)
            args = self.module.load_file_common_arguments(source, path=path)
            args['unsafe_writes'] = bool(params.get('unsafe_writes'))
            return args
        if isinstance(wanted['mode'], str):
            raise BerthError('mode: symbolic modes (%s) need a module run; give an octal mode' % wanted['mode'])
        return dict(wanted, path=path, unsafe_writes=False)

    def attribute_differences(self, args):
        """{'before': {...}, 'after': {...}} of owner/group/mode/... that differ on an existing file; read-only."""
        path = args['path']
        if not os.path.exists(path):
            return {}
        diff = {'before': {}, 'after': {}}
        if self.module is not None:
            saved = self.module.check_mode
            self.module.check_mode = True
            try:
                self.module.set_fs_attributes_if_different(args, False, diff=diff, expand=False)
            finally:
                self.module.check_mode = saved
        else:
            st = os.stat(path)
            if args['mode'] is not None and stat.S_IMODE(st.st_mode) != args['mode']:
                diff['before']['mode'], diff['after']['mode'] = '%04o' % stat.S_IMODE(st.st_mode), '%04o' % args['mode']
            uid, gid = _uid(args['owner']), _gid(args['group'])
            if uid is not None and st.st_uid != uid:
                diff['before']['owner'], diff['after']['owner'] = st.st_uid, uid
            if gid is not None and st.st_gid != gid:
                diff['before']['group'], diff['after']['group'] = st.st_gid, gid
        return diff if diff['after'] else {}

    def record_attributes(self, differences, label, args):
        """Add owner/group/mode differences of an existing file to a Differences tracker."""
        diff = self.attribute_differences(args)
        for key in sorted(diff.get('after', {})):
            differences.add('%s %s' % (label, key), diff['before'].get(key), diff['after'][key])
        return bool(diff)

    # --- acting -----------------------------------------------------------------------------
    def apply_attributes(self, args):
        """Give an existing file its wanted attributes. Returns whether anything changed."""
        if self.module is not None:
            return self.module.set_fs_attributes_if_different(args, False, expand=False)
        changed = bool(self.attribute_differences(args))
        if args['mode'] is not None:
            os.chmod(args['path'], args['mode'])
        uid, gid = _uid(args['owner']), _gid(args['group'])
        if uid is not None or gid is not None:
            os.chown(args['path'], -1 if uid is None else uid, -1 if gid is None else gid)
        return changed

    def ensure_directory(self, path, mode, owner=None, group=None):
        """Create a missing directory (parents 0755) or fix an existing one's attributes. Returns changed."""
        args = self.attrs(path, mode, owner, group)
        if os.path.isdir(args['path']):
            return self.apply_attributes(args)
        if os.path.lexists(args['path']):
            raise BerthError('%s exists and is not a directory' % path)
        parent = os.path.dirname(os.path.abspath(args['path']))
        if not os.path.isdir(parent):
            os.makedirs(parent, 0o755)
        os.mkdir(args['path'], 0o700)
        self.apply_attributes(args)
        return True

    def remove(self, path, prune_dirs=()):
        """Remove a file (a symlink itself, not its target); then each of prune_dirs that is left empty,
        in order (a file's own directory first). Returns whether the file existed."""
        existed = os.path.lexists(path)
        if existed:
            if os.path.isdir(path) and not os.path.islink(path):
                raise BerthError('%s is a directory, expected a file: not removed' % path)
            os.unlink(path)
        for directory in prune_dirs:
            try:
                os.rmdir(directory)
            except OSError:  # not empty (or gone): it stays
                break
        return existed

    def write(self, args, data, backup=False):
        """Replace the file with data (bytes) and give it its attributes. Returns the backup path or None."""
        return self.write_together([(args, data)], backup=backup)[0]

    def write_together(self, files, backup=False):
        """Write [(args, data)] so that every file is staged completely before the first rename.

        Renames follow the list order (put a key before its certificate). Returns backup paths.
        """
        for args, dummy in files:
            directory = os.path.dirname(os.path.abspath(args['path']))
            if not os.path.isdir(directory):
                raise BerthError('directory %s of %s does not exist' % (directory, args['path']))
            if os.path.exists(args['path']) and not os.path.isfile(args['path']):
                raise BerthError('%s exists and is not a regular file' % args['path'])
        staged = []
        try:
            for args, data in files:
                staged.append(self._stage(args, data))
            backups = []
            for (args, dummy), stage in zip(files, staged):
                backups.append(self._backup(args['path']) if backup else None)
                self._move(stage, args)
                self.apply_attributes(args)
            staged = []
            return backups
        finally:
            for stage in staged:
                if os.path.exists(stage):
                    os.unlink(stage)

    def _stage(self, args, data):
        path = args['path']
        if isinstance(args['mode'], int):
            first_mode = args['mode']
        elif args['mode'] is None and os.path.isfile(path):
            first_mode = stat.S_IMODE(os.stat(path).st_mode)  # no mode asked for: the file keeps its own
        else:
            first_mode = 0o600
        fd, stage = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.berth',
                                     dir=os.path.dirname(os.path.abspath(path)))
        try:
            os.fchmod(fd, first_mode)
            with os.fdopen(fd, 'wb') as f:
                fd = None
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            if fd is not None:
                os.close(fd)
            os.unlink(stage)
            raise
        return stage

    def _backup(self, path):
        """A timestamped copy next to the file (``backup_local``'s naming), never readable by others while
        it is written (umask 077 until the original's mode is copied). Returns its path, None when no file."""
        if not os.path.exists(path):
            return None
        umask = os.umask(0o077)
        try:
            if self.module is not None:
                return self.module.backup_local(path)
            backup = '%s.%d.%s~' % (path, os.getpid(), time.strftime('%Y-%m-%d@%H:%M:%S'))
            shutil.copy2(path, backup)
            return backup
        finally:
            os.umask(umask)

    def _move(self, stage, args):
        path = args['path']
        in_place = args.get('unsafe_writes') or is_mount_point(path)
        if os.path.exists(path):
            # the destination's attributes are copied to the staged file: make them the wanted ones first
            self.apply_attributes(args)
        if self.module is None:
            os.rename(stage, path)
            return
        # atomic_move gives a new file 0666 & ~umask after the rename: keep it private until
        # its attributes are applied
        umask = os.umask(0o077)
        try:
            self.module.atomic_move(os.path.abspath(stage), os.path.abspath(path), unsafe_writes=bool(in_place))
        finally:
            os.umask(umask)
        if os.path.exists(stage):  # the in-place fallback copies and leaves the staged file
            os.unlink(stage)


def _uid(owner):
    if owner is None:
        return None
    return int(owner) if str(owner).isdigit() else pwd.getpwnam(owner).pw_uid


def _gid(group):
    if group is None:
        return None
    return int(group) if str(group).isdigit() else grp.getgrnam(group).gr_gid
