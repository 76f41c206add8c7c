# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GcDriver: garbage collection of a running registry container through a Docker API client.

``state=collected`` (the whole window on one host):
  1. ``registry garbage-collect --dry-run`` in the running registry (reads only): nothing to delete means no
     window at all - no restart, nothing changed;
  2. with ``delete_untagged`` on Distribution 2.x and image indexes in the storage: refused before anything
     (2.x deletes the untagged platform manifests of a tagged multi-arch image: distribution#3178, fixed in 3.0);
  3. read-only: the registry container is stopped and its read-only twin (``twin``) started on the same port,
     storage and configuration; pulls are served, pushes get the registry's read-only error;
  4. ``registry garbage-collect`` by exec in the twin;
  5. read-write again: the twin stopped, the registry container started (its in-memory blob cache is fresh), the
     twin removed - also when the collection failed.
``state=readonly`` / ``state=readwrite`` do steps 3 / 5 alone (replicas sharing one storage: every replica
read-only, collect once with ``restore=false``, then every replica back).

Takes any client with the Docker SDK's ``APIClient`` methods; imports no Ansible (the scheduled job uses it).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import time

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_gc import output, ready, storage, twin
from ansible_collections.berth.registry.plugins.module_utils._registry_info import disk_usage

STATES = ('collected', 'readonly', 'readwrite')
BINARY = '/bin/registry'
LOG_LINES = 20


class GcError(BerthError):
    """Garbage collection could not run, or the registry could not be brought back; the message says which state
    the registry was left in."""


class GcSpec(object):
    """What to do, as plain values (the module's options)."""

    def __init__(self, name='registry', state='collected', delete_untagged=False, dry_run=False, restore=True,
                 config_path=None, binary=BINARY, rootdirectory=twin.DEFAULT_ROOT, data_dir=None, timeout=60,
                 stop_timeout=10, max_files=1000000):
        self.name = name
        self.state = state
        self.delete_untagged = bool(delete_untagged)
        self.dry_run = bool(dry_run)
        self.restore = bool(restore)
        self.config_path = config_path
        self.binary = binary
        self.rootdirectory = rootdirectory
        self.data_dir = data_dir
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self.max_files = max_files
        self.check()

    def check(self):
        if self.state not in STATES:
            raise GcError('state: %r is not one of %s' % (self.state, ', '.join(STATES)))
        if not isinstance(self.name, str) or not self.name or any(c.isspace() or c == '/' for c in self.name):
            raise GcError('name: %r is not a container name' % (self.name,))
        for option in ('timeout', 'stop_timeout', 'max_files'):
            value = getattr(self, option)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GcError('%s: %r must be a whole number of at least 1' % (option, value))
        for option in ('config_path', 'binary', 'rootdirectory', 'data_dir'):
            value = getattr(self, option)
            if value is not None and (not isinstance(value, str) or not value.startswith('/') or '\x00' in value
                                      or '\n' in value):
                raise GcError('%s: %r must be an absolute path' % (option, value))


class GcDriver(object):
    """One run against one engine: ``run(spec)`` -> (Differences, result dict)."""

    def __init__(self, client, check_mode=False, clock=time.monotonic):
        self.client = client
        self.check_mode = check_mode
        self.clock = clock
        self.warnings = []

    # --- the run --------------------------------------------------------------------------------------
    def run(self, spec):
        tracker = Differences()
        original = self._inspect(spec.name)
        if original is None:
            raise GcError('registry container %s does not exist on this host' % spec.name)
        current_twin = self._inspect(twin.twin_name(spec.name))
        current_twin = self._tidy(spec, original, current_twin, tracker)
        readonly = current_twin is not None
        serving = current_twin if readonly else original
        result = {'container': spec.name, 'readonly': readonly, 'readonly_before': readonly,
                  'config_path': spec.config_path or twin.config_path(original),
                  'data_dir': spec.data_dir or twin.data_source(original, spec.rootdirectory),
                  'registry_version': None, 'bytes_before': None, 'bytes_after': None, 'bytes_freed': None,
                  'blobs_marked': None, 'blobs_deleted': 0, 'manifests_deleted': 0, 'eligible': None,
                  'readonly_seconds': 0.0, 'window': False, 'output': ''}
        if not self._running(serving) and spec.state != 'readwrite':
            raise GcError('registry container %s is not running (%s): garbage-collect runs in the running registry'
                          % (spec.name, (serving.get('State') or {}).get('Status')))
        if spec.state == 'readwrite':
            if readonly:
                tracker.add('mode', 'read-only', 'read-write')
                if not self.check_mode:
                    self._leave(spec, original, current_twin)
                result['readonly'] = False
            elif not self._running(original):
                tracker.add('status', (original.get('State') or {}).get('Status'), 'running')
                if not self.check_mode:
                    self._start(spec, original['Id'], 'registry container %s' % spec.name)
            return tracker, result
        if spec.state == 'readonly':
            if not readonly:
                tracker.add('mode', 'read-write', 'read-only')
                if not self.check_mode:
                    self._enter(spec, original)
                result['readonly'] = True
            return tracker, result
        return self._collect(spec, original, current_twin, tracker, result)

    def _collect(self, spec, original, current_twin, tracker, result):
        serving = current_twin or original
        version_text = self._exec(serving, [spec.binary, '--version'], 'registry --version')[1]
        version = output.parse_version(version_text)
        result['registry_version'] = '.'.join(str(v) for v in version) if version else version_text.strip()
        data_dir = result['data_dir']
        if spec.delete_untagged and version and version[0] < 3:
            self._refuse_index_loss(data_dir, result['registry_version'])
        dry = self._garbage_collect(spec, serving, result['config_path'], dry_run=True)
        eligible = dict(dry, bytes=storage.blob_bytes(data_dir, dry['blobs']) if data_dir else None)
        result['eligible'] = dict((k, v) for k, v in eligible.items() if k not in ('blobs', 'manifests'))
        nothing = not dry['blobs_eligible'] and not dry['manifests_eligible']
        if nothing or spec.dry_run:
            if nothing and current_twin is not None and spec.restore:
                tracker.add('mode', 'read-only', 'read-write')
                if not self.check_mode:
                    self._leave(spec, original, current_twin)
                result['readonly'] = False
            return tracker, result
        tracker.add('blobs', '%d unreferenced' % dry['blobs_eligible'], 'deleted')
        if dry['manifests_eligible']:
            tracker.add('manifests', '%d untagged' % dry['manifests_eligible'], 'deleted')
        if self.check_mode:
            return tracker, result
        result['bytes_before'] = self._usage(spec, data_dir)
        started = self.clock()
        if current_twin is None:
            current_twin = self._enter(spec, original)
            result['window'] = True
        try:
            done = self._garbage_collect(spec, current_twin, result['config_path'], dry_run=False)
        finally:
            if spec.restore:
                self._leave(spec, original, current_twin)
                result['readonly_seconds'] = round(self.clock() - started, 1)
                result['readonly'] = False
            else:
                result['readonly'] = True
        result.update(blobs_marked=done['blobs_marked'], blobs_deleted=done['blobs_eligible'],
                      manifests_deleted=done['manifests_eligible'], output=done['output'])
        result['bytes_after'] = self._usage(spec, data_dir)
        if result['bytes_before'] is not None and result['bytes_after'] is not None:
            result['bytes_freed'] = result['bytes_before'] - result['bytes_after']
        return tracker, result

    # --- pieces ---------------------------------------------------------------------------------------
    def _tidy(self, spec, original, current_twin, tracker):
        """The twin if the registry is in read-only mode now; a twin that is not serving is a leftover of a run cut
        short: removed (the registry container is what runs)."""
        if current_twin is None:
            return None
        if self._running(current_twin) and not self._running(original):
            return current_twin
        tracker.add('read-only twin', (current_twin.get('State') or {}).get('Status'), None)
        if not self.check_mode:
            self._remove(current_twin['Id'])
        return None

    def _refuse_index_loss(self, data_dir, version):
        if not data_dir:
            self.warnings.append('delete_untagged on Distribution %s: the storage is not on this host, so image indexes '
                                 'could not be looked for; 2.x deletes the platform manifests of multi-arch images '
                                 '(distribution#3178)' % version)
            return
        indexes = storage.image_indexes(data_dir)
        if indexes:
            shown = ', '.join('%s@%s' % (r, d[:19]) for r, d in indexes[:5])
            raise GcError('delete_untagged refused: the storage holds %d multi-arch image index(es) (%s%s) and '
                          'Distribution %s deletes their untagged platform manifests, which breaks pulls of those '
                          'tagged images (distribution#3178, fixed in 3.0). Run without delete_untagged, or upgrade '
                          'registry_image to registry:3. Nothing was changed.'
                          % (len(indexes), shown, ', ...' if len(indexes) > 5 else '', version))

    def _garbage_collect(self, spec, container, config_path, dry_run):
        argv = [spec.binary, 'garbage-collect']
        if dry_run:
            argv.append('--dry-run')
        if spec.delete_untagged:
            argv.append('--delete-untagged')
        argv.append(config_path)
        code, text = self._exec(container, argv, 'garbage-collect%s' % (' --dry-run' if dry_run else ''))
        if code != 0:
            raise GcError('%s in %s exited with %s%s:\n%s' % (' '.join(argv[1:]), container['Name'].lstrip('/'), code,
                                                              '' if dry_run else ' (the registry is read-write again)'
                                                              if spec.restore else '', output.tail(text, LOG_LINES)))
        try:
            parsed = output.parse_gc_output(text)
        except output.GcOutputError as exc:
            raise GcError('%s: %s:\n%s' % (' '.join(argv[1:]), exc, output.tail(text, LOG_LINES)))
        parsed['output'] = output.tail(text, LOG_LINES)
        return parsed

    def _usage(self, spec, data_dir):
        if not data_dir:
            return None
        usage = disk_usage(data_dir, spec.max_files)
        if not usage['complete']:
            self.warnings.append('%s holds more than max_files=%d files: bytes are counted for those only'
                                 % (data_dir, spec.max_files))
        return usage['bytes']

    def _enter(self, spec, original):
        """Stop the registry container, start its read-only twin; the twin's inspect. On a failure the registry
        container is started again."""
        name = twin.twin_name(spec.name)
        leftover = self._inspect(name)
        if leftover is not None:
            self._remove(leftover['Id'])
        try:
            twin_id = self.client.create_container_from_config(twin.twin_config(original, spec.name), name)['Id']
        except Exception as exc:
            raise GcError('creating the read-only twin %s failed (the registry is untouched): %s' % (name, exc))
        try:
            self.client.stop(original['Id'], timeout=spec.stop_timeout)
        except Exception as exc:
            self._remove(twin_id)
            raise GcError('stopping %s for the read-only window failed (it keeps running): %s' % (spec.name, exc))
        problem = self._start(spec, twin_id, 'the read-only twin %s' % name, raise_problem=False)
        if problem:
            logs = self._logs(twin_id)
            self._remove(twin_id)
            again = self._start(spec, original['Id'], 'registry container %s' % spec.name, raise_problem=False)
            raise GcError('the read-only twin %s does not answer: %s\nthe registry container was started again%s; '
                          'last log lines of the twin:\n%s' % (name, problem, ' but does not answer: %s' % again
                                                               if again else '', logs))
        return self._inspect(twin_id)

    def _leave(self, spec, original, current_twin):
        """Stop the twin, start the registry container, remove the twin. If the registry does not answer, the twin is
        started again (pulls keep working) and the failure says so."""
        try:
            self.client.stop(current_twin['Id'], timeout=spec.stop_timeout)
        except Exception as exc:
            raise GcError('stopping the read-only twin of %s failed (the registry stays read-only): %s'
                          % (spec.name, exc))
        problem = self._start(spec, original['Id'], 'registry container %s' % spec.name, raise_problem=False)
        if problem:
            logs = self._logs(original['Id'])
            again = self._start(spec, current_twin['Id'], 'the read-only twin', raise_problem=False)
            raise GcError('registry container %s does not answer after the read-only window: %s\n%s; last log lines:\n%s'
                          % (spec.name, problem, 'the read-only twin serves pulls again' if not again else
                             'the read-only twin does not answer either: %s' % again, logs))
        self._remove(current_twin['Id'])

    def _start(self, spec, container_id, label, raise_problem=True):
        try:
            self.client.start(container_id)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            problem = 'starting %s failed: %s' % (label, exc)
        else:
            problem = ready.wait_until_answering(lambda: twin.probe_target(self._inspect(container_id) or {}),
                                                 spec.timeout, lambda: self._crashed(container_id))
        if problem and raise_problem:
            raise GcError(problem)
        return problem

    def _crashed(self, container_id):
        inspect = self._inspect(container_id) or {}
        state = inspect.get('State') or {}
        if not inspect or state.get('Status') in ('exited', 'dead'):
            return 'the container exited (exit code %s)' % state.get('ExitCode')
        return None

    def _exec(self, container, argv, label):
        try:
            exec_id = self.client.exec_create(container['Id'], argv, stdout=True, stderr=True)['Id']
            data = self.client.exec_start(exec_id)
            code = self.client.exec_inspect(exec_id).get('ExitCode')
        except Exception as exc:
            raise GcError('%s in %s could not run: %s' % (label, (container.get('Name') or '').lstrip('/'), exc))
        text = data.decode('utf-8', 'replace') if isinstance(data, bytes) else str(data)
        return code, text

    def _inspect(self, name):
        try:
            return self.client.inspect_container(name)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if getattr(getattr(exc, 'response', None), 'status_code', None) == 404 or 'No such container' in str(exc):
                return None
            raise GcError('container %s cannot be inspected: %s' % (name, exc))

    def _remove(self, container_id):
        try:
            self.client.remove_container(container_id, force=True)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self.warnings.append('removing the read-only twin %s failed: %s' % (container_id[:12], exc))

    def _logs(self, container_id):
        try:
            return self.client.logs(container_id, tail=LOG_LINES).decode('utf-8', 'replace')
        except Exception as exc:  # pylint: disable=broad-exception-caught
            return '(logs unavailable: %s)' % exc

    @staticmethod
    def _running(inspect):
        return bool(inspect and (inspect.get('State') or {}).get('Running'))
