# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What this module manages on a host that no runtime's file can tell: the Docker Hub mirrors it added.

daemon.json's ``registry-mirrors`` may hold mirrors of the user's own; to remove a mirror that left
``mirrors`` (or whose registry goes with state=absent) from every runtime, the module records which
mirrors it wrote, per registry host (a registry moving from plain HTTP on :5000 to TLS on :443 stays
one entry), in a small JSON file (no secrets: mirror URLs carry no credentials). The mirrors managed
on the host are the union over the recorded registries.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import json

from ansible_collections.berth.registry.plugins.module_utils._client.base import ClientUnit, PlannedFile
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._json_file import MAX_BYTES, parse_json_object

DEFAULT_RECORD_PATH = '/var/lib/berth/registry_client.json'


def _union(lists):
    out = []
    for items in lists:
        out.extend(m for m in items if m not in out)
    return out


def merge_record(record, registry, mirrors, absent):
    """(new record, managed mirrors after, mirrors managed before and no longer) for one registry's mirrors."""
    before = record.get('mirrors', {})
    after = dict((k, list(v)) for k, v in before.items() if k != registry)
    if mirrors and not absent:
        after[registry] = list(mirrors)
    # this registry's own list first: its order is the one the user gave
    managed = _union([after.get(registry, [])] + [v for k, v in sorted(after.items()) if k != registry])
    stale = [m for m in _union(before.values()) if m not in managed]
    new = dict(record, mirrors=dict(sorted(after.items())))
    return new, managed, stale


class MirrorRecord(ClientUnit):
    """The record file (0644; its directory 0755). Built before the runtime units: they take ``managed`` and
    ``stale`` from it; planned last, so the record follows what the runtimes were made to hold."""

    name = 'record'

    def __init__(self, writer, path, registry, mirrors, absent=False):
        super(MirrorRecord, self).__init__(writer)
        self.path = path
        self.file = PlannedFile(writer, path, 'record_path', mode=0o644, max_bytes=MAX_BYTES)
        self.record = parse_json_object(self.file.current, path, BerthError)
        if not isinstance(self.record.get('mirrors', {}), dict) or not all(
                isinstance(v, list) for v in self.record.get('mirrors', {}).values()):
            raise BerthError('%s: mirrors must be an object of lists (it is this module\'s record; remove the file to '
                             'start over); the file was left as it was' % path)
        self.new, self.managed, self.stale = merge_record(self.record, registry, mirrors, absent)
        self.registry = registry

    def plan(self, tracker):
        if self.new == dict(self.record, mirrors=self.record.get('mirrors', {})):
            return  # nothing recorded changes (however the file is formatted)
        before = self.record.get('mirrors', {}).get(self.registry)
        after = self.new['mirrors'].get(self.registry)
        if not self.new['mirrors']:
            self.file.plan_absent(tracker, 'record %s mirrors of %s' % (self.path, self.registry), before)
            return
        data = (json.dumps(self.new, indent=2, sort_keys=True) + '\n').encode('utf-8')
        self.file.plan(tracker, 'record %s mirrors of %s' % (self.path, self.registry), data, before, after)

    def apply(self):
        if self.file.pending:
            self.file.apply()
