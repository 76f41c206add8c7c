# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A daemon.json change the running dockerd must take (the file and the process, composed), and
the driver of the docker_daemon_config module.

The file is _daemon_json.DaemonJson, the process _dockerd.Dockerd, the engine API client
_docker_engine.EngineClient; each is built by the driver and handed in.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._daemon_json import DEFAULT_PATH, DaemonJson
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._docker_engine import EngineClient
from ansible_collections.berth.registry.plugins.module_utils._dockerd import (
    APPLY_CHOICES, Dockerd, dockerd_argument_spec,
)
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter
from ansible_collections.berth.registry.plugins.module_utils._names import userinfo_secrets


class DaemonConfigChange(object):
    """Keys of one daemon.json (DaemonJson) that one running dockerd (Dockerd) must take."""

    def __init__(self, daemon_json, dockerd):
        self.daemon_json = daemon_json
        self.dockerd = dockerd
        self.keys = []

    @property
    def path(self):
        return self.daemon_json.path

    @property
    def warnings(self):
        return self.dockerd.warnings

    def load(self):
        """The current configuration."""
        return self.daemon_json.load()

    def managed(self):
        return self.daemon_json.managed()

    def plan(self, tracker, merge=None, remove=None, settings=None, prefix=''):
        """Record the owned keys that change; refuse a changed key that is also a dockerd flag. Returns the keys."""
        self.keys = self.daemon_json.plan(tracker, merge, remove, settings, prefix)
        if self.keys:
            self.dockerd.refuse_flag_conflicts(self.keys, self.path)
        return self.keys

    def apply(self, writer, apply='auto', validate=True, backup=False):
        """Validate (dockerd --validate where it exists), write, make dockerd take it and confirm.

        Returns dict(applied, restarted, restart_reason, backup_file).
        """
        if validate:
            self.dockerd.validate(self.daemon_json.data, self.path)
        backup_file = self.daemon_json.write(writer, backup)
        outcome = self.dockerd.take(self.keys, self.daemon_json.after, apply, self.path)
        outcome['backup_file'] = backup_file
        return outcome


def argument_spec():
    """docker_daemon_config's options (docker_host and pid_file: doc_fragments/_dockerd.py)."""
    spec = dockerd_argument_spec()
    spec.update(
        path=dict(type='path', default=DEFAULT_PATH),
        merge=dict(type='dict', default={}),
        remove=dict(type='dict', default={}),
        settings=dict(type='dict', default={}),
        apply=dict(type='str', default='auto', choices=APPLY_CHOICES),
        restart_command=dict(type='list', elements='str'),
        validate=dict(type='bool', default=True),
        backup=dict(type='bool', default=False),
    )
    return spec


class DockerDaemonConfig(object):
    """The docker_daemon_config module: plan the given keys, write, reload or restart, confirm."""

    def __init__(self, module):
        self.module = module

    def run(self):
        module, p = self.module, self.module.params
        # a proxy or mirror URL's user:password is masked wherever it would show (the invocation too)
        module.no_log_values.update(userinfo_secrets([p['merge'], p['remove'], p['settings']]))
        engine = EngineClient(p['docker_host'])
        change = DaemonConfigChange(DaemonJson(p['path'], 'path'),
                                    Dockerd(engine, module.run_command, module.get_bin_path, p['pid_file'],
                                            p['restart_command']))
        tracker = Differences()
        facts = dict(path=p['path'], applied='none', restarted=False)
        try:
            if change.plan(tracker, p['merge'], p['remove'], p['settings']):
                if module.check_mode:
                    facts['applied'] = 'skipped'
                else:
                    outcome = change.apply(FileWriter(module), p['apply'], p['validate'], p['backup'])
                    facts.update((k, v) for k, v in outcome.items() if v is not None)
            facts['managed_config'] = change.managed()
        except BerthError as exc:
            exc.result.update(tracker.result(module._diff, header=p['path'], **facts))
            raise
        finally:
            for warning in change.warnings:
                module.warn(warning)
        return tracker.result(module._diff, header=p['path'], **facts)
