# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ContainerDriver: brings one registry container to a ContainerSpec through a Docker APIClient.

Reusable from any module: it takes plain values (a ContainerSpec, a client, check mode, a
FileWriter), returns its Differences and a result dict, raises BerthError subclasses and never
exits. ``changed``, ``differences`` and ``diff`` come from the returned tracker.

A recreate is a swap: the new container is created under a temporary name (an engine refusal
leaves the old one running), the old one is stopped (they publish the same ports) but kept, the new
one starts and must answer; only then is the old one removed and the new one renamed. When the new
one does not answer, it is removed and the old one started again.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._docker_sdk import EngineError, NotFound
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter
from ansible_collections.berth.registry.plugins.module_utils._registry_container import fields, host_files, image, probe
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import (
    ContainerInputError,
    NotAnswering,
    SwapError,
)

TEMPORARY_SUFFIX = '-berth-new'
LOG_LINES_ON_FAILURE = 30
STOP_TIMEOUT = 10


def container_summary(inspect):
    """The plain facts the result carries about a container (never its environment)."""
    if not inspect:
        return {}
    state = inspect.get('State') or {}
    return {
        'id': inspect.get('Id'),
        'name': (inspect.get('Name') or '').lstrip('/'),
        'image_id': inspect.get('Image'),
        'started_at': state.get('StartedAt'),
        'status': state.get('Status'),
    }


def is_running(inspect):
    return bool(inspect and (inspect.get('State') or {}).get('Running'))


def empty_result(container=None):
    """The result fields every state returns (the differences come from the tracker)."""
    return {'container': container_summary(container), 'recreated': False, 'image_loaded': False,
            'image_pulled': False}


