# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CNCF Distribution registry container, driven through the Docker SDK.

The pure functions (validation, desired spec, comparison with ``docker inspect``)
are unit-tested without Docker; ``RegistryContainer`` does the I/O.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import shutil
import ssl
import tarfile
import time
import urllib.error
import urllib.request

from ansible_collections.berth.registry.plugins.module_utils._docker_sdk import (
    NotFound,
    create_client,
    parse_repository_tag,
)

FILES_HASH_LABEL = 'berth.registry.files-hash'
DATA_MOUNT = '/var/lib/registry'
CONFIG_MOUNT = '/etc/docker/registry'
DEFAULT_DATA_DIR = '/var/lib/registry'
DEFAULT_COMMAND = ['serve', '/etc/docker/registry/config.yml']
DEFAULT_PORTS = [{'host_port': 5000, 'container_port': 5000, 'bind_address': '0.0.0.0', 'protocol': 'tcp'}]
WILDCARD_ADDRESSES = ('', '0.0.0.0', '::')
PROBE_DEFAULTS = {'enabled': True, 'scheme': 'https', 'port': None, 'host': None, 'timeout': 60, 'ca_path': None}
LOG_LINES_ON_FAILURE = 30
STOP_TIMEOUT = 10
_SECRET_ENV_NAME = re.compile(r'SECRET|PASSW|TOKEN|KEY|CREDENTIAL', re.I)


def argument_spec():
    return dict(
        name=dict(type='str', default='registry'),
        image=dict(type='str', default='registry:2'),
        pull=dict(type='str', default='missing', choices=['missing', 'always', 'never']),
        image_archive=dict(type='path'),
        ports=dict(type='list', elements='dict', options=dict(
            host_port=dict(type='int', required=True),
            container_port=dict(type='int', default=5000),
            bind_address=dict(type='str', default='0.0.0.0'),
            protocol=dict(type='str', default='tcp', choices=['tcp', 'udp']),
        )),
        restart_policy=dict(type='str', default='always', choices=['no', 'always', 'unless-stopped', 'on-failure']),
        data_dir=dict(type='path'),
        data_volume=dict(type='str'),
        config_dir=dict(type='path'),
        env=dict(type='dict', default={}),
        labels=dict(type='dict', default={}),
        command=dict(type='list', elements='str', default=list(DEFAULT_COMMAND)),
        restart_files=dict(type='list', elements='path', default=[]),
        probe=dict(type='dict', options=dict(
            enabled=dict(type='bool', default=True),
            scheme=dict(type='str', default='https', choices=['http', 'https']),
            port=dict(type='int'),
            host=dict(type='str'),
            timeout=dict(type='int', default=60),
            ca_path=dict(type='path'),
        )),
        state=dict(type='str', default='started', choices=['started', 'stopped', 'absent']),
        remove_data=dict(type='bool', default=False),
        recreate=dict(type='str', default='options-changed', choices=['options-changed', 'always', 'never']),
        docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
        timeout=dict(type='int', default=60),
    )


MUTUALLY_EXCLUSIVE = [('data_dir', 'data_volume')]


class InputError(ValueError):
    """Bad module input, found before anything was touched."""


# ---------------------------------------------------------------- validation

