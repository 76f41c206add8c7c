"""Drive the doctor without Ansible: a stand-in module, a fake engine, a local registry."""

from __future__ import annotations

import os

import pytest

from ansible_collections.berth.registry.plugins.module_utils._doctor import driver, probe


class FakeModule:
    def __init__(self, params, diff=False):
        self.params = params
        self._diff = diff
        self.check_mode = False

    def get_bin_path(self, name, opt_dirs=None):
        return None


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A fake client host: its files under tmp_path, names resolved to 127.0.0.1, dockerd 'installed'."""
    state = Host(tmp_path, monkeypatch)
    return state


class Host:
    def __init__(self, root, monkeypatch):
        self.root = str(root)
        self.tools = {'dockerd'}
        self.engine = {'ServerVersion': '20.10.24', 'RegistryConfig': {
            'InsecureRegistryCIDRs': [], 'IndexConfigs': {}, 'Mirrors': []}}
        self.engine_error = None
        self.addresses = {'registry.berth.test': ['127.0.0.1'], 'alias.berth.test': ['127.0.0.1']}
        for name in ('docker/certs.d', 'containers/certs.d', 'containers/registries.conf.d', 'containerd', 'root'):
            os.makedirs(self.path(name), exist_ok=True)
        self.write('hosts', '127.0.0.1 localhost\n127.0.0.1 registry.berth.test\n')
        monkeypatch.setattr(probe, 'resolve', self._resolve)

    def _resolve(self, name, port):
        if name in self.addresses:
            return list(self.addresses[name]), None
        return None, 'Name or service not known'

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, rel, text):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def params(self, **overrides):
        spec = driver.argument_spec()
        p = dict((k, v.get('default')) for k, v in spec.items())
        p.update(
            label='client1', hosts_path=self.path('hosts'), timeout=3.0,
            docker_certs_dir=self.path('docker/certs.d'), docker_daemon_config=self.path('docker/daemon.json'),
            docker_config=self.path('root/config.json'), docker_host='unix://' + self.path('docker.sock'),
            containerd_config=self.path('containerd/config.toml'), containerd_socket=self.path('containerd.sock'),
            containers_certs_dirs=[self.path('containers/certs.d'), self.path('docker/certs.d')],
            containers_registries_conf=self.path('containers/registries.conf'),
            containers_registries_conf_d=self.path('containers/registries.conf.d'),
            containers_auth_files=[self.path('run/auth.json'), self.path('root/config.json')],
        )
        p.update(overrides)
        return p

    def run(self, diff=False, **overrides):
        module = FakeModule(self.params(**overrides), diff)
        return driver.Doctor(module, which=self._which, engine=self._engine).run()

    def _which(self, name):
        return '/usr/bin/' + name if name in self.tools else None

    def _engine(self):
        return (self.engine, None) if self.engine_error is None else (None, self.engine_error)
