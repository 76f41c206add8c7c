# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parts several runtime units share: the registry's CA file in each of a runtime's directories, and
the registry's entry in a Docker-format auth file (Docker's config.json, containers' auth.json).

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os

from ansible_collections.berth.registry.plugins.module_utils._certs_d import certificate_fingerprints, fingerprints
from ansible_collections.berth.registry.plugins.module_utils._client.base import PlannedFile
from ansible_collections.berth.registry.plugins.module_utils._docker_auth import (
    check_no_helper, format_config, has_auth, parse_config, stored_username, with_auth, without_auth,
)
from ansible_collections.berth.registry.plugins.module_utils._json_file import MAX_BYTES


class CaFiles(object):
    """The registry's CA certificate(s) at each of paths (0644, directories 0755): written when given,
    left alone when not (plain HTTP), removed with state=absent (and a directory left empty)."""

    def __init__(self, writer, runtime, paths, option):
        self.writer = writer
        self.runtime = runtime
        self.paths = list(paths)
        self.option = option
        self.files = []
        self.after = {}

    def plan(self, tracker, desired):
        data = ''.join(desired.ca_certificates).encode('ascii') if desired.ca_certificates else None
        for path in self.paths:
            planned = PlannedFile(self.writer, path, self.option, mode=0o644)
            field = '%s CA %s' % (self.runtime, path)
            if desired.absent:
                pending = planned.plan_absent(tracker, field, fingerprints(planned.current),
                                              prune_dirs=[os.path.dirname(path)])
                self.after[path] = None
            elif data is not None:
                pending = planned.plan(tracker, field, data, fingerprints(planned.current), fingerprints(data))
                self.after[path] = data
            else:
                pending, self.after[path] = False, planned.current
            if pending:
                self.files.append(planned)

    def apply(self):
        for planned in self.files:
            planned.apply()

    def trusted(self):
        """[{runtime, path, fingerprint_sha256}] of every certificate in the files after the run."""
        return [{'runtime': self.runtime, 'path': path, 'fingerprint_sha256': fp}
                for path in self.paths for fp in certificate_fingerprints(self.after.get(path))]


class AuthEntry(object):
    """auths[<registry>] in a Docker-format auth file (0600, a new directory 0700, other keys kept).

    Idempotent without the network: stored credentials equal to the wanted ones are not written again.
    A new entry is written only after ``verify()`` (the runtime's own login) succeeded; with
    state=absent the entry goes (what ``logout`` does).
    """

    def __init__(self, writer, runtime, path, option, registry, login, absent=False):
        self.runtime = runtime
        self.path = path
        self.registry = registry
        self.login = login
        self.absent = absent
        self.planned = PlannedFile(writer, path, option, mode=0o600, dir_mode=0o700, max_bytes=MAX_BYTES)
        self.pending = False
        self.stored_user = None

    def plan(self, tracker):
        planned, registry, path = self.planned, self.registry, self.path
        field = '%s login %s in %s' % (self.runtime, registry, path)
        if self.absent:
            if planned.current is None:
                return
            config = parse_config(planned.current, path)
            user = stored_username(config, registry, path)
            if registry in (config.get('auths') or {}):
                data = format_config(without_auth(config, registry, path)).encode()
                self.pending = planned.plan(tracker, field, data, 'user %s' % user if user else 'an entry', None)
            return
        if not self.login:
            return
        login = self.login
        config = parse_config(planned.current, path)
        check_no_helper(config, registry, path)
        if has_auth(config, registry, login['username'], login['password'], path):
            data = planned.current
        else:
            data = format_config(with_auth(config, registry, login['username'], login['password'], path)).encode()
        user = stored_username(config, registry, path)
        self.stored_user = user
        after = 'user %s' % login['username'] + (', new credentials' if user == login['username'] else '')
        self.pending = planned.plan(tracker, field, data, None if user is None else 'user %s' % user, after)

    @property
    def new_credentials(self):
        """Whether the credentials themselves are written (not only the file's mode)."""
        return self.pending and self.planned.data is not None and not self.absent

    def apply(self, verify=None):
        if not self.pending:
            return
        if self.new_credentials and verify is not None:
            verify()
        self.planned.apply()

    def state(self):
        if self.absent or not self.login:
            return None
        return {'user': self.login['username'], 'config_path': self.path}