def normalize_ports(ports):
    """Validated copy of the ports option (None = the default 5000 on all addresses)."""
    if ports is None:
        return [dict(p) for p in DEFAULT_PORTS]
    result, seen = [], set()
    for index, port in enumerate(ports):
        port = dict(DEFAULT_PORTS[0], **{k: v for k, v in port.items() if v is not None})
        for key in ('host_port', 'container_port'):
            value = port[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
                raise InputError('ports[%d].%s: %r is not a valid port number (allowed: 1..65535)' % (index, key, value))
        if port['protocol'] not in ('tcp', 'udp'):
            raise InputError('ports[%d].protocol: %r is not allowed (allowed: tcp, udp)' % (index, port['protocol']))
        try:
            port['bind_address'] = str(ipaddress.ip_address(port['bind_address'].strip('[]')))
        except ValueError:
            raise InputError('ports[%d].bind_address: %r is not an IP address' % (index, port['bind_address']))
        key = (port['bind_address'], port['host_port'], port['protocol'])
        if key in seen:
            raise InputError('ports[%d]: %s:%d/%s is published twice' % ((index,) + key))
        seen.add(key)
        result.append(port)
    return result


def normalize_probe(probe, ports):
    """Probe settings with defaults filled: port from the first published port, host from its address."""
    probe = dict(PROBE_DEFAULTS, **{k: v for k, v in (probe or {}).items() if v is not None})
    if not probe['enabled']:
        return probe
    if probe['port'] is None:
        if not ports:
            raise InputError('probe.port is needed when no port is published (ports is empty)')
        probe['port'] = ports[0]['host_port']
    if not 1 <= probe['port'] <= 65535:
        raise InputError('probe.port: %r is not a valid port number (allowed: 1..65535)' % probe['port'])
    if probe['timeout'] < 1:
        raise InputError('probe.timeout: %r must be at least 1 second' % probe['timeout'])
    if probe['host'] is None:
        first = ports[0]['bind_address'] if ports else ''
        probe['host'] = '127.0.0.1' if first in WILDCARD_ADDRESSES else first
    if probe['ca_path'] and not os.path.isfile(probe['ca_path']):
        raise InputError('probe.ca_path: %s does not exist or is not a file' % probe['ca_path'])
    return probe


def require_absolute(option, path):
    if path is not None and not os.path.isabs(path):
        raise InputError('%s: %r must be an absolute path' % (option, path))


def files_hash(paths):
    """sha256 over the sorted (path, content) pairs; None when no file is listed."""
    if not paths:
        return None
    digest = hashlib.sha256()
    for path in sorted(set(paths)):
        require_absolute('restart_files', path)
        if not os.path.isfile(path):
            raise InputError('restart_files: %s does not exist or is not a regular file' % path)
        with open(path, 'rb') as f:
            content = f.read()
        encoded = path.encode('utf-8')
        digest.update(b'%d:%s%d:' % (len(encoded), encoded, len(content)))
        digest.update(content)
    return 'sha256:' + digest.hexdigest()


def image_reference(image):
    """'registry' -> 'registry:latest'; names with a tag or digest unchanged."""
    repository, tag = parse_repository_tag(image)
    if tag:
        return image
    return '%s:latest' % repository


def archive_image_id(path, reference):
    """Image ID that `docker load` of ``path`` gives ``reference``, read from its manifest.json.

    None when the archive cannot be read here (e.g. zstd); then the name is checked after loading.
    Raises InputError when the archive is readable but does not hold ``reference``.
    """
    try:
        with tarfile.open(path, 'r:*') as archive:
            member = archive.extractfile('manifest.json')
            manifest = json.loads(member.read().decode('utf-8'))
    except (tarfile.TarError, KeyError, ValueError, AttributeError, OSError, EOFError):
        return None
    tags = []
    for entry in manifest:
        tags.extend(entry.get('RepoTags') or [])
        if reference in (entry.get('RepoTags') or []):
            config = entry['Config']
            return 'sha256:' + os.path.basename(config).replace('.json', '')
    raise InputError('image_archive %s does not hold %s (it holds: %s)' % (path, reference, ', '.join(tags) or 'no tagged image'))


# ------------------------------------------------------------ desired vs current

def env_dict(env_list):
    result = {}
    for item in env_list or []:
        key, _sep, value = item.partition('=')
        result[key] = value
    return result


def own_entries(values, inherited):
    """The entries of ``values`` not inherited unchanged from the image."""
    return {k: v for k, v in (values or {}).items() if (inherited or {}).get(k) != v}


def binds(data_dir, data_volume, config_dir):
    result = ['%s:%s:rw' % (data_volume or data_dir or DEFAULT_DATA_DIR, DATA_MOUNT)]
    if config_dir:
        result.append('%s:%s:ro' % (config_dir, CONFIG_MOUNT))
    return sorted(result)


def normalize_bind(bind):
    parts = bind.split(':')
    if len(parts) == 2:
        parts.append('rw')
    return ':'.join(parts)


def port_specs(ports):
    return sorted('%s:%d->%d/%s' % (p['bind_address'], p['host_port'], p['container_port'], p['protocol']) for p in ports)


def current_port_specs(port_bindings):
    result = []
    for container_port, bindings in (port_bindings or {}).items():
        number, _sep, protocol = container_port.partition('/')
        for binding in bindings or []:
            address = binding.get('HostIp') or '0.0.0.0'
            result.append('%s:%s->%s/%s' % (address, binding.get('HostPort'), number, protocol or 'tcp'))
    return sorted(result)


def desired_state(params, ports, image_id, image_config, restart_hash):
    """What the container must look like, in the same shape as current_state()."""
    image_config = image_config or {}
    labels = {str(k): str(v) for k, v in (params['labels'] or {}).items()}
    labels.pop(FILES_HASH_LABEL, None)
    return {
        'image': image_id,
        'ports': port_specs(ports),
        'binds': binds(params['data_dir'], params['data_volume'], params['config_dir']),
        'env': own_entries({str(k): str(v) for k, v in (params['env'] or {}).items()}, env_dict(image_config.get('Env'))),
        'restart_policy': params['restart_policy'],
        'command': list(params['command'] or image_config.get('Cmd') or []),
        'labels': own_entries(labels, image_config.get('Labels')),
        'restart_files': restart_hash,
    }


def current_state(inspect, image_config):
    """The fields we manage, read from ``docker inspect`` of the container."""
    image_config = image_config or {}
    config = inspect.get('Config') or {}
    host_config = inspect.get('HostConfig') or {}
    labels = dict(config.get('Labels') or {})
    restart_hash = labels.pop(FILES_HASH_LABEL, None)
    return {
        'image': inspect.get('Image'),
        'ports': current_port_specs(host_config.get('PortBindings')),
        'binds': sorted(normalize_bind(b) for b in host_config.get('Binds') or []),
        'env': own_entries(env_dict(config.get('Env')), env_dict(image_config.get('Env'))),
        'restart_policy': ((host_config.get('RestartPolicy') or {}).get('Name') or 'no'),
        'command': list(config.get('Cmd') or []),
        'labels': own_entries(labels, image_config.get('Labels')),
        'restart_files': restart_hash,
    }


def _mask_env(env):
    return {k: ('********' if _SECRET_ENV_NAME.search(k) else v) for k, v in env.items()}


def compute_differences(desired, current):
    """[{field, before, after}] for every managed field that differs; shown values are diff-safe."""
    differences = []
    for field in ('image', 'ports', 'binds', 'env', 'restart_policy', 'command', 'labels', 'restart_files'):
        before, after = current.get(field), desired.get(field)
        if before == after:
            continue
        if field == 'env':
            before, after = _mask_env(before), _mask_env(after)
        elif field == 'restart_files':
            # Only say that the content changed: the hash covers key material.
            before = 'content at last start' if before else None
            after = 'changed content' if after else None
        elif field == 'image' and after is None:
            after = 'image still to be pulled or loaded'
        differences.append({'field': field, 'before': before, 'after': after})
    return differences


def diff_of(differences):
    return {
        'before': {d['field']: d['before'] for d in differences},
        'after': {d['field']: d['after'] for d in differences},
    }


def container_summary(inspect):
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


# --------------------------------------------------------------------- probe

def probe_url(probe):
    host = probe['host']
    if ':' in host:
        host = '[%s]' % host
    return '%s://%s:%d' % (probe['scheme'], host, probe['port'])


def ssl_context(probe):
    if probe['scheme'] != 'https':
        return None
    if probe['ca_path']:
        context = ssl.create_default_context(cafile=probe['ca_path'])
        context.check_hostname = False  # the probe dials an address; names are the role's business
    else:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def probe_once(opener, base_url, timeout):
    """None when GET / answers 200 and GET /v2/ answers 200 or 401; else what went wrong."""
    for path, accepted in (('/', (200,)), ('/v2/', (200, 401))):
        try:
            with opener.open(base_url + path, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except Exception as exc:  # connection refused, TLS handshake, timeout, ...
            return '%s%s: %s' % (base_url, path, getattr(exc, 'reason', exc))
        if status not in accepted:
            return '%s%s answered HTTP %d' % (base_url, path, status)
    return None


def wait_until_answering(probe, has_crashed):
    """Poll until the registry answers; return None, or the last problem after timeout or a crash."""
    base_url = probe_url(probe)
    handlers = [urllib.request.ProxyHandler({})]
    context = ssl_context(probe)
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    deadline = time.monotonic() + probe['timeout']
    while True:
        remaining = deadline - time.monotonic()
        problem = probe_once(opener, base_url, max(1.0, min(5.0, remaining)))
        if problem is None:
            return None
        crash = has_crashed()
        if crash:
            return '%s; %s' % (crash, problem)
        if time.monotonic() >= deadline:
            return 'no answer within %d s: %s' % (probe['timeout'], problem)
        time.sleep(0.25)


# -------------------------------------------------------------------- driver

class RegistryContainer(object):

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.client = None
        self.result = {'changed': False, 'recreated': False, 'differences': [], 'image_loaded': False,
                       'image_pulled': False, 'container': {}}

    def fail(self, msg, **kwargs):
        self.result.update(kwargs)
        self.module.fail_json(msg=msg, **self.result)

    def run(self):
        params = self.params
        try:
            require_absolute('data_dir', params['data_dir'])
            require_absolute('config_dir', params['config_dir'])
            if params['state'] == 'started':
                plan = self._validate_started()
        except InputError as exc:
            self.fail(str(exc))
        self.client = create_client(self.module, params['docker_host'], params['timeout'])
        container = self._inspect_container(params['name'])
        if params['state'] == 'started':
            self._started(container, plan)
        elif params['state'] == 'stopped':
            self._stopped(container)
        else:
            self._absent(container)
        if self.module._diff and self.result['differences']:
            self.result['diff'] = diff_of(self.result['differences'])
        self.module.exit_json(**self.result)

    # --- helpers talking to the engine

    def _inspect_container(self, name):
        try:
            return self.client.inspect_container(name)
        except NotFound:
            return None

    def _inspect_image(self, reference):
        try:
            return self.client.inspect_image(reference)
        except NotFound:
            return None

    def _logs(self, container_id):
        try:
            return self.client.logs(container_id, tail=LOG_LINES_ON_FAILURE).decode('utf-8', 'replace')
        except Exception as exc:
            return '(logs unavailable: %s)' % exc

    # --- state=started

    def _validate_started(self):
        """Everything that can be wrong with the input, checked before anything is touched."""
        params = self.params
        ports = normalize_ports(params['ports'])
        probe = normalize_probe(params['probe'], ports)
        missing = []
        if params['config_dir'] and not os.path.isdir(params['config_dir']):
            missing.append('config_dir: %s does not exist or is not a directory' % params['config_dir'])
        missing.extend('restart_files: %s does not exist or is not a regular file' % path
                       for path in params['restart_files'] if not os.path.isfile(path))
        if params['image_archive'] and not os.path.isfile(params['image_archive']):
            missing.append('image_archive: %s does not exist or is not a file' % params['image_archive'])
        if missing and not self.check_mode:
            raise InputError('; '.join(missing))
        if missing:
            # Earlier tasks of a role would have created them; check mode did not run those.
            self.module.warn('%s (yet); in check mode the container is reported as to be (re)created'
                             % '; '.join(missing))
            restart_hash = 'pending'
        else:
            restart_hash = files_hash(params['restart_files'])
        reference = image_reference(params['image'])
        archive_id = None
        if params['image_archive'] and not missing:
            archive_id = archive_image_id(params['image_archive'], reference)
        return {'ports': ports, 'probe': probe, 'restart_hash': restart_hash, 'reference': reference,
                'archive_id': archive_id}

    def _image_source(self, reference, local, archive_id):
        """'load', 'pull' or None: what must happen for the image name to resolve to the wanted image."""
        params = self.params
        if params['image_archive']:
            if local is None:
                return 'load'
            if params['pull'] == 'always' and (archive_id is None or archive_id != local['Id']):
                return 'load'
            return None
        if local is None:
            if params['pull'] == 'never':
                raise InputError('image %s is not on this host and pull=never (give image_archive or allow pulling)' % reference)
            return 'pull'
        return 'pull' if params['pull'] == 'always' else None

    def _prepare_image(self, plan):
        """Pull or load the image (not in check mode); return (image inspect or None, local image changed)."""
        reference = plan['reference']
        local = self._inspect_image(reference)
        try:
            source = self._image_source(reference, local, plan['archive_id'])
        except InputError as exc:
            self.fail(str(exc))
        if source is None:
            return local, False
        if self.check_mode:
            if source == 'load' and plan['archive_id']:
                return {'Id': plan['archive_id'], 'Config': (local or {}).get('Config')}, plan['archive_id'] != (local or {}).get('Id')
            # pull=always: whether the registry has something newer is unknowable without pulling.
            return local, local is None
        if source == 'load':
            self._load(reference)
            self.result['image_loaded'] = True
        else:
            self._pull(reference)
            self.result['image_pulled'] = True
        loaded = self._inspect_image(reference)
        if loaded is None:
            self.fail('image %s is still missing after %s' % (
                reference, 'loading %s' % self.params['image_archive'] if source == 'load' else 'pulling it'))
        return loaded, loaded['Id'] != (local or {}).get('Id')

    def _load(self, reference):
        path = self.params['image_archive']
        try:
            with open(path, 'rb') as archive:
                for event in self.client.load_image(archive) or []:
                    if isinstance(event, dict) and event.get('error'):
                        raise RuntimeError(event['error'])
        except Exception as exc:
            self.fail('docker load of %s failed: %s' % (path, exc))

    def _pull(self, reference):
        repository, tag = parse_repository_tag(reference)
        try:
            for event in self.client.pull(repository, tag=tag, stream=True, decode=True):
                if event.get('error'):
                    raise RuntimeError(event['error'])
        except Exception as exc:
            self.fail('pulling %s failed: %s' % (reference, exc))

    def _started(self, container, plan):
        params = self.params
        image, image_changed = self._prepare_image(plan)
        image_id = image['Id'] if image else None
        image_config = (image or {}).get('Config')
        if image_config is None and container:
            image_config = (self._inspect_image(container['Image']) or {}).get('Config')
        desired = desired_state(params, plan['ports'], image_id, image_config, plan['restart_hash'])
        data_dir_missing = not params['data_volume'] and not os.path.isdir(params['data_dir'] or DEFAULT_DATA_DIR)

        if container is None:
            differences = [{'field': 'container', 'before': 'absent', 'after': 'running'}]
        else:
            differences = compute_differences(desired, current_state(container, image_config))
            if data_dir_missing:
                differences.append({'field': 'data_dir', 'before': 'absent', 'after': 'directory'})
            if params['recreate'] == 'always':
                differences.append({'field': 'recreate', 'before': None, 'after': 'always'})
            elif params['recreate'] == 'never' and differences:
                self.module.warn('container %s differs from the options (%s) but recreate=never'
                                 % (params['name'], ', '.join(d['field'] for d in differences)))
                differences = []

        running = bool(container and (container.get('State') or {}).get('Running'))
        if not differences and not running:
            differences = [{'field': 'status', 'before': container['State'].get('Status'), 'after': 'running'}]
            action = 'start'
        else:
            action = 'recreate' if differences else None
        self.result['differences'] = differences
        self.result['container'] = container_summary(container)
        self.result['changed'] = bool(differences) or image_changed
        if action is None or self.check_mode:
            return

        if action == 'recreate':
            if data_dir_missing:
                self._make_data_dir()
            new_id = self._create(desired, plan['ports'], container)
            self.result['recreated'] = container is not None
        else:
            new_id = container['Id']
        try:
            self.client.start(new_id)
        except Exception as exc:
            self.fail('starting container %s failed: %s\n%s' % (params['name'], exc, self._logs(new_id)))
        if plan['probe']['enabled']:
            problem = wait_until_answering(plan['probe'], lambda: self._crashed(new_id))
            if problem:
                self.result['container'] = container_summary(self._inspect_container(new_id))
                self.fail('registry container %s does not answer: %s\nlast %d log lines:\n%s' % (
                    params['name'], problem, LOG_LINES_ON_FAILURE, self._logs(new_id)))
        self.result['container'] = container_summary(self._inspect_container(new_id))

    def _crashed(self, container_id):
        inspect = self._inspect_container(container_id) or {}
        state = inspect.get('State') or {}
        restarts = inspect.get('RestartCount') or 0
        if state.get('Status') in ('exited', 'dead') or restarts > 0:
            return 'the container exited (exit code %s, restarts %s)' % (state.get('ExitCode'), restarts)
        return None

    def _make_data_dir(self):
        path = self.params['data_dir'] or DEFAULT_DATA_DIR
        try:
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o755)
        except OSError as exc:
            self.fail('cannot create data_dir %s: %s' % (path, exc))

    def _create(self, desired, ports, old):
        """Create the new container under a temporary name, then replace the old one by it.

        Creating first means an engine-side refusal (bad bind, bad option) leaves the old one running.
        """
        params = self.params
        client = self.client
        temporary = '%s-berth-new' % params['name']
        leftover = self._inspect_container(temporary)
        labels = dict(desired['labels'])
        labels.update({str(k): str(v) for k, v in (params['labels'] or {}).items()})
        labels.pop(FILES_HASH_LABEL, None)
        if desired['restart_files']:
            labels[FILES_HASH_LABEL] = desired['restart_files']
        port_bindings = {}
        for p in ports:
            port_bindings.setdefault('%d/%s' % (p['container_port'], p['protocol']), []).append(
                (p['bind_address'], p['host_port']))
        try:
            if leftover:
                client.remove_container(leftover['Id'], force=True)
            host_config = client.create_host_config(
                binds=desired['binds'],
                port_bindings=port_bindings,
                restart_policy={'Name': params['restart_policy'], 'MaximumRetryCount': 0},
            )
            created = client.create_container(
                image=params['image'],
                command=list(params['command']) or None,
                name=temporary,
                environment={str(k): str(v) for k, v in (params['env'] or {}).items()},
                labels=labels,
                ports=[(p['container_port'], p['protocol']) for p in ports],
                host_config=host_config,
                detach=True,
            )
        except Exception as exc:
            self.fail('creating the new container for %s failed (the old one is untouched): %s' % (params['name'], exc))
        try:
            if old:
                client.stop(old['Id'], timeout=STOP_TIMEOUT)
                client.remove_container(old['Id'])
            client.rename(created['Id'], params['name'])
        except Exception as exc:
            self.fail('replacing container %s failed: %s' % (params['name'], exc))
        return created['Id']

    # --- state=stopped / absent

    def _stopped(self, container):
        self.result['container'] = container_summary(container)
        if not container or not container['State'].get('Running'):
            return
        self.result['differences'] = [{'field': 'status', 'before': container['State'].get('Status'), 'after': 'exited'}]
        self.result['changed'] = True
        if self.check_mode:
            return
        try:
            self.client.stop(container['Id'], timeout=STOP_TIMEOUT)
        except Exception as exc:
            self.fail('stopping container %s failed: %s' % (self.params['name'], exc))
        self.result['container'] = container_summary(self._inspect_container(container['Id']))

    def _absent(self, container):
        params = self.params
        differences = []
        if container:
            differences.append({'field': 'container', 'before': container['State'].get('Status'), 'after': 'absent'})
        if params['remove_data']:
            differences.extend(self._data_differences())
        self.result['differences'] = differences
        self.result['changed'] = bool(differences)
        self.result['container'] = container_summary(container)
        if self.check_mode or not differences:
            return
        try:
            if container:
                if container['State'].get('Running'):
                    self.client.stop(container['Id'], timeout=STOP_TIMEOUT)
                self.client.remove_container(container['Id'])
            if params['remove_data']:
                self._remove_data()
        except Exception as exc:
            self.fail('removing container %s or its data failed: %s' % (params['name'], exc))
        self.result['container'] = {}

    def _data_differences(self):
        params = self.params
        if params['data_volume']:
            try:
                self.client.inspect_volume(params['data_volume'])
            except NotFound:
                return []
            return [{'field': 'data_volume', 'before': params['data_volume'], 'after': 'absent'}]
        path = params['data_dir'] or DEFAULT_DATA_DIR
        if os.path.realpath(path) == '/':
            self.fail('data_dir %s resolves to / : refusing to remove its contents' % path)
        if os.path.isdir(path) and os.listdir(path):
            return [{'field': 'data_dir', 'before': '%s (not empty)' % path, 'after': '%s (empty)' % path}]
        return []

    def _remove_data(self):
        params = self.params
        if params['data_volume']:
            try:
                self.client.remove_volume(params['data_volume'])
            except NotFound:
                pass
            return
        path = params['data_dir'] or DEFAULT_DATA_DIR
        for entry in os.listdir(path):
            full = os.path.join(path, entry)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)
