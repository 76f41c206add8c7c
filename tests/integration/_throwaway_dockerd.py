"""A throwaway dockerd (and registry) for the client-module tests.

The engine runs in its own network and mount namespace, held open by a
``sleep`` process: in there the loopback carries TEST_ADDRESS (not in
127.0.0.0/8, which dockerd always treats as insecure and for which it skips
TLS verification, so trust could never fail), and ``<dir>/etc-docker`` is
bind-mounted on /etc/docker, so the engine reads ``<dir>/etc-docker/certs.d``
and nothing of the machine's own /etc/docker. The test talks to the engine
through its unix socket in ``<dir>``; registry traffic stays inside the
namespace.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time

DOCKER = '/usr/bin/docker'
DOCKERD = '/usr/sbin/dockerd'
REGISTRY_BIN = '/usr/bin/docker-registry'
TEST_ADDRESS = '198.18.0.10'


def _wait(predicate, timeout=60, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError('timed out waiting for %s' % what)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(') ')[1][0] != 'Z'
    except FileNotFoundError:
        return False


class Engine:
    def __init__(self, base, extra_flags=()):
        self.dir = base
        self.etc_docker = os.path.join(base, 'etc-docker')
        self.certs_dir = os.path.join(self.etc_docker, 'certs.d')
        self.daemon_json = os.path.join(base, 'daemon.json')
        self.sock = os.path.join(base, 'docker.sock')
        self.docker_host = 'unix://' + self.sock
        self.pid_file = os.path.join(base, 'docker.pid')
        self.log = os.path.join(base, 'dockerd.log')
        self.restart_script = os.path.join(base, 'restart-dockerd.sh')
        self.extra_flags = list(extra_flags)
        self.holder = None
        self.registry = None
        os.makedirs(self.certs_dir, exist_ok=True)

    @property
    def dockerd_argv(self):
        return [DOCKERD, '--config-file', self.daemon_json, '-H', self.docker_host,
                '--data-root', os.path.join(self.dir, 'root'), '--exec-root', os.path.join(self.dir, 'exec'),
                '--pidfile', self.pid_file, '--bridge', 'none', '--iptables=false', '--ip6tables=false',
                '--ip-masq=false'] + self.extra_flags

    def _nsenter(self, mount=True):
        return ['nsenter', '--target', str(self.holder.pid), '--net'] + (['--mount'] if mount else []) + ['--']

    def start(self):
        if not os.path.exists(self.daemon_json):
            with open(self.daemon_json, 'w') as f:
                f.write('{}\n')
        ready = os.path.join(self.dir, 'holder.ready')
        script = ('ip link set lo up && ip addr add %s/32 dev lo && mount --bind %s /etc/docker && : > %s '
                  '&& exec sleep infinity' % (TEST_ADDRESS, shlex.quote(self.etc_docker), shlex.quote(ready)))
        self.holder = subprocess.Popen(['unshare', '--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', script],
                                       start_new_session=True)
        _wait(lambda: os.path.exists(ready), 10, 'namespace holder')
        with open(self.restart_script, 'w') as f:
            f.write('#!/bin/sh\n# restarts the throwaway dockerd (used as restart_command)\n'
                    'pid=$(cat %(pid)s)\nkill "$pid"\n'
                    '# the first dockerd is a child of the test process: a zombie counts as gone\n'
                    'while [ -e /proc/$pid ] && ! grep -q "^State:.*Z" /proc/$pid/status; do sleep 0.1; done\n'
                    'setsid %(cmd)s >>%(log)s 2>&1 </dev/null &\n'
                    % {'pid': shlex.quote(self.pid_file), 'log': shlex.quote(self.log),
                       'cmd': ' '.join(shlex.quote(a) for a in self._nsenter() + self.dockerd_argv)})
        os.chmod(self.restart_script, 0o755)
        self._spawn_dockerd()
        return self

    def _spawn_dockerd(self):
        with open(self.log, 'ab') as log:
            proc = subprocess.Popen(self._nsenter() + self.dockerd_argv, stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self._first = proc
        try:
            self.wait_ready()
        except TimeoutError:
            proc.kill()
            raise RuntimeError('throwaway dockerd did not start:\n' + open(self.log).read()[-3000:])

    def answers(self):
        return subprocess.run([DOCKER, '-H', self.docker_host, 'version'], capture_output=True, check=False).returncode == 0

    def wait_ready(self, timeout=60):
        _wait(lambda: self.answers() and os.path.exists(self.pid_file), timeout, 'throwaway dockerd')

    @property
    def pid(self):
        with open(self.pid_file) as f:
            return int(f.read().strip())

    def docker(self, *args, check=True, env=None):
        return subprocess.run([DOCKER, '-H', self.docker_host] + list(args), capture_output=True, text=True,
                              check=check, env=env)

    def info(self):
        return json.loads(self.docker('info', '--format', '{{json .}}').stdout)

    def insecure_registries(self):
        reg = self.info()['RegistryConfig']
        return sorted([c for c in reg['InsecureRegistryCIDRs'] if c != '127.0.0.0/8'] +
                      [name for name, idx in reg['IndexConfigs'].items() if not idx['Secure']])

    def start_registry(self, config_path):
        self.stop_registry()
        log = open(os.path.join(self.dir, 'registry.log'), 'ab')
        self.registry = subprocess.Popen(self._nsenter(mount=False) + [REGISTRY_BIN, 'serve', config_path],
                                         stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        _wait(self._port_open, 20, 'registry')

    def _port_open(self):
        cmd = self._nsenter(mount=False) + ['bash', '-c', 'exec 3<>/dev/tcp/%s/443' % TEST_ADDRESS]
        return subprocess.run(cmd, capture_output=True, check=False).returncode == 0

    def stop_registry(self):
        if self.registry is not None:
            self.registry.terminate()
            self.registry.wait(10)
            self.registry = None

    def stop(self):
        self.stop_registry()
        try:
            pid = self.pid
        except (FileNotFoundError, ValueError):
            pid = None
        if pid and _alive(pid):
            os.kill(pid, signal.SIGTERM)
            try:
                _wait(lambda: not _alive(pid), 30, 'dockerd exit')
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
        if getattr(self, '_first', None) is not None:
            self._first.poll()
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait(10)
            self.holder = None


def make_registry_files(base, username, password, name='registry.berth.test'):
    """openssl CA + server cert (SAN DNS:name, IP:TEST_ADDRESS), htpasswd and a registry config.

    Returns a dict of paths: ca, other_ca (an unrelated CA for the wrong-trust test), config.
    """
    os.makedirs(base, exist_ok=True)

    def run(*cmd, **kw):
        subprocess.run(cmd, check=True, capture_output=True, cwd=base, **kw)

    for ca in ('ca', 'other-ca'):
        run('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', ca + '.key',
            '-out', ca + '.crt', '-subj', '/CN=berth test %s' % ca,
            '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    run('openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
        '-subj', '/CN=' + name)
    with open(os.path.join(base, 'server.ext'), 'w') as f:
        f.write('basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n'
                'subjectAltName=DNS:%s,IP:%s\n' % (name, TEST_ADDRESS))
    run('openssl', 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
        '-days', '2', '-out', 'server.crt', '-extfile', 'server.ext')
    htpasswd = subprocess.run(['htpasswd', '-Bbn', username, password], check=True, capture_output=True,
                              text=True).stdout
    with open(os.path.join(base, 'htpasswd'), 'w') as f:
        f.write(htpasswd)
    config = os.path.join(base, 'config.yml')
    with open(config, 'w') as f:
        f.write('version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %(d)s/data\n'
                'auth:\n  htpasswd:\n    realm: berth-test\n    path: %(d)s/htpasswd\n'
                'http:\n  addr: %(a)s:443\n  tls:\n    certificate: %(d)s/server.crt\n    key: %(d)s/server.key\n'
                % {'d': base, 'a': TEST_ADDRESS})
    return {'ca': os.path.join(base, 'ca.crt'), 'other_ca': os.path.join(base, 'other-ca.crt'), 'config': config}
