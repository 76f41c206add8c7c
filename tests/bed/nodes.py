"""A throw-away fleet of Docker hosts: one container per node, each with its own dockerd and sshd."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import engine, images, inventory, playbook
from .engine import EngineError, docker

ROOT = playbook.ROOT
BED_DIR = os.path.join(ROOT, '.build', 'bed')
RUN_LABEL = 'berth.bed.run'
OWNER_LABEL = 'berth.bed.owner'
NODE_LABEL = 'berth.bed.node'
# Fixed candidates, tried in order; BERTH_BED_SUBNET (or subnet=) pins one and fails if it is taken.
DEFAULT_SUBNETS = tuple('172.29.%d.0/24' % x for x in range(77, 93))
NODE_SECURITY = (
    '--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE',
    '--security-opt', 'seccomp=unconfined', '--security-opt', 'systempaths=unconfined',
    '--security-opt', 'apparmor=unconfined', '--device-cgroup-rule', 'a *:* rwm',
)
# Not just `registry`: a host named like its group makes Ansible warn. `registry` is a DNS alias.
REGISTRY_NODE = 'registry1'
CLI_OWNER = 'cli'  # beds started by `python -m bed up` outlive their process
INOTIFY = '/proc/sys/fs/inotify/max_user_instances'


class BedError(RuntimeError):
    pass


@dataclass
class Node:
    name: str
    ip: str
    container: str

    def run(self, argv, input=None, timeout=300):
        """`docker exec` argv in the node; returns the CompletedProcess (separate stdout/stderr)."""
        flags = ['-i'] if input is not None else []
        return docker('exec', *flags, self.container, *argv, check=False, input=input, timeout=timeout)

    def exec(self, cmd, input=None, timeout=300):
        """Run a shell command in the node; returns (rc, stdout+stderr)."""
        proc = self.run(['sh', '-c', cmd + ' 2>&1'], input=input, timeout=timeout)
        return proc.returncode, proc.stdout + proc.stderr

    def docker(self, *args, timeout=300):
        """The node's own docker CLI; returns (rc, stdout+stderr)."""
        proc = self.run(['docker', *args], timeout=timeout)
        return proc.returncode, proc.stdout + proc.stderr

    def read_file(self, path):
        proc = self.run(['cat', path])
        if proc.returncode != 0:
            raise FileNotFoundError('%s:%s: %s' % (self.name, path, proc.stderr.strip()))
        return proc.stdout

    def write_file(self, path, text):
        proc = self.run(['sh', '-c', 'cat > "$1"', 'sh', path], input=text)
        if proc.returncode != 0:
            raise OSError('%s:%s: %s' % (self.name, path, proc.stderr.strip()))

    def exists(self, path):
        return self.run(['test', '-e', path]).returncode == 0

    def dockerd_pid(self):
        """PID of the node's dockerd (from /var/run/docker.pid) if it is running, else None."""
        rc, out = self.exec('pid=$(cat /var/run/docker.pid) && kill -0 "$pid" && echo "$pid"')
        return int(out.split()[-1]) if rc == 0 else None

    def wait_docker(self, timeout=30):
        """Wait until the node's dockerd answers (e.g. after `service docker restart`)."""
        deadline = time.monotonic() + timeout
        while self.docker('version')[0] != 0:
            if time.monotonic() > deadline:
                raise BedError('%s: dockerd does not answer after %ds:\n%s'
                               % (self.name, timeout, self.exec('tail -n 30 /var/log/docker.log')[1]))
            time.sleep(0.2)

    def logs(self):
        proc = docker('logs', '--tail', '50', self.container, check=False)
        tail = self.exec('tail -n 30 /var/log/docker.log /var/log/sshd.log')[1] if self.running() else ''
        return '--- container log ---\n%s%s\n--- node logs ---\n%s' % (proc.stdout, proc.stderr, tail)

    def running(self):
        proc = docker('inspect', '-f', '{{.State.Running}}', self.container, check=False)
        return proc.stdout.strip() == 'true'


