"""A fake docker.APIClient with just what the registry container code calls: containers and images
held in memory, every call recorded, failures injectable. Lets the driver be tested without Docker."""

from __future__ import annotations

import itertools

from docker.errors import APIError, NotFound

IMAGE_ID = 'sha256:' + 'a' * 64
IMAGE_CONFIG = {'Env': ['PATH=/usr/bin', 'OTEL_TRACES_EXPORTER=none'], 'Cmd': ['serve', '/etc/docker/registry/config.yml'],
                'Labels': {'org.opencontainers.image.version': '2.8.2'}}


class FakeClient(object):
    def __init__(self):
        self.images = {'registry:2': {'Id': IMAGE_ID, 'Config': IMAGE_CONFIG}}
        self.containers = {}  # id -> inspect
        self.volumes = set()
        self.calls = []
        self.fail = {}  # method name -> exception to raise
        self._ids = itertools.count(1)

    def _record(self, name, *args):
        self.calls.append((name,) + args)
        if name in self.fail:
            raise self.fail[name]

    def _find(self, name_or_id):
        for cid, data in self.containers.items():
            if name_or_id in (cid, data['Name'].lstrip('/')):
                return data
        raise NotFound('No such container: %s' % name_or_id)

    def names(self):
        return sorted(d['Name'].lstrip('/') for d in self.containers.values())

    # --- API
    def inspect_container(self, name):
        self._record('inspect_container', name)
        return self._find(name)

    def inspect_image(self, reference):
        self._record('inspect_image', reference)
        for key, data in self.images.items():
            if reference in (key, data['Id']):
                return data
        raise NotFound('No such image: %s' % reference)

    def create_host_config(self, **kwargs):
        return kwargs

    def create_container(self, image, name, host_config, environment, labels, detach, command=None, ports=None):
        self._record('create_container', name)
        cid = '%064d' % next(self._ids)
        bindings = {}
        for port, targets in (host_config.get('port_bindings') or {}).items():
            bindings[port] = [{'HostIp': address, 'HostPort': str(host_port)} for address, host_port in targets]
        self.containers[cid] = {
            'Id': cid, 'Name': '/' + name, 'Image': self.inspect_image(image)['Id'], 'RestartCount': 0,
            'State': {'Status': 'created', 'Running': False, 'StartedAt': '0001-01-01T00:00:00Z'},
            'Config': {'Env': ['%s=%s' % kv for kv in environment.items()] + IMAGE_CONFIG['Env'],
                       'Cmd': command or IMAGE_CONFIG['Cmd'],
                       'Labels': dict(IMAGE_CONFIG['Labels'], **labels)},
            'HostConfig': {'Binds': host_config.get('binds'), 'PortBindings': bindings,
                           'RestartPolicy': host_config.get('restart_policy')},
        }
        return {'Id': cid}

    def start(self, cid):
        self._record('start', cid)
        self._find(cid)['State'].update(Status='running', Running=True, StartedAt='2026-11-28T01:00:00Z')

    def restart(self, cid, timeout=None):
        self._record('restart', cid)
        self._find(cid)['State'].update(Status='running', Running=True, StartedAt='2026-11-28T02:00:00Z')

    def stop(self, cid, timeout=None):
        self._record('stop', cid)
        self._find(cid)['State'].update(Status='exited', Running=False)

    def remove_container(self, cid, force=False):
        self._record('remove_container', cid)
        data = self._find(cid)
        if data['State']['Running'] and not force:
            raise APIError('cannot remove a running container')
        del self.containers[data['Id']]

    def rename(self, cid, name):
        self._record('rename', cid, name)
        self._find(cid)['Name'] = '/' + name

    def logs(self, cid, tail=None):
        self._record('logs', cid)
        return self.log_text.encode() if hasattr(self, 'log_text') else b'level=info msg="listening on [::]:5000"\n'

    def pull(self, repository, tag=None, stream=False, decode=False):
        self._record('pull', repository, tag)
        self.images['%s:%s' % (repository, tag)] = {'Id': 'sha256:' + 'b' * 64, 'Config': IMAGE_CONFIG}
        return iter([{'status': 'Downloaded'}])

    def load_image(self, data):
        self._record('load_image')
        return iter([{'stream': 'Loaded image'}])

    def inspect_volume(self, name):
        self._record('inspect_volume', name)
        if name not in self.volumes:
            raise NotFound('no such volume')
        return {'Name': name}

    def remove_volume(self, name):
        self._record('remove_volume', name)
        self.volumes.discard(name)
