# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every client unit is: the interface the registry_client driver calls, the desired state
all runtimes of a host share, and a file a unit plans and writes.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os
from collections import namedtuple

from ansible_collections.berth.registry.plugins.module_utils._files import MAX_BYTES, decode_text, read_file
from ansible_collections.berth.registry.plugins.module_utils._names import endpoint_text, registry_endpoint


class Registry(namedtuple('Registry', 'host port')):
    """The registry as users type it: host (DNS name lower-cased, or IP) and port (None: 443 implied)."""

    @classmethod
    def parse(cls, value, option='registry'):
        return cls(*registry_endpoint(value, option))

    @property
    def text(self):
        """host[:port] as dockerd's insecure-registries and config.json's auths key it (IPv6 in brackets)."""
        return endpoint_text(self.host, self.port)


class Desired(object):
    """What every runtime of the host must end up with for the registry (validated values).

    registry: Registry. ca_certificates: PEM certificates to trust (a list: old + next CA during a
    rollover), empty for none. insecure: plain HTTP. mirrors: the Docker Hub mirror URLs this module
    manages on the host (the record's union, see record.py); stale_mirrors: those it managed before and
    no longer does (removed from every runtime). login: None or {username, password}.
    state: present, or absent (every runtime drops what this module wrote for the registry).
    client_certificate: this node's pair for mutual TLS (client_pair.ClientCertificate), None to leave it
    alone; client_certificate_absent: remove it (state absent removes it too).
    caches: Registry entries of pull-through caches of this registry (containerd and containers/image pull through
    them first; dockerd mirrors Docker Hub only).
    """

    def __init__(self, registry, ca_certificates=(), insecure=False, mirrors=(), login=None, state='present',
                 stale_mirrors=(), client_certificate=None, client_certificate_absent=False, caches=()):
        self.registry = registry
        self.ca_certificates = list(ca_certificates)
        self.insecure = insecure
        self.mirrors = list(mirrors)
        self.login = login
        self.state = state
        self.stale_mirrors = list(stale_mirrors)
        self.client_certificate = client_certificate
        self.client_certificate_absent = client_certificate_absent or state == 'absent'
        self.caches = list(caches)

    @property
    def absent(self):
        return self.state == 'absent'


class ClientUnit(object):
    """One part of a client host's configuration: a container runtime (docker; containerd and
    containers next) or a host-level part (the /etc/hosts line).

    The driver builds every unit of the host, then:

    1. ``plan(tracker)`` on each, read-only: compare desired with current, record every difference
       in the one tracker (fields start with the unit's ``name``), remember what to write. Bad
       input or an unreadable file raises BerthError before anything is written anywhere.
    2. outside check mode, when the tracker holds anything, ``apply()`` on each in list order
       (host-level units first: the engine's login needs the hosts line): act on what plan found.
    3. with the check option, ``check()`` on each: read-only verification through the runtime's
       own tool, ``(passed, text)`` - passed None when it could not be checked (no tool) - or None when
       the unit has nothing to check.

    ``facts()`` gives plain result fields (paths, what was applied; metadata only) and
    ``warnings()`` messages for the user.
    """

    name = None

    def __init__(self, writer):
        self.writer = writer

    def plan(self, tracker):
        raise NotImplementedError

    def apply(self):
        pass

    def check(self):
        return None

    def facts(self):
        return {}

    def state(self):
        """This unit's part of the result's ``state`` summary: trusted (list), login, registry_keys."""
        return {}

    def warnings(self):
        return []


class PlannedFile(object):
    """One file a unit manages: read at plan time, new bytes and attributes compared, written at apply.

    mode None keeps an existing file's mode (a new file gets new_mode); a missing parent directory
    is created with dir_mode. Read errors (a directory, too big, not UTF-8 with text=True, which
    also sets ``text``) name ``option`` and the path.
    """

    def __init__(self, writer, path, option, mode=None, new_mode=0o644, dir_mode=0o755, text=False,
                 max_bytes=MAX_BYTES):
        self.writer = writer
        self.path = path
        self.current = read_file(path, option, max_bytes)
        self.text = decode_text(self.current, path, option) if text else None
        self.args = writer.attrs(path, mode=mode if mode is not None or self.current is not None else new_mode)
        self.dir_mode = dir_mode
        self.data = None
        self.attributes_differ = False
        self.remove = False
        self.prune_dirs = ()

    def plan(self, tracker, field, data, before, after, text=False, secret=False):
        """Record a content difference (shown as before/after, or masked when secret) and attribute differences.
        Returns whether any."""
        self.data = None if data == self.current else data
        if self.data is not None:
            tracker.add(field, before, after, text=text, secret=secret)
        if self.current is not None:
            self.attributes_differ = self.writer.record_attributes(tracker, field, self.args)
        return self.pending

    def plan_absent(self, tracker, field, before, prune_dirs=()):
        """Record that an existing file goes (before -> None); at apply it is removed, then each of
        prune_dirs that is left empty. Returns whether anything goes."""
        self.remove = self.current is not None
        self.prune_dirs = tuple(prune_dirs)
        if self.remove:
            tracker.add(field, before, None)
        return self.remove

    @property
    def pending(self):
        return self.data is not None or self.attributes_differ or self.remove

    def apply(self):
        if self.remove:
            self.writer.remove(self.path, self.prune_dirs)
        elif self.data is not None:
            directory = os.path.dirname(os.path.abspath(self.args['path']))
            if not os.path.isdir(directory):
                self.writer.ensure_directory(directory, self.dir_mode)
            self.writer.write(self.args, self.data)
        elif self.attributes_differ:
            self.writer.apply_attributes(self.args)