def _routes():
    out = subprocess.run(['ip', '-4', 'route', 'show'], capture_output=True, text=True, check=True).stdout
    nets = []
    for line in out.splitlines():
        dest = line.split()[0]
        if dest != 'default':
            nets.append(ipaddress.ip_network(dest, strict=False))
    return nets


def _docker_subnets():
    nets = []
    for net in docker('network', 'ls', '-q').stdout.split():
        proc = docker('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', net, check=False)
        nets += [ipaddress.ip_network(s) for s in proc.stdout.split() if ':' not in s]
    return nets


def pick_subnet(wanted=None):
    """The bed's subnet: wanted/BERTH_BED_SUBNET exactly, or the first free fixed default."""
    wanted = wanted or os.environ.get('BERTH_BED_SUBNET')
    taken = _routes() + _docker_subnets()
    for cand in [wanted] if wanted else DEFAULT_SUBNETS:
        net = ipaddress.ip_network(cand)
        clash = [str(t) for t in taken if t.overlaps(net)]
        if not clash:
            return str(net)
        if wanted:
            raise BedError('bed subnet %s overlaps %s (ip route / docker networks); '
                           'set BERTH_BED_SUBNET to a free /24' % (net, ', '.join(clash)))
    raise BedError('all default bed subnets %s..%s are in use; set BERTH_BED_SUBNET'
                   % (DEFAULT_SUBNETS[0], DEFAULT_SUBNETS[-1]))


