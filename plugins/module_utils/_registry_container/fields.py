# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The field table: every container field this collection manages, in one list.

Each ``Field`` knows its options (argument spec entries) and how to check them, its desired value
(from the ContainerSpec and what the run resolved on the host), its current value (from
``docker inspect``), how it is compared (one value, or a mapping compared key by key), whether a
value is secret (then the difference tracker masks it), how a value is shown, what it contributes
to the create call, and the line that documents it in RETURN's ``differences``.

To manage one more field, add one ``Field(...)`` to ``FIELDS`` (and document its options in the
module's DOCUMENTATION; tests/unit/.../test_fields.py prints the RETURN line to paste).
Pure: no I/O.
"""

from __future__ import annotations

import re

from ansible_collections.berth.registry.plugins.module_utils._registry_container import validators
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ContainerInputError

FILES_HASH_LABEL = 'berth.registry.files-hash'
SECRET_ENV_LABEL = 'berth.registry.secret-env'
RESERVED_LABELS = (FILES_HASH_LABEL, SECRET_ENV_LABEL)
DATA_MOUNT = '/var/lib/registry'
CONFIG_MOUNT = '/etc/docker/registry'
DEFAULT_DATA_DIR = '/var/lib/registry'
DEFAULT_COMMAND = ['serve', '/etc/docker/registry/config.yml']
DEFAULT_PORT = {'host_port': 5000, 'container_port': 5000, 'bind_address': '0.0.0.0', 'protocol': 'tcp'}
PULL_CHOICES = ['missing', 'always', 'never']
RESTART_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure']
PROTOCOLS = ['tcp', 'udp']
SECRET_LOOKING_NAME = re.compile(r'SECRET|PASSW|TOKEN|KEY|CREDENTIAL|AUTH', re.I)
IMAGE_TO_COME = 'image still to be pulled or loaded'

# Differences the driver records that are not container fields (name, what it means).
STATE_DIFFERENCES = [
    ('container', 'the container appears (before is none) or goes (after is none)'),
    ('status', 'an existing container is started or stopped'),
    ('local image', 'what the image name resolves to on the host, after a pull or a load'),
    ('data_dir', 'the data directory is created (or, with O(remove_data), emptied)'),
    ('data_dir mode', 'the permissions of the data directory (O(data_dir_mode))'),
    ('data_volume', 'the data volume is removed (O(remove_data))'),
    ('recreate', 'O(recreate=always) recreates the container'),
]


class Resolved(object):
    """What one run found on the host before comparing: the image the name resolves to (ID and
    config; None before a pull in check mode) and the content hash of the restart files."""

    def __init__(self, image_id=None, image_config=None, files_hash=None):
        self.image_id = image_id
        self.image_config = image_config or {}
        self.files_hash = files_hash


class CreateRequest(object):
    """The arguments of ``APIClient.create_container`` and ``create_host_config``, filled by the fields."""

    def __init__(self, name):
        self.container = {'name': name, 'detach': True}
        self.host_config = {}
        self.environment = {}
        self.labels = {}

    def create(self, client):
        host_config = client.create_host_config(**self.host_config)
        return client.create_container(host_config=host_config, environment=self.environment, labels=self.labels,
                                       **self.container)


class Field(object):
    """One managed field. ``desired(spec, resolved)``, ``current(inspect, resolved)``,
    ``apply(request, spec, resolved)``, ``check(spec)`` (normalizes its options on the spec, raises
    ContainerInputError). ``mapping``: values are dicts, compared and shown key by key as
    ``name.key``. ``secret``: True, or ``secret(key, spec)`` for a mapping. ``show(value, after)``:
    how a non-secret value is shown (default: as is)."""

    def __init__(self, name, doc, options, check, desired, current, apply, mapping=False, secret=False, show=None):
        self.name = name
        self.doc = doc
        self.options = options
        self.check = check
        self.desired = desired
        self.current = current
        self.apply = apply
        self.mapping = mapping
        self._secret = secret
        self.show = show or (lambda value, after: value)

    def is_secret(self, spec, key=None):
        return self._secret(key, spec) if callable(self._secret) else bool(self._secret)

    def record(self, tracker, spec, resolved, inspect):
        """Add this field's differences between the spec and the container to the tracker."""
        before, after = self.current(inspect, resolved), self.desired(spec, resolved)
        if not self.mapping:
            if before != after:
                tracker.add(self.name, self.show(before, False), self.show(after, True), secret=self.is_secret(spec))
            return
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                tracker.add('%s.%s' % (self.name, key), before.get(key), after.get(key), secret=self.is_secret(spec, key))


# ------------------------------------------------------------------ helpers of the fields

def env_dict(env_list):
    result = {}
    for item in env_list or []:
        key, _sep, value = item.partition('=')
        result[key] = value
    return result


def own_entries(values, inherited):
    """The entries of ``values`` not inherited unchanged from the image."""
    return dict((k, v) for k, v in (values or {}).items() if (inherited or {}).get(k) != v)


def _config(inspect):
    return inspect.get('Config') or {}


def _host_config(inspect):
    return inspect.get('HostConfig') or {}


def secret_env_names(inspect):
    """Names of the variables the container got from secret_env (from its label, values never stored)."""
    names = (_config(inspect).get('Labels') or {}).get(SECRET_ENV_LABEL) or ''
    return [n for n in names.split(',') if n]


# --- image
def _check_image(spec):
    spec.image = validators.image_reference(spec.image)
    if spec.pull not in PULL_CHOICES:
        raise ContainerInputError('pull: %r is not allowed (allowed: %s)' % (spec.pull, ', '.join(PULL_CHOICES)))
    if spec.image_archive is not None:
        spec.image_archive = validators.absolute_path(spec.image_archive, 'image_archive')


def _apply_image(request, spec, resolved):
    request.container['image'] = spec.image


# --- ports
def normalize_ports(ports):
    """Validated copy of the ports option (None = the default 5000 on all addresses)."""
    if ports is None:
        return [dict(DEFAULT_PORT)]
    if not isinstance(ports, list):
        raise ContainerInputError('ports: must be a list of {host_port, container_port, bind_address, protocol}')
    result, seen = [], set()
    for index, port in enumerate(ports):
        option = 'ports[%d]' % index
        if not isinstance(port, dict):
            raise ContainerInputError('%s: must be a mapping {host_port, container_port, bind_address, protocol}' % option)
        if port.get('host_port') is None:
            raise ContainerInputError('%s.host_port is required' % option)
        port = dict(DEFAULT_PORT, **dict((k, v) for k, v in port.items() if v is not None))
        for key in ('host_port', 'container_port'):
            validators.port(port[key], '%s.%s' % (option, key))
        if port['protocol'] not in PROTOCOLS:
            raise ContainerInputError('%s.protocol: %r is not allowed (allowed: tcp, udp)' % (option, port['protocol']))
        port['bind_address'] = validators.bind_address(port['bind_address'], '%s.bind_address' % option)
        key = (port['bind_address'], port['host_port'], port['protocol'])
        if key in seen:
            raise ContainerInputError('%s: %s:%d/%s is published twice' % ((option,) + key))
        seen.add(key)
        result.append(port)
    return result


def _check_ports(spec):
    spec.ports = normalize_ports(spec.ports)


def port_specs(ports):
    return sorted('%s:%d->%d/%s' % (p['bind_address'], p['host_port'], p['container_port'], p['protocol']) for p in ports)


def current_port_specs(inspect, resolved=None):
    result = []
    for container_port, bindings in (_host_config(inspect).get('PortBindings') or {}).items():
        number, _sep, protocol = container_port.partition('/')
        for binding in bindings or []:
            address = binding.get('HostIp') or '0.0.0.0'
            result.append('%s:%s->%s/%s' % (address, binding.get('HostPort'), number, protocol or 'tcp'))
    return sorted(result)


def _apply_ports(request, spec, resolved):
    bindings = {}
    for p in spec.ports:
        bindings.setdefault('%d/%s' % (p['container_port'], p['protocol']), []).append((p['bind_address'], p['host_port']))
    request.container['ports'] = [(p['container_port'], p['protocol']) for p in spec.ports]
    request.host_config['port_bindings'] = bindings


# --- binds (data directory or volume, configuration directory)
def _check_binds(spec):
    if spec.data_dir is not None and spec.data_volume is not None:
        raise ContainerInputError('data_dir and data_volume: give one of them, not both')
    if spec.data_volume is not None:
        spec.data_volume = validators.docker_name(spec.data_volume, 'data_volume', 'volume')
    else:
        spec.data_dir = validators.absolute_path(spec.data_dir or DEFAULT_DATA_DIR, 'data_dir', bind=True)
        if spec.data_dir == '/':
            raise ContainerInputError("data_dir: '/' cannot be the registry's data directory (give a directory of its own)")
    spec.data_dir_mode = validators.file_mode(spec.data_dir_mode, 'data_dir_mode')
    if spec.config_dir is not None:
        spec.config_dir = validators.absolute_path(spec.config_dir, 'config_dir', bind=True)


def desired_binds(spec, resolved=None):
    result = ['%s:%s:rw' % (spec.data_volume or spec.data_dir, DATA_MOUNT)]
    if spec.config_dir:
        result.append('%s:%s:ro' % (spec.config_dir, CONFIG_MOUNT))
    return sorted(result)


def normalize_bind(bind):
    parts = bind.split(':')
    if len(parts) == 2:
        parts.append('rw')
    return ':'.join(parts)


def _apply_binds(request, spec, resolved):
    request.host_config['binds'] = desired_binds(spec)


# --- env and secret_env
def _check_env(spec):
    spec.env = validators.environment(spec.env, 'env')


def _check_secret_env(spec):
    spec.secret_env = validators.environment(spec.secret_env, 'secret_env', secret=True)
    both = sorted(set(spec.env) & set(spec.secret_env))
    if both:
        raise ContainerInputError('env and secret_env both set %s: give each variable in one of them (secrets in '
                                  'secret_env)' % ', '.join(both))


def _current_env(inspect, resolved):
    hidden = secret_env_names(inspect)
    own = own_entries(env_dict(_config(inspect).get('Env')), env_dict(resolved.image_config.get('Env')))
    return dict((k, v) for k, v in own.items() if k not in hidden)


def current_secret_env(inspect, resolved=None):
    values = env_dict(_config(inspect).get('Env'))
    return dict((name, values[name]) for name in secret_env_names(inspect) if name in values)


def _apply_env(request, spec, resolved):
    request.environment.update(spec.env)


def _apply_secret_env(request, spec, resolved):
    request.environment.update(spec.secret_env)
    if spec.secret_env:
        request.labels[SECRET_ENV_LABEL] = ','.join(sorted(spec.secret_env))


def _env_value_is_secret(key, spec):
    return bool(SECRET_LOOKING_NAME.search(key)) or key in spec.secret_env


# --- restart policy, command, labels
def _check_restart_policy(spec):
    if spec.restart_policy not in RESTART_POLICIES:
        raise ContainerInputError('restart_policy: %r is not allowed (allowed: %s)'
                                  % (spec.restart_policy, ', '.join(RESTART_POLICIES)))


def _apply_restart_policy(request, spec, resolved):
    request.host_config['restart_policy'] = {'Name': spec.restart_policy, 'MaximumRetryCount': 0}


def _check_command(spec):
    if spec.command is None:
        spec.command = list(DEFAULT_COMMAND)
    if not isinstance(spec.command, list):
        raise ContainerInputError('command: must be a list of arguments')
    spec.command = [validators.text(str(arg), 'command[%d]' % i, allow_empty=True) for i, arg in enumerate(spec.command)]


def _apply_command(request, spec, resolved):
    request.container['command'] = list(spec.command) or None


def _check_labels(spec):
    spec.labels = validators.labels(spec.labels, 'labels', reserved=RESERVED_LABELS)


def _current_labels(inspect, resolved):
    labels = dict((k, v) for k, v in (_config(inspect).get('Labels') or {}).items() if k not in RESERVED_LABELS)
    return own_entries(labels, resolved.image_config.get('Labels'))


def _apply_labels(request, spec, resolved):
    request.labels.update(spec.labels)


# --- restart files (content hash in a label)
def _check_restart_files(spec):
    if spec.restart_files is None:
        spec.restart_files = []
    if not isinstance(spec.restart_files, list):
        raise ContainerInputError('restart_files: must be a list of absolute paths')
    spec.restart_files = sorted(set(validators.absolute_path(p, 'restart_files') for p in spec.restart_files))


def _show_restart_files(value, after):
    if not value:
        return None
    return 'changed content' if after else 'content at last start'


def _apply_restart_files(request, spec, resolved):
    if resolved.files_hash:
        request.labels[FILES_HASH_LABEL] = resolved.files_hash


FIELDS = [
    Field('image', 'ID of the image the container runs (after a pull or load, what the name resolves to then)',
          options=dict(image=dict(type='str', default='registry:2'),
                       pull=dict(type='str', default='missing', choices=PULL_CHOICES),
                       image_archive=dict(type='path')),
          check=_check_image,
          desired=lambda spec, resolved: resolved.image_id,
          current=lambda inspect, resolved: inspect.get('Image'),
          apply=_apply_image,
          show=lambda value, after: value or (IMAGE_TO_COME if after else None)),
    Field('ports', 'published ports, as address:host_port->container_port/protocol',
          options=dict(ports=dict(type='list', elements='dict', options=dict(
              host_port=dict(type='int', required=True),
              container_port=dict(type='int', default=5000),
              bind_address=dict(type='str', default='0.0.0.0'),
              protocol=dict(type='str', default='tcp', choices=PROTOCOLS)))),
          check=_check_ports,
          desired=lambda spec, resolved: port_specs(spec.ports),
          current=current_port_specs,
          apply=_apply_ports),
    Field('binds', 'mounts, the data directory or volume, the configuration directory (read-only)',
          options=dict(data_dir=dict(type='path'), data_volume=dict(type='str'), config_dir=dict(type='path'),
                       data_dir_mode=dict(type='raw', default='0700')),
          check=_check_binds,
          desired=desired_binds,
          current=lambda inspect, resolved: sorted(normalize_bind(b) for b in _host_config(inspect).get('Binds') or []),
          apply=_apply_binds),
    Field('env', 'an environment variable set by O(env) (masked when its name looks secret)',
          options=dict(env=dict(type='dict', default={})),
          check=_check_env,
          desired=lambda spec, resolved: own_entries(spec.env, env_dict(resolved.image_config.get('Env'))),
          current=_current_env,
          apply=_apply_env,
          mapping=True, secret=_env_value_is_secret),
    Field('secret_env', 'a variable set by O(secret_env), only whether it appears, changes or goes, never a value',
          options=dict(secret_env=dict(type='dict', default={}, no_log=True)),
          check=_check_secret_env,
          desired=lambda spec, resolved: dict(spec.secret_env),
          current=current_secret_env,
          apply=_apply_secret_env,
          mapping=True, secret=True),
    Field('restart_policy', "Docker's restart policy",
          options=dict(restart_policy=dict(type='str', default='always', choices=RESTART_POLICIES)),
          check=_check_restart_policy,
          desired=lambda spec, resolved: spec.restart_policy,
          current=lambda inspect, resolved: (_host_config(inspect).get('RestartPolicy') or {}).get('Name') or 'no',
          apply=_apply_restart_policy),
    Field('command', "the arguments given to the image's entrypoint",
          options=dict(command=dict(type='list', elements='str', default=list(DEFAULT_COMMAND))),
          check=_check_command,
          desired=lambda spec, resolved: list(spec.command or resolved.image_config.get('Cmd') or []),
          current=lambda inspect, resolved: list(_config(inspect).get('Cmd') or []),
          apply=_apply_command),
    Field('labels', 'a container label set by O(labels)',
          options=dict(labels=dict(type='dict', default={})),
          check=_check_labels,
          desired=lambda spec, resolved: own_entries(spec.labels, resolved.image_config.get('Labels')),
          current=_current_labels,
          apply=_apply_labels,
          mapping=True),
    Field('restart_files', 'the content of O(restart_files), shown as changed, never as its hash',
          options=dict(restart_files=dict(type='list', elements='path', default=[])),
          check=_check_restart_files,
          desired=lambda spec, resolved: resolved.files_hash,
          current=lambda inspect, resolved: (_config(inspect).get('Labels') or {}).get(FILES_HASH_LABEL),
          apply=_apply_restart_files,
          show=_show_restart_files),
]


def option_specs(fields=None):
    """The argument spec entries of the fields' options."""
    result = {}
    for field in fields or FIELDS:
        result.update(field.options)
    return result


def check(spec, fields=None):
    """Check and normalize every field's options on the spec (in table order)."""
    for field in fields or FIELDS:
        field.check(spec)


def compare(spec, resolved, inspect, tracker, fields=None):
    """Record in the tracker every difference between the spec and the container ``inspect``."""
    for field in fields or FIELDS:
        field.record(tracker, spec, resolved, inspect)
    return tracker


def create_request(spec, resolved, name, fields=None):
    """The create arguments of a container that matches the spec, under ``name``."""
    request = CreateRequest(name)
    for field in fields or FIELDS:
        field.apply(request, spec, resolved)
    return request


def differences_field_doc(fields=None):
    """The description lines of RETURN ``differences[].field``, from the table."""
    lines = ['Which field differs. A mapping field has one entry per key, for example C(env.REGISTRY_LOG_LEVEL).']
    for field in fields or FIELDS:
        lines.append('C(%s%s) - %s.' % (field.name, '.NAME' if field.mapping else '', field.doc))
    for name, doc in STATE_DIFFERENCES:
        lines.append('C(%s) - %s.' % (name, doc))
    return lines
