"""A fake docker.APIClient with what the garbage collection calls: containers in memory, exec answers scripted
per command, one running container per published port (as the engine refuses a second), every call recorded."""

from __future__ import annotations

import copy

from docker.errors import APIError

from _registry_container.fake_engine import FakeClient as ContainerFake

IMAGE_ID = 'sha256:' + 'a' * 64
GC_DRY = ('3 blobs marked, 2 blobs and 0 manifests eligible for deletion\n'
          'blob eligible for deletion: sha256:%s\nblob eligible for deletion: sha256:%s\n' % ('1' * 64, '2' * 64))
GC_NOTHING = '3 blobs marked, 0 blobs and 0 manifests eligible for deletion\n'


def registry_inspect(cid='c' * 64, name='registry', running=True, data_dir='/srv/registry'):
    return {
        'Id': cid, 'Name': '/' + name, 'Image': IMAGE_ID,
        'State': {'Status': 'running' if running else 'exited', 'Running': running, 'ExitCode': 0},
        'Config': {'Image': 'registry:2', 'Env': ['PATH=/usr/bin', 'REGISTRY_HTTP_SECRET=Mk-5e1f-HTTP-SECRET-9c2d'],
                   'Entrypoint': ['/bin/registry'], 'Cmd': ['serve', '/etc/docker/registry/config.yml'],
                   'Labels': {'berth.registry.files-hash': 'abc'}, 'ExposedPorts': {'443/tcp': {}},
                   'Hostname': cid[:12], 'Volumes': {'/var/lib/registry': {}}},
        'HostConfig': {'Binds': ['%s:/var/lib/registry' % data_dir, '/etc/docker/registry:/etc/docker/registry:ro'],
                       'PortBindings': {'443/tcp': [{'HostIp': '0.0.0.0', 'HostPort': '443'}]},
                       'RestartPolicy': {'Name': 'always', 'MaximumRetryCount': 0}, 'NetworkMode': 'default'},
        'Mounts': [{'Type': 'bind', 'Source': data_dir, 'Destination': '/var/lib/registry'}],
        'NetworkSettings': {'IPAddress': '', 'Networks': {'bridge': {'IPAddress': '172.17.0.2', 'Aliases': None}}},
    }


class FakeClient(ContainerFake):
    """The registry container family's fake engine, plus what the collection's garbage collection calls:
    create_container_from_config, exec, and a start that refuses a port another running container publishes."""

    def __init__(self, *containers):
        super(FakeClient, self).__init__()
        self.containers.update((c['Id'], copy.deepcopy(c)) for c in containers)
        self.outputs = {'--version': (0, '/bin/registry github.com/docker/distribution 2.8.2+ds1\n'),
                        'garbage-collect --dry-run': (0, GC_DRY), 'garbage-collect': (0, GC_DRY)}
        self.on_exec = None
        self._execs = {}

    def running(self):
        return sorted(d['Name'].lstrip('/') for d in self.containers.values() if d['State']['Running'])

    def inspect_container(self, name):
        return copy.deepcopy(super(FakeClient, self).inspect_container(name))

    def create_container_from_config(self, config, name):
        self._record('create_container_from_config', name)
        cid = '%064d' % next(self._ids)
        self.containers[cid] = {
            'Id': cid, 'Name': '/' + name, 'Image': config['Image'], 'body': config,
            'State': {'Status': 'created', 'Running': False, 'ExitCode': 0},
            'Config': dict((k, v) for k, v in config.items() if k not in ('HostConfig', 'NetworkingConfig')),
            'HostConfig': config['HostConfig'], 'Mounts': [],
            'NetworkSettings': {'Networks': {'bridge': {'IPAddress': '172.17.0.%d' % (len(self.containers) + 2)}}},
        }
        return {'Id': cid}

    def start(self, cid):
        data = self._find(cid)
        ports = set(data['HostConfig'].get('PortBindings') or {})
        for other in self.containers.values():
            if other is not data and other['State']['Running'] and ports & set(other['HostConfig'].get('PortBindings') or {}):
                self._record('start', cid)
                raise APIError('port is already allocated')
        super(FakeClient, self).start(cid)

    def exec_create(self, cid, cmd, stdout=True, stderr=True):
        self._record('exec_create', cid, tuple(cmd))
        data = self._find(cid)
        if not data['State']['Running']:
            raise APIError('container %s is not running' % cid)
        exec_id = 'exec%d' % next(self._ids)
        self._execs[exec_id] = (data['Name'].lstrip('/'), cmd)
        return {'Id': exec_id}

    def exec_start(self, exec_id):
        name, cmd = self._execs[exec_id]
        key = ' '.join(a for a in cmd[1:] if a.startswith('-') or a == 'garbage-collect')
        key = key.replace(' --delete-untagged', '')
        if self.on_exec:
            self.on_exec(name, cmd)
        code, text = self.outputs[key]
        self._execs[exec_id] = (name, cmd, code)
        return text.encode()

    def exec_inspect(self, exec_id):
        return {'ExitCode': self._execs[exec_id][2]}
