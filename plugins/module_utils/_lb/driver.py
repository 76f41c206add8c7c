# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LbDriver: the registry_lb module's body. One Differences tracker decides ``changed``.

state=present: render haproxy.cfg (and the redis drop-in), compare with the host, and unless in check
mode: validate the new haproxy.cfg with ``haproxy -c`` before it replaces the old one, write it, reload
HAProxy gracefully (or start it when it is not running; never a restart), then wait for the servers in
``wait_for``. state=healthy: only wait until HAProxy sees the servers in ``wait_for`` UP.

A missing program (haproxy, redis-server) is reported before anything changes, as ``missing_packages``;
the registry_lb action plugin installs them and runs the module again.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time

from ansible_collections.berth.registry.plugins.module_utils import _files
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._names import endpoint_text
from ansible_collections.berth.registry.plugins.module_utils._lb import haproxy_config, redis_config, stats
from ansible_collections.berth.registry.plugins.module_utils._lb.errors import (
    ConfigRejected, LbInputError, MissingPackages, ServiceError,
)
from ansible_collections.berth.registry.plugins.module_utils._lb.service import Service
from ansible_collections.berth.registry.plugins.module_utils._lb.spec import LbSpec

PACKAGES = {'haproxy': 'haproxy', 'redis-server': 'redis-server'}
SOCKET_WAIT = 10.0
CONFIG_MODE = 0o644
CACHE_MODE = 0o640
CACHE_GROUP = 'redis'


def _text(data):
    return None if data is None else data.decode('utf-8', 'replace')