def _is_stale(owner, keep_cli):
    if owner == CLI_OWNER:
        return not keep_cli
    return not owner.isdigit() or not _pid_alive(int(owner))


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Bed:
    """Nodes `registry1` (.10, DNS alias `registry`) and `client1..N` (.11..) on a labelled bridge network of their own."""

    playbook = playbook

    def __init__(self, clients=3, registry_node=True, run_id=None, subnet=None, owner=None):
        self.run_id = run_id or 'r%d-%d' % (os.getpid(), int(time.time()) % 100000)
        self.n_clients = clients
        self.registry_node = registry_node
        self.subnet = subnet
        self.owner = str(owner or os.getpid())
        self.run_dir = os.path.join(BED_DIR, self.run_id)
        self.network = 'berth-%s' % self.run_id
        self.key_path = os.path.join(self.run_dir, 'id_ed25519')
        self.registry_image_archive = os.path.join(BED_DIR, 'registry-image.tar')
        self.inventory_path = os.path.join(self.run_dir, 'inventory.yml')
        self.ansible_cfg_path = os.path.join(self.run_dir, 'ansible.cfg')
        self.image = None
        self._inotify_restore = None
        self.nodes = []
        if subnet:
            self._plan_nodes()

    # --- layout ------------------------------------------------------------------------------
    def _plan_nodes(self):
        hosts = list(ipaddress.ip_network(self.subnet).hosts())
        names = ([REGISTRY_NODE] if self.registry_node else []) + ['client%d' % i for i in range(1, self.n_clients + 1)]
        if 11 + self.n_clients > len(hosts):
            raise BedError('%d clients do not fit in %s' % (self.n_clients, self.subnet))
        self.nodes = []
        for name in names:
            index = 10 if name == REGISTRY_NODE else 10 + int(name[len('client'):])
            self.nodes.append(Node(name, str(hosts[index - 1]), 'berth-%s-%s' % (self.run_id, name)))

    @property
    def registry(self):
        return next((n for n in self.nodes if n.name == REGISTRY_NODE), None)

    @property
    def clients(self):
        return [n for n in self.nodes if n.name != REGISTRY_NODE]

    @property
    def gateway(self):
        return str(next(ipaddress.ip_network(self.subnet).hosts()))

    def node(self, name):
        for n in self.nodes:
            if name in (n.name, n.container, n.ip):
                return n
        raise KeyError('no node %r in bed %s' % (name, self.run_id))

    def labels(self, *extra):
        args = ['--label', '%s=%s' % (RUN_LABEL, self.run_id), '--label', '%s=%s' % (OWNER_LABEL, self.owner)]
        for label in extra:
            args += ['--label', label]
        return args

    # --- lifecycle ---------------------------------------------------------------------------
    def up(self, timeout=90):
        """Create network, keys, volumes and nodes; wait until every node answers over SSH."""
        engine.require_engine()
        self.image = images.ensure_node_image()
        if self.registry_node:
            images.save_registry_image(self.registry_image_archive)
        try:
            self._create_run_dir()
            self.subnet = pick_subnet(self.subnet)
            self._plan_nodes()
            docker('network', 'create', '--internal', '--driver', 'bridge', '--subnet', self.subnet,
                   *self.labels(), self.network)
            self._raise_inotify_if_needed()
            self._parallel(self._start_container)
            self._parallel(lambda n: self.wait_ready(n, timeout))
            if self.registry_node:
                self._load_registry_image()
            self.write_inventory()
            self.save_state()
        except BaseException:
            self.down()
            raise
        return self

    def down(self):
        """Remove exactly what this run created (by its run label); safe to call twice."""
        label = '%s=%s' % (RUN_LABEL, self.run_id)
        remove_labelled(label)
        self._restore_inotify()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        state = read_state()
        if state and state.get('run_id') == self.run_id:
            os.unlink(STATE_PATH)

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()

    @staticmethod
    def cleanup_stale(keep_cli=True):
        """Remove leftovers of runs whose owning process is gone; live beds (and CLI beds) are kept."""
        fmt = '{{.Label "%s"}} {{.Label "%s"}}' % (RUN_LABEL, OWNER_LABEL)
        runs = {}
        for kind in ('container', 'network', 'volume'):
            for line in engine.listing(kind, RUN_LABEL, fmt):
                run, owner = (line.split(' ', 1) + [''])[:2]
                runs[run] = owner.strip()
        stale = sorted(run for run, owner in runs.items() if _is_stale(owner, keep_cli))
        for run in stale:
            remove_labelled('%s=%s' % (RUN_LABEL, run))
            shutil.rmtree(os.path.join(BED_DIR, run), ignore_errors=True)
        return stale

    # --- nodes -------------------------------------------------------------------------------
    def _create_run_dir(self):
        os.makedirs(os.path.join(self.run_dir, 'cp'), mode=0o700, exist_ok=True)
        if not os.path.exists(self.key_path):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'berth-bed-' + self.run_id,
                            '-f', self.key_path], check=True)

    def _start_container(self, node):
        volume = node.container + '-docker'
        docker('volume', 'create', *self.labels(NODE_LABEL + '=' + node.name), volume)
        docker('run', '-d', '--name', node.container, '--hostname', node.name,
               '--network', self.network, '--ip', node.ip, '--network-alias', node.name,
               *(['--network-alias', 'registry'] if node.name == REGISTRY_NODE else []),
               *self.labels(NODE_LABEL + '=' + node.name), *NODE_SECURITY,
               '--tmpfs', '/run:rw,exec,mode=755',
               '-v', volume + ':/var/lib/docker',
               '-v', self.key_path + '.pub:/etc/berth/authorized_key:ro',
               self.image)

    def ssh_argv(self, node, *cmd):
        node = self.node(node) if isinstance(node, str) else node
        return ['ssh', '-i', self.key_path, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
                '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=3',
                'root@' + node.ip, *cmd]

    def ssh(self, node, cmd, timeout=120):
        """Run cmd on node over SSH (the way Ansible reaches it); returns (rc, stdout+stderr)."""
        proc = subprocess.run(self.ssh_argv(node, cmd), capture_output=True, text=True, timeout=timeout, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def wait_ready(self, node, timeout=90):
        """Loop `ssh root@IP docker version` until it answers; fail with the node's logs."""
        node = self.node(node) if isinstance(node, str) else node
        deadline = time.monotonic() + timeout
        while True:
            rc, out = self.ssh(node, 'docker version --format "{{.Server.Version}}"', timeout=15)
            if rc == 0:
                return
            if time.monotonic() > deadline or not node.running():
                raise BedError('node %s (%s) not ready after %ds: %s\n%s'
                               % (node.name, node.ip, timeout, out.strip(), node.logs()))
            time.sleep(0.2)

    def stop_node(self, name):
        docker('stop', '-t', '15', self.node(name).container)

    def start_node(self, name, timeout=90):
        """Start a stopped node: its boot script runs again (sshd + dockerd), then wait until ready."""
        node = self.node(name)
        docker('start', node.container)
        self.wait_ready(node, timeout)

    def _load_registry_image(self):
        with open(self.registry_image_archive, 'rb') as archive:
            proc = subprocess.run([engine.DOCKER, 'exec', '-i', self.registry.container, 'docker', 'load'],
                                  stdin=archive, capture_output=True, timeout=300, check=False)
        if proc.returncode != 0:
            raise BedError('loading registry image into %s failed: %s' % (self.registry.name, proc.stderr.decode()))

    def _parallel(self, fn):
        with ThreadPoolExecutor(max_workers=min(16, max(1, len(self.nodes)))) as pool:
            for future in [pool.submit(fn, n) for n in self.nodes]:
                future.result()

    # --- inotify -----------------------------------------------------------------------------
    def _raise_inotify_if_needed(self):
        need = inotify_in_use() + 4 * len(self.nodes) + 32
        current = int(open(INOTIFY).read())
        if need > current:
            with open(INOTIFY, 'w') as f:
                f.write(str(need))
            self._inotify_restore = current

    def _restore_inotify(self):
        if self._inotify_restore is not None:
            with open(INOTIFY, 'w') as f:
                f.write(str(self._inotify_restore))
            self._inotify_restore = None

    # --- ansible -----------------------------------------------------------------------------
    def write_inventory(self, extra_vars=None, path=None):
        """(Re)write the YAML inventory (+ ansible.cfg); extra_vars go to group `all`. Returns path."""
        path = path or self.inventory_path
        inventory.write_inventory(self, path, extra_vars)
        inventory.write_ansible_cfg(self, self.ansible_cfg_path)
        return path

    def ansible_env(self, extra=None):
        return playbook.ansible_env(extra, config=self.ansible_cfg_path)

    def run_playbook(self, pb, **kwargs):
        kwargs.setdefault('inventory', self.inventory_path)
        kwargs.setdefault('config', self.ansible_cfg_path)
        return playbook.run_playbook(pb, **kwargs)

    def ansible(self, pattern, module, args=None, options=(), timeout=300):
        """Ad-hoc `ansible PATTERN -m MODULE -a ARGS` against the bed; returns the CompletedProcess."""
        cmd = ['ansible', pattern, '-i', self.inventory_path, '-m', module, *options]
        cmd += ['-a', args] if args else []
        return subprocess.run(cmd, env=self.ansible_env(), cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)

    # --- state for the CLI -------------------------------------------------------------------
    def to_state(self):
        return {'run_id': self.run_id, 'clients': self.n_clients, 'registry_node': self.registry_node,
                'subnet': self.subnet, 'owner': self.owner, 'image': self.image,
                'inotify_restore': self._inotify_restore}

    def save_state(self, path=None):
        with open(path or os.path.join(self.run_dir, 'state.json'), 'w') as f:
            json.dump(self.to_state(), f, indent=1)

    @classmethod
    def from_state(cls, state):
        bed = cls(state['clients'], state['registry_node'], state['run_id'], state['subnet'], state['owner'])
        bed.image = state.get('image')
        bed._inotify_restore = state.get('inotify_restore')
        return bed


STATE_PATH = os.path.join(BED_DIR, 'current.json')


def read_state():
    try:
        with open(STATE_PATH) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def inotify_in_use():
    count = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            for fd in os.scandir('/proc/%s/fd' % pid):
                try:
                    if os.readlink(fd.path) == 'anon_inode:inotify':
                        count += 1
                except OSError:
                    pass
        except OSError:
            pass
    return count


def remove_labelled(label):
    """Remove containers, then networks, then volumes carrying label (exact key=value)."""
    containers = engine.ids('container', label)
    if containers:
        docker('rm', '-f', '-v', *containers, check=False)
    for net in engine.ids('network', label):
        docker('network', 'rm', net, check=False)
    volumes = engine.ids('volume', label)
    if volumes:
        docker('volume', 'rm', '-f', *volumes, check=False)
    left = [engine.ids(kind, label) for kind in ('container', 'network', 'volume')]
    if any(left):
        raise EngineError('could not remove all objects labelled %s: %s' % (label, left))
