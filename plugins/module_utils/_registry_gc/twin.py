# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The read-only twin of a registry container, built from its ``docker inspect``. Pure.

Distribution serves pulls but refuses writes while ``storage.maintenance.readonly.enabled`` is true, and reads its
configuration only at start. Instead of rewriting config.yml (which would change the restart hash the server side
keeps in the container's label, and need the server side to put it back), the window runs a twin: the same image
ID, command, mounts, ports, network, environment and labels, plus the environment override
``REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}`` that Distribution applies on top of config.yml. The
original container is only stopped and started again, so its identity and labels survive the window untouched.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import json

READONLY_ENV = 'REGISTRY_STORAGE_MAINTENANCE_READONLY'
READONLY_VALUE = '{"enabled":true}'
TWIN_SUFFIX = '-berth-readonly'
TWIN_LABEL = 'berth.registry.readonly-twin-of'
DEFAULT_CONFIG = '/etc/docker/registry/config.yml'
DEFAULT_ROOT = '/var/lib/registry'
# Config keys of an inspect that create accepts as they are (Hostname and Domainname are left to the engine).
_CONFIG_KEYS = ('User', 'ExposedPorts', 'Tty', 'OpenStdin', 'StdinOnce', 'Cmd', 'Healthcheck', 'ArgsEscaped',
                'Volumes', 'WorkingDir', 'Entrypoint', 'StopSignal', 'StopTimeout', 'Shell')
_DEFAULT_NETWORKS = ('default', 'bridge', 'host', 'none')


def twin_name(name):
    return name + TWIN_SUFFIX


def is_readonly_env(env):
    """True when an environment list carries the read-only override with enabled: true."""
    for item in env or []:
        key, sep, value = item.partition('=')
        if key == READONLY_ENV and sep:
            try:
                return bool(json.loads(value).get('enabled'))
            except (ValueError, AttributeError):
                return False
    return False


def twin_config(inspect, name):
    """The create body (Config + HostConfig + NetworkingConfig) of the read-only twin of ``inspect``."""
    config = inspect.get('Config') or {}
    body = dict((key, config[key]) for key in _CONFIG_KEYS if key in config)
    body['Image'] = inspect['Image']  # the image ID the container runs, not whatever the tag names now
    body['Env'] = [e for e in config.get('Env') or [] if e.partition('=')[0] != READONLY_ENV]
    body['Env'].append('%s=%s' % (READONLY_ENV, READONLY_VALUE))
    body['Labels'] = dict(config.get('Labels') or {}, **{TWIN_LABEL: name})
    host_config = dict(inspect.get('HostConfig') or {})
    host_config['RestartPolicy'] = {'Name': 'no', 'MaximumRetryCount': 0}
    body['HostConfig'] = host_config
    mode = host_config.get('NetworkMode') or 'default'
    if mode not in _DEFAULT_NETWORKS and not mode.startswith('container:'):
        short_id = (inspect.get('Id') or '')[:12]
        networks = ((inspect.get('NetworkSettings') or {}).get('Networks') or {})
        endpoints = {}
        for network, settings in networks.items():
            aliases = [a for a in (settings or {}).get('Aliases') or [] if a != short_id]
            endpoints[network] = {'Aliases': aliases} if aliases else {}
        body['NetworkingConfig'] = {'EndpointsConfig': endpoints}
    return body


def config_path(inspect):
    """The config file the registry was started with: the last ``.yml``/``.yaml`` argument of its command."""
    config = inspect.get('Config') or {}
    argv = list(config.get('Entrypoint') or []) + list(config.get('Cmd') or [])
    for arg in reversed(argv):
        if isinstance(arg, str) and arg.endswith(('.yml', '.yaml')):
            return arg
    return DEFAULT_CONFIG


def data_source(inspect, rootdirectory=DEFAULT_ROOT):
    """The host path mounted at the storage's root directory (a bind's source, a volume's mount point), or None."""
    for mount in inspect.get('Mounts') or []:
        if mount.get('Destination') == rootdirectory:
            return mount.get('Source') or None
    return None


def probe_target(inspect):
    """(address, container port) where the container's registry listens: its address on its first network and the
    first published container port; None when it cannot be told (host network without published ports)."""
    host_config = inspect.get('HostConfig') or {}
    bindings = host_config.get('PortBindings') or {}
    exposed = (inspect.get('Config') or {}).get('ExposedPorts') or {}
    ports = sorted(bindings) or sorted(exposed)
    port = None
    for key in ports:
        number, dummy, proto = key.partition('/')
        if proto in ('', 'tcp') and number.isdigit():
            port = int(number)
            break
    settings = inspect.get('NetworkSettings') or {}
    addresses = [n.get('IPAddress') for n in (settings.get('Networks') or {}).values() if n and n.get('IPAddress')]
    address = addresses[0] if addresses else settings.get('IPAddress') or None
    if (host_config.get('NetworkMode') or '') == 'host':
        address = '127.0.0.1'
    if port is None or not address:
        return None
    return address, port