class LbDriver(object):
    """One registry_lb run. ``service_factory(name)`` and ``clock``/``sleep`` are injectable for tests."""

    def __init__(self, module, service_factory=None, clock=time.monotonic, sleep=time.sleep):
        self.module = module
        self.files = _files.FileWriter(module)
        self.service_factory = service_factory or (lambda name: Service(name, module.run_command))
        self.clock, self.sleep = clock, sleep
        self.tracker = Differences()
        self.warnings = []

    def run(self):
        spec = LbSpec(self.module.params)
        try:
            if spec.state == 'healthy':
                facts = self._healthy(spec)
            else:
                facts = self._present(spec)
        finally:
            for warning in self.warnings:
                self.module.warn(warning)
        return self.tracker.result(self.module._diff, header='registry_lb', **facts)

    # --- state=healthy ----------------------------------------------------------------------------

    def _read(self, spec):
        return stats.read_servers(spec.stats_socket, spec.name)

    def _wait(self, spec):
        return stats.wait_until_up(lambda: self._read(spec), spec.wait_for, spec.wait_timeout,
                                   spec.check.settle_seconds(), self.clock, self.sleep)

    def _healthy(self, spec):
        if self.module.check_mode:
            # nothing was recreated in check mode: report HAProxy's view once instead of waiting
            servers = self._read(spec)
            down = [n for n in spec.wait_for if not stats.is_up(servers.get(n))]
            if down:
                self.warnings.append('not UP in HAProxy now: %s' % stats.describe(servers, down))
            return dict(servers=servers)
        return dict(servers=self._wait(spec))

    # --- state=present ----------------------------------------------------------------------------

    def _present(self, spec):
        module, tracker = self.module, self.tracker
        facts = dict(config_path=spec.config_path, service='none', servers={})
        current = _files.read_file(spec.config_path, 'config_path')
        cache_current = self._read_cache(spec.cache) if spec.cache else None
        if spec.check.ca_file and not os.path.isfile(spec.check.ca_file):
            if not module.check_mode:
                raise LbInputError('check.ca_file: %s is not a file on this host' % spec.check.ca_file)
            self.warnings.append('check.ca_file: %s is not a file on this host (yet)' % spec.check.ca_file)
        missing = [p for p in (['haproxy'] + (['redis-server'] if spec.cache else []))
                   if not module.get_bin_path(p)]
        if missing and not module.check_mode:
            raise MissingPackages([PACKAGES[p] for p in missing], missing)

        desired = haproxy_config.render(spec).encode('utf-8')
        config_differs = current != desired
        if config_differs:
            tracker.add('haproxy.cfg', _text(current), desired.decode('utf-8'), text=True)
        config_attrs = None
        if current is not None:
            config_attrs = self.files.attrs(spec.config_path, CONFIG_MODE, 'root', None)
            self.files.record_attributes(tracker, 'haproxy.cfg', config_attrs)
        haproxy = self.service_factory('haproxy')
        running = 'haproxy' not in missing and haproxy.running()
        if not running:
            tracker.add('haproxy', 'absent' if 'haproxy' in missing else 'stopped', 'running')
        enable = 'haproxy' not in missing and not haproxy.enabled()
        if enable:
            tracker.add('haproxy enabled at boot', False, True)
        cache_plan = self._plan_cache(spec.cache, cache_current, missing) if spec.cache else None

        if missing:  # check mode only: the action plugin adds the packages
            facts['missing_packages'] = [PACKAGES[p] for p in missing]
        if module.check_mode:
            facts['service'] = 'skipped' if tracker else 'none'
            if cache_plan:
                facts['cache'] = dict(config_path=spec.cache.config_path, service='skipped' if cache_plan['act'] else 'none')
            return facts

        if config_differs:
            self._validate(spec, desired)
            self.files.write(config_attrs or self.files.attrs(spec.config_path, CONFIG_MODE, 'root', None), desired)
        elif config_attrs:
            self.files.apply_attributes(config_attrs)
        if enable:
            haproxy.act('enable')
        if not running:
            haproxy.act('start')
            facts['service'] = 'started'
        elif config_differs:
            haproxy.act('reload')
            facts['service'] = 'reloaded'
        if cache_plan:
            facts['cache'] = self._apply_cache(spec.cache, cache_plan)
        if spec.wait_for:
            facts['servers'] = self._wait(spec)
        else:
            facts['servers'] = self._servers_after(spec, facts['service'])
        return facts

    def _validate(self, spec, data):
        """``haproxy -c`` on the new text, staged next to the config file; nothing is written when it refuses."""
        directory = os.path.dirname(spec.config_path)
        if not os.path.isdir(directory):
            raise LbInputError('config_path: directory %s does not exist' % directory)
        fd, stage = tempfile.mkstemp(prefix='.haproxy.', suffix='.cfg.berth', dir=directory)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(data)
            rc, out, err = self.module.run_command([self.module.get_bin_path('haproxy', required=True), '-c', '-f', stage])
        finally:
            os.unlink(stage)
        if rc != 0:
            text = ('%s\n%s' % (out, err)).replace(stage, spec.config_path).strip()
            raise ConfigRejected('haproxy -c refused the new %s (the old file is untouched): %s'
                                 % (spec.config_path, text[-3000:]))

    def _servers_after(self, spec, service):
        """HAProxy's view of the servers for the result: once, or after a start/reload until the socket answers."""
        deadline = self.clock() + (SOCKET_WAIT if service != 'none' else 0)
        while True:
            try:
                return self._read(spec)
            except ServiceError as exc:
                if self.clock() >= deadline:
                    if service != 'none':
                        raise ServiceError('HAProxy was %s but does not answer: %s' % (service, exc))
                    self.warnings.append(str(exc))
                    return {}
            self.sleep(0.2)

    # --- the redis cache --------------------------------------------------------------------------

    def _read_cache(self, cache):
        return dict(dropin=_files.read_text(cache.config_path, 'cache.config_path'),
                    main=_files.read_text(cache.redis_config_path, 'cache.redis_config_path'))

    def _plan_cache(self, cache, current, missing):
        found = Differences()
        desired = redis_config.render(cache)
        before = redis_config.parse(current['dropin']) if current['dropin'] is not None else {}
        after = dict(redis_config.directives(cache))
        for name in redis_config.SHOWN:
            if before.get(name) != after.get(name):
                found.add('cache %s' % name, before.get(name), after.get(name))
        if before.get(redis_config.SECRET) != after.get(redis_config.SECRET):
            found.add('cache password', before.get(redis_config.SECRET), after.get(redis_config.SECRET), secret=True)
        write_dropin = current['dropin'] != desired
        if write_dropin and current['dropin'] is not None and not found:
            found.add('cache config', 'other content', 'managed content')
        attrs = None
        if current['dropin'] is not None and 'redis-server' not in missing:
            attrs = self.files.attrs(cache.config_path, CACHE_MODE, 'root', CACHE_GROUP)
            self.files.record_attributes(found, 'cache config', attrs)
        add_include = not redis_config.has_include(current['main'], cache.config_path)
        if add_include:
            found.add('redis.conf include', None, cache.config_path)
        if current['main'] is None and 'redis-server' not in missing and not self.module.check_mode:
            raise LbInputError('cache.redis_config_path: %s does not exist; is redis-server installed?'
                               % cache.redis_config_path)
        redis = self.service_factory('redis-server')
        running = 'redis-server' not in missing and redis.running()
        if not running:
            found.add('redis-server', 'absent' if 'redis-server' in missing else 'stopped', 'running')
        self.tracker.extend(found)
        return dict(desired=desired, write=write_dropin, attrs=attrs, include=add_include, running=running, service=redis,
                    main=current['main'], act=write_dropin or add_include or not running)

    def _apply_cache(self, cache, plan):
        if plan['write']:
            self.files.write(plan['attrs'] or self.files.attrs(cache.config_path, CACHE_MODE, 'root', CACHE_GROUP),
                             plan['desired'].encode('utf-8'))
        elif plan['attrs']:
            self.files.apply_attributes(plan['attrs'])
        if plan['include']:
            self.files.write(self.files.attrs(cache.redis_config_path), redis_config.with_include(
                plan['main'], cache.config_path).encode('utf-8'))
        service = 'none'
        if not plan['running']:
            plan['service'].act('start')
            service = 'started'
        elif plan['write'] or plan['include']:
            plan['service'].act('restart')
            service = 'restarted'
        if service != 'none':
            self._wait_port(cache)
        return dict(config_path=cache.config_path, service=service)

    def _wait_port(self, cache):
        address = cache.bind[0]
        deadline = self.clock() + SOCKET_WAIT
        while True:
            try:
                socket.create_connection((address, cache.port), timeout=1).close()
                return
            except OSError as exc:
                if self.clock() >= deadline:
                    raise ServiceError('redis-server does not answer on %s after a start: %s'
                                       % (endpoint_text(address, cache.port), exc))
            self.sleep(0.2)