def scrub(text, secrets):
    """text with every secret value replaced by ********."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, '********')
    return text


class ContainerDriver(object):
    """One run against one engine. ``run(spec)`` -> (Differences, result dict); ``warnings`` after it."""

    def __init__(self, client, check_mode=False, files=None, ready_check=None):
        """``ready_check(spec, url_opener)``: run after the probe answered on a (re)start; returns None, or the
        problem (the start then counts as failed: rollback, log lines) - e.g. the server's storage check."""
        self.client = client
        self.check_mode = check_mode
        self.files = files or FileWriter()
        self.ready_check = ready_check
        self.warnings = []
        self._secrets = set()

    def run(self, spec, files_hash=None):
        """Bring the container to ``spec.state``; no secret_env value (new or the container's) leaves in a message.

        ``files_hash``: the restart files' content hash computed by the caller from what they WILL hold
        (``host_files.contents_hash``), used instead of reading ``spec.restart_files`` (leave those empty then).
        """
        self._secrets = secrets = set(spec.secrets)
        if files_hash is not None and spec.restart_files:
            raise ContainerInputError('restart_files and a precomputed files hash: give one of them')
        try:
            if spec.state == 'started':
                return self._started(spec, files_hash)
            return getattr(self, '_' + spec.state)(spec)
        except BerthError as exc:
            if any(secret in str(exc) for secret in secrets):
                raise type(exc)(scrub(str(exc), secrets), **exc.result)
            raise
        except Exception as exc:
            if any(secret in str(exc) for secret in secrets):
                raise EngineError('%s: %s' % (type(exc).__name__, scrub(str(exc), secrets)))
            raise

    # --- state=started ------------------------------------------------------------------------

    def _started(self, spec, precomputed_hash=None):
        result = empty_result()
        missing = host_files.check(spec)
        if missing and not self.check_mode:
            raise ContainerInputError('; '.join(missing))
        if missing:
            # Earlier tasks of a role would have created them; check mode did not run those.
            self.warnings.append('%s (yet); in check mode the container is reported as to be (re)created'
                                 % '; '.join(missing))
        if precomputed_hash is not None:
            files_hash = precomputed_hash
        else:
            files_hash = host_files.PENDING if missing else host_files.files_hash(spec.restart_files)
        archive_id = None
        if spec.image_archive and not any(m.startswith('image_archive') for m in missing):
            archive_id = image.archive_image_id(spec.image_archive, image.image_reference(spec.image))
        url_opener = probe.opener(spec.probe) if spec.probe['enabled'] and not missing else None

        old = self._inspect(spec.name)
        outcome = image.ensure_image(self.client, spec, archive_id, self.check_mode)
        result.update(image_pulled=outcome.pulled, image_loaded=outcome.loaded, container=container_summary(old))
        config = outcome.config
        if config is None and old:
            config = (image.inspect_image(self.client, old['Image']) or {}).get('Config')
        resolved = fields.Resolved(outcome.id, config, files_hash)

        tracker = Differences()
        if outcome.changed:
            tracker.add('local image', outcome.before_id, outcome.id or fields.IMAGE_TO_COME)
        action = self._plan_started(spec, resolved, old, tracker)
        mode_differs = False
        if spec.data_dir and spec.data_dir_mode is not None and host_files.data_dir_exists(spec):
            mode_differs = self.files.record_attributes(tracker, 'data_dir', self.files.attrs(spec.data_dir, spec.data_dir_mode))
        if self.check_mode:
            return tracker, result

        if spec.data_dir and (action == 'create' or mode_differs):
            self.files.ensure_directory(spec.data_dir, spec.data_dir_mode)
        if action == 'create':
            result['container'] = container_summary(self._swap(spec, resolved, old, url_opener))
            result['recreated'] = old is not None
        elif action == 'start':
            result['container'] = container_summary(self._start_existing(spec, old, url_opener))
        return tracker, result

    def _plan_started(self, spec, resolved, old, tracker):
        """Record what differs and return the action: 'create' (or recreate), 'start' or None."""
        found = Differences()
        if old is None:
            found.add('container', None, 'running')
        else:
            fields.compare(spec, resolved, old, found)
            if spec.recreate == 'always':
                found.add('recreate', None, 'always')
        if spec.data_dir and not host_files.data_dir_exists(spec):
            found.add('data_dir', None, 'directory')
        if old is not None and found and spec.recreate == 'never':
            self.warnings.append('container %s differs from the options (%s) but recreate=never'
                                 % (spec.name, ', '.join(found.fields)))
            found = Differences()
        if old is not None and not found and not is_running(old):
            tracker.add('status', (old.get('State') or {}).get('Status'), 'running')
            return 'start'
        tracker.extend(found)
        return 'create' if found else None

    def _swap(self, spec, resolved, old, url_opener):
        """Create under a temporary name, stop the old one, start the new one until it answers, then
        remove the old one and rename the new one. Returns the new container's inspect."""
        temporary = spec.name + TEMPORARY_SUFFIX
        request = fields.create_request(spec, resolved, temporary)
        try:
            leftover = self._inspect(temporary)
            if leftover:
                self.client.remove_container(leftover['Id'], force=True)
            new_id = request.create(self.client)['Id']
        except Exception as exc:
            raise SwapError('creating the new container for %s failed (the old one is untouched): %s' % (spec.name, exc))
        was_running = is_running(old)
        if was_running:
            try:
                self.client.stop(old['Id'], timeout=STOP_TIMEOUT)
            except Exception as exc:
                self._discard(new_id)
                raise SwapError('stopping the old container %s failed (it is kept; the new one was removed): %s'
                                % (spec.name, exc))
        problem = self._start_and_probe(spec, new_id, url_opener)
        if problem:
            logs = self._logs(new_id)
            self._discard(new_id)
            if was_running:
                try:
                    self.client.start(old['Id'])
                    previous = 'the previous container was started again'
                except Exception as exc:
                    previous = 'starting the previous container again failed: %s' % exc
            else:
                previous = 'the previous container is kept as it was' if old else 'there was no previous container'
            raise NotAnswering('registry container %s does not answer: %s\nthe new container was removed; %s\n'
                               'last %d log lines:\n%s' % (spec.name, problem, previous, LOG_LINES_ON_FAILURE, logs))
        try:
            if old:
                self.client.remove_container(old['Id'], force=True)
            self.client.rename(new_id, spec.name)
        except Exception as exc:
            raise SwapError('the new container answers as %s, but replacing %s by it failed: %s'
                            % (temporary, spec.name, exc))
        return self._inspect(new_id)

    def _start_existing(self, spec, old, url_opener):
        problem = self._start_and_probe(spec, old['Id'], url_opener)
        if problem:
            raise NotAnswering('registry container %s does not answer: %s\nlast %d log lines:\n%s'
                               % (spec.name, problem, LOG_LINES_ON_FAILURE, self._logs(old['Id'])))
        return self._inspect(old['Id'])

    def _start_and_probe(self, spec, container_id, url_opener):
        """None when the container started (and answers, unless the probe is off); else the problem."""
        try:
            self.client.start(container_id)
        except Exception as exc:
            return 'starting it failed: %s' % exc
        if not spec.probe['enabled']:
            return None
        problem = probe.wait_until_answering(spec.probe, lambda: self._crashed(container_id), url_opener)
        if problem is None and self.ready_check is not None:
            problem = self.ready_check(spec, url_opener or probe.opener(spec.probe))
        return problem

    def _crashed(self, container_id):
        inspect = self._inspect(container_id) or {}
        state = inspect.get('State') or {}
        restarts = inspect.get('RestartCount') or 0
        if not inspect or state.get('Status') in ('exited', 'dead') or restarts > 0:
            return 'the container exited (exit code %s, restarts %s)' % (state.get('ExitCode'), restarts)
        return None

    # --- state=stopped / absent ---------------------------------------------------------------

    def _stopped(self, spec):
        old = self._inspect(spec.name)
        tracker, result = Differences(), empty_result(old)
        if not is_running(old):
            return tracker, result
        tracker.add('status', old['State'].get('Status'), 'exited')
        if not self.check_mode:
            try:
                self.client.stop(old['Id'], timeout=STOP_TIMEOUT)
            except Exception as exc:
                raise SwapError('stopping container %s failed: %s' % (spec.name, exc))
            result['container'] = container_summary(self._inspect(old['Id']))
        return tracker, result

    def _absent(self, spec):
        old = self._inspect(spec.name)
        host_files.check(spec)
        tracker, result = Differences(), empty_result(old)
        if old:
            tracker.add('container', (old.get('State') or {}).get('Status'), None)
        if spec.remove_data:
            self._data_differences(spec, tracker)
        if self.check_mode or not tracker:
            return tracker, result
        try:
            if old:
                if is_running(old):
                    self.client.stop(old['Id'], timeout=STOP_TIMEOUT)
                self.client.remove_container(old['Id'])
            if spec.remove_data:
                self._remove_data(spec)
        except BerthError:
            raise
        except Exception as exc:
            raise SwapError('removing container %s or its data failed: %s' % (spec.name, exc))
        result['container'] = {}
        return tracker, result

    def _data_differences(self, spec, tracker):
        if spec.data_volume:
            try:
                self.client.inspect_volume(spec.data_volume)
            except NotFound:
                return
            tracker.add('data_volume', spec.data_volume, None)
            return
        if host_files.is_root(spec.data_dir):
            raise ContainerInputError('data_dir: %s resolves to / : refusing to remove its contents' % spec.data_dir)
        if host_files.has_entries(spec.data_dir):
            tracker.add('data_dir', '%s (not empty)' % spec.data_dir, '%s (empty)' % spec.data_dir)

    def _remove_data(self, spec):
        if spec.data_volume:
            try:
                self.client.remove_volume(spec.data_volume)
            except NotFound:
                pass
            return
        host_files.empty_directory(spec.data_dir)

    # --- engine helpers -----------------------------------------------------------------------

    def _inspect(self, name):
        """The container's inspect or None; its secret_env values join those kept out of messages."""
        try:
            inspect = self.client.inspect_container(name)
            self._secrets.update(v for v in fields.current_secret_env(inspect).values() if v)
            return inspect
        except NotFound:
            return None
        except Exception as exc:
            raise EngineError('container %s cannot be inspected: %s' % (name, exc))

    def _discard(self, container_id):
        try:
            self.client.remove_container(container_id, force=True)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self.warnings.append('removing the new container %s failed: %s' % (container_id[:12], exc))

    def _logs(self, container_id):
        try:
            return self.client.logs(container_id, tail=LOG_LINES_ON_FAILURE).decode('utf-8', 'replace')
        except Exception as exc:  # pylint: disable=broad-exception-caught
            return '(logs unavailable: %s)' % exc
