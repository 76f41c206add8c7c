"""A throw-away fleet of hosts: one container per node (a flavour, see flavours.py), each with its own sshd and runtime."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from . import aptrepo, engine, flavours, images, inventory, playbook, s3
from .engine import EngineError, docker

ROOT = playbook.ROOT
BED_DIR = os.path.join(ROOT, '.build', 'bed')
RUN_LABEL = 'berth.bed.run'
OWNER_LABEL = 'berth.bed.owner'
NODE_LABEL = 'berth.bed.node'
FLAVOUR_LABEL = 'berth.bed.flavour'
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


@dataclass(frozen=True)
class NodeSpec:
    """What a test asks for: a node name, its flavour (flavours.py) and its inventory groups.

    index is its host number in the bed's /24 (None: assigned by role, see Bed)."""

    name: str
    flavour: str = 'docker'
    groups: tuple = ()
    index: int | None = None


@dataclass
class Node:
    name: str
    ip: str
    container: str
    flavour: str = 'docker'
    groups: tuple = ()

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
    """A fleet of node containers on a labelled `--internal` bridge network of their own.

    Addresses in the bed's /24: registry nodes `registry1..` at .10 downwards (registry1 = .10,
    DNS alias `registry`), the load-balancer node `lb1` at .6, extra nodes at .2.., clients
    `client1..N` at .11 upwards. Compose it from flavours (flavours.py):

        Bed(clients=3)                                       # registry1 (bare) + 3 docker clients
        Bed(clients=['docker', 'containerd', 'podman'])      # a mixed fleet
        Bed(clients=2, registries=2, lb=True, extra={'store': 'objectstore'})   # HA story
        Bed(nodes=[NodeSpec('web1', 'bare', ('web',), index=20), ...])          # anything else

    Inventory groups: `registry`, `registry_clients`, `registry_lb`, one group per extra node's
    flavour (e.g. `objectstore`, not a client), and `flavour_<name>` for every node.
    """

    playbook = playbook

    def __init__(self, clients=3, registry_node=True, run_id=None, subnet=None, owner=None, *,
                 registry='bare', registries=None, lb=None, extra=None, nodes=None, light=False):
        self.run_id = run_id or 'r%d-%d' % (os.getpid(), int(time.time()) % 100000)
        if registries is None:
            registries = 1 if registry_node else 0
        self.specs = list(nodes) if nodes is not None else plan(clients, registries, registry, lb, extra)
        check_specs(self.specs)
        self.light = light
        self.subnet = subnet
        self.owner = str(owner or os.getpid())
        self.run_dir = os.path.join(BED_DIR, self.run_id)
        self.network = 'berth-%s' % self.run_id
        self.key_path = os.path.join(self.run_dir, 'id_ed25519')
        self.registry_image_archive = os.path.join(BED_DIR, 'registry-image.tar')
        self.inventory_path = os.path.join(self.run_dir, 'inventory.yml')
        self.ansible_cfg_path = os.path.join(self.run_dir, 'ansible.cfg')
        self.s3_env_path = os.path.join(self.run_dir, 's3.env')
        self.images = {}
        self.apt_repo = None
        self.s3 = None
        self._sysctl_restore = {}
        self.nodes = []
        if subnet:
            self._plan_nodes()

    # --- layout ------------------------------------------------------------------------------
    @property
    def n_clients(self):
        return sum(1 for s in self.specs if CLIENTS in s.groups)

    @property
    def registry_node(self):
        return any(REGISTRIES in s.groups for s in self.specs)

    @property
    def image(self):
        """Tag of the docker-flavour image (what every node ran before flavours existed)."""
        return self.images.get('docker')

    def _plan_nodes(self):
        hosts = list(ipaddress.ip_network(self.subnet).hosts())
        self.nodes = []
        for spec in self.specs:
            if spec.index > len(hosts):
                raise BedError('node %s (.%d) does not fit in %s' % (spec.name, spec.index, self.subnet))
            self.nodes.append(Node(spec.name, str(hosts[spec.index - 1]), 'berth-%s-%s' % (self.run_id, spec.name),
                                   spec.flavour, node_groups(spec)))

    def group(self, name):
        return [n for n in self.nodes if name in n.groups]

    @property
    def registry(self):
        """The first registry node (registry1), or None."""
        return next(iter(self.group(REGISTRIES)), None)

    @property
    def registries(self):
        return self.group(REGISTRIES)

    @property
    def clients(self):
        return self.group(CLIENTS)

    @property
    def lb(self):
        return next(iter(self.group(LB)), None)

    @property
    def objectstore(self):
        return next(iter(self.group('flavour_objectstore')), None)

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
    def prepare(self):
        """Images of every flavour this bed uses and the local apt repository (cached; built when missing)."""
        engine.require_engine()
        wanted = sorted({s.flavour for s in self.specs})
        images.ensure_image('base')
        with ThreadPoolExecutor(max_workers=4) as pool:
            repo = pool.submit(aptrepo.ensure_repo, BED_DIR)
            tags = {f: pool.submit(images.ensure_image, f) for f in wanted}
            self.images = {f: t.result() for f, t in tags.items()}
            self.apt_repo = repo.result()
        if any(self._hosts_registry_image(s) for s in self.specs):
            images.save_registry_image(self.registry_image_archive)
        return self

    def up(self, timeout=90):
        """Create network, keys, volumes and nodes; wait until every node answers over SSH."""
        self.prepare()
        timeout = max(timeout, len(self.specs))  # a hundred nodes boot on two cores
        try:
            self._create_run_dir()
            self.subnet = pick_subnet(self.subnet)
            self._plan_nodes()
            self._load_s3()
            docker('network', 'create', '--internal', '--driver', 'bridge', '--subnet', self.subnet,
                   *self.labels(), self.network)
            self._raise_limits()
            self._parallel(self._start_container)
            self._parallel(lambda n: self.wait_ready(n, timeout))
            self._parallel(self._load_registry_image, [n for n in self.nodes if self._hosts_registry_image(n)])
            self.write_inventory()
            self.save_state()
        except BaseException:
            self.down()
            raise
        return self

    def down(self):
        """Remove exactly what this run created (by its run label); safe to call twice."""
        label = '%s=%s' % (RUN_LABEL, self.run_id)
        try:
            remove_labelled(label)
        finally:
            self._restore_limits()
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
            remove_labelled('%s=%s' % (RUN_LABEL, run), strict=False)
            shutil.rmtree(os.path.join(BED_DIR, run), ignore_errors=True)
        return stale

    # --- nodes -------------------------------------------------------------------------------
    def _create_run_dir(self):
        os.makedirs(os.path.join(self.run_dir, 'cp'), mode=0o700, exist_ok=True)
        if not os.path.exists(self.key_path):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'berth-bed-' + self.run_id,
                            '-f', self.key_path], check=True)
        if any(s.flavour == 'objectstore' for s in self.specs):
            if not os.path.exists(self.s3_env_path):
                access, secret = s3.new_credentials()
                fd = os.open(self.s3_env_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, 'w') as f:
                    f.write('BERTH_S3_ACCESS_KEY=%s\nBERTH_S3_SECRET_KEY=%s\n' % (access, secret))

    def _load_s3(self):
        store = self.objectstore
        if store and os.path.exists(self.s3_env_path):
            with open(self.s3_env_path) as f:
                env = dict(line.strip().split('=', 1) for line in f if '=' in line)
            self.s3 = s3.S3('http://%s:%d' % (store.ip, flavours.S3_PORT),
                            env['BERTH_S3_ACCESS_KEY'], env['BERTH_S3_SECRET_KEY'])

    def _hosts_registry_image(self, node):
        """Registry nodes with a dockerd get the registry image loaded (no registry to pull from)."""
        return REGISTRIES in node.groups and flavours.flavour(node.flavour).services == ('docker',)

    def _start_container(self, node):
        flavour = flavours.flavour(node.flavour)
        labels = self.labels(NODE_LABEL + '=' + node.name, FLAVOUR_LABEL + '=' + node.flavour)
        args = ['--name', node.container, '--hostname', node.name,
                '--network', self.network, '--ip', node.ip, '--network-alias', node.name,
                *(['--network-alias', 'registry'] if node.name == REGISTRY_NODE else []),
                *labels, *NODE_SECURITY,
                '--tmpfs', '/run:rw,exec,mode=755', '--tmpfs', '/run/lock',
                '-v', self.key_path + '.pub:/etc/berth/authorized_key:ro',
                '-v', '%s:%s:ro' % (self.apt_repo, flavours.APT_MOUNT)]
        if flavour.state_dir:
            volume = '%s-%s' % (node.container, os.path.basename(flavour.state_dir))
            docker('volume', 'create', *labels, volume)
            args += ['-v', '%s:%s' % (volume, flavour.state_dir)]
        if node.flavour == 'objectstore':
            args += ['-v', self.s3_env_path + ':/etc/berth/s3.env:ro']
        if self.light and CLIENTS in node.groups and 'docker' in flavour.services:
            args += ['-e', 'BERTH_DOCKERD_OPTS=' + LIGHT_DOCKERD_OPTS]
        docker('run', '-d', *args, self.images[node.flavour])

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
        """Loop the flavour's readiness command over SSH (`docker version`, `ctr version`, ...) until it
        answers, and for the object store until S3 answers from here; fail with the node's logs."""
        node = self.node(node) if isinstance(node, str) else node
        ready = flavours.flavour(node.flavour).ready
        deadline = time.monotonic() + timeout
        while True:
            try:
                rc, out = self.ssh(node, ready, timeout=15)
            except subprocess.TimeoutExpired as exc:
                rc, out = 124, str(exc)
            if rc == 0 and node.flavour == 'objectstore' and self.s3 and not self.s3.answers():
                rc, out = 1, 'S3 on %s does not answer yet' % self.s3.endpoint
            if rc == 0:
                return
            if time.monotonic() > deadline or not node.running():
                raise BedError('node %s (%s) not ready after %ds: %s\n%s'
                               % (node.name, node.ip, timeout, out.strip(), node.logs()))
            time.sleep(0.2)

    def stop_node(self, name):
        docker('stop', '-t', '15', self.node(name).container)

    def start_node(self, name, timeout=90):
        """Start a stopped node: its boot runs again (sshd + services, or systemd), then wait until ready."""
        node = self.node(name)
        docker('start', node.container)
        self.wait_ready(node, timeout)

    def _load_registry_image(self, node):
        with open(self.registry_image_archive, 'rb') as archive:
            proc = subprocess.run([engine.DOCKER, 'exec', '-i', node.container, 'docker', 'load'],
                                  stdin=archive, capture_output=True, timeout=300, check=False)
        if proc.returncode != 0:
            raise BedError('loading registry image into %s failed: %s' % (node.name, proc.stderr.decode()))

    def _parallel(self, fn, nodes=None):
        nodes = self.nodes if nodes is None else nodes
        if not nodes:
            return
        with ThreadPoolExecutor(max_workers=min(16, len(nodes))) as pool:
            for future in [pool.submit(fn, n) for n in nodes]:
                future.result()

    # --- host limits for many nodes (raised for the run, restored by down) --------------------
    def _raise_limits(self):
        per_node = sum(8 if flavours.flavour(s.flavour).init == 'systemd' else 4 for s in self.specs)
        self._raise_sysctl(INOTIFY, inotify_in_use() + per_node + 32)
        # Measured for 100 nodes (SCALE.md): PIDs (~22 tasks/node), memory (~40 MiB/node) and the
        # host's neighbour table (one entry per node, GC from 512) are far from their limits.

    def _raise_sysctl(self, path, need):
        current = int(open(path).read().split()[0])
        if need > current:
            with open(path, 'w') as f:
                f.write(str(need))
            self._sysctl_restore.setdefault(path, [current, need])

    def _restore_limits(self):
        for path, (old, ours) in list(self._sysctl_restore.items()):
            try:
                # another bed may have raised it further meanwhile: then it is that bed's to restore
                if int(open(path).read().split()[0]) == ours:
                    with open(path, 'w') as f:
                        f.write(str(old))
            except OSError:
                pass
            del self._sysctl_restore[path]

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
        return {'run_id': self.run_id, 'subnet': self.subnet, 'owner': self.owner, 'light': self.light,
                'nodes': [asdict(s) for s in self.specs], 'images': self.images, 'apt_repo': self.apt_repo,
                'sysctl_restore': self._sysctl_restore}

    def save_state(self, path=None):
        with open(path or os.path.join(self.run_dir, 'state.json'), 'w') as f:
            json.dump(self.to_state(), f, indent=1)

    @classmethod
    def from_state(cls, state):
        if 'nodes' in state:
            specs = [NodeSpec(d['name'], d['flavour'], tuple(d['groups']), d['index']) for d in state['nodes']]
        else:  # a bed brought up before flavours existed: every node was a docker node
            specs = plan(state['clients'], int(state['registry_node']), 'docker')
        bed = cls(nodes=specs, run_id=state['run_id'], subnet=state['subnet'], owner=state['owner'],
                  light=state.get('light', False))
        bed.images = state.get('images') or {}
        bed.apt_repo = state.get('apt_repo')
        bed._sysctl_restore = state.get('sysctl_restore') or {}
        bed._load_s3()
        return bed


# --- composition -------------------------------------------------------------------------------
REGISTRIES, CLIENTS, LB = 'registry', 'registry_clients', 'registry_lb'
REGISTRY_INDEXES = (10, 9, 8, 7)
LB_INDEX = 6
EXTRA_INDEXES = (2, 3, 4, 5)
FIRST_CLIENT = 11


def plan(clients=3, registries=1, registry='bare', lb=None, extra=None):
    """Node specs for the usual shapes: registries, an optional LB, extra nodes, then clients.

    clients: a count of docker clients, or a list of flavours (or NodeSpecs) one per client.
    lb: True (a bare node) or a flavour. extra: {name: flavour or NodeSpec}, not clients."""
    if registries > len(REGISTRY_INDEXES):
        raise BedError('at most %d registry nodes' % len(REGISTRY_INDEXES))
    specs = [NodeSpec('registry%d' % (i + 1), registry, (REGISTRIES,), REGISTRY_INDEXES[i]) for i in range(registries)]
    if lb:
        specs.append(NodeSpec('lb1', 'bare' if lb is True else lb, (LB,), LB_INDEX))
    extra = dict(extra or {})
    if len(extra) > len(EXTRA_INDEXES):
        raise BedError('at most %d extra nodes without explicit NodeSpec indexes' % len(EXTRA_INDEXES))
    for index, (name, what) in zip(EXTRA_INDEXES, extra.items()):
        specs.append(what if isinstance(what, NodeSpec) else NodeSpec(name, what, (what,), index))
    kinds = ['docker'] * clients if isinstance(clients, int) else list(clients)
    for i, what in enumerate(kinds, 1):
        specs.append(what if isinstance(what, NodeSpec) else NodeSpec('client%d' % i, what, (CLIENTS,), FIRST_CLIENT + i - 1))
    return specs


def check_specs(specs):
    names, indexes = set(), set()
    for spec in specs:
        flavours.flavour(spec.flavour)  # raises for an unknown flavour
        if spec.name in names or spec.index in indexes:
            raise BedError('node %s: name or address .%s used twice' % (spec.name, spec.index))
        if spec.index is None or not 2 <= spec.index <= 254:
            raise BedError('node %s: index %s is not a host number in 2..254' % (spec.name, spec.index))
        if CLIENTS in spec.groups and not flavours.flavour(spec.flavour).client:
            raise BedError('node %s: flavour %s cannot be a registry client' % (spec.name, spec.flavour))
        names.add(spec.name)
        indexes.add(spec.index)


def node_groups(spec):
    return tuple(spec.groups) + ('flavour_' + spec.flavour,)


# Scale beds: each client still runs its own dockerd and sshd, but dockerd sets up no bridge,
# NAT or proxies (nothing runs containers on a client) and logs only errors.
LIGHT_DOCKERD_OPTS = '--iptables=false --ip-masq=false --bridge=none --userland-proxy=false --log-level=error'
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


def remove_labelled(label, strict=True):
    """Remove containers, then networks, then volumes carrying label (exact key=value).

    Containers leave their networks one at a time first: Docker 20.10 removing many containers
    of one network at once (the CLI removes in parallel) can lose an endpoint-count update, and
    the network then answers "has active endpoints" with no endpoint left, until dockerd restarts.
    strict=False (cleanup of other runs' leftovers) warns about what stays instead of failing."""
    networks = engine.ids('network', label)
    for net in networks:
        attached = docker('network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', net, check=False)
        for name in attached.stdout.split():
            docker('network', 'disconnect', '-f', net, name, check=False)
    containers = engine.ids('container', label)
    if containers:
        docker('rm', '-f', '-v', *containers, check=False)
    for net in networks:
        for attempt in range(3):
            if docker('network', 'rm', net, check=False).returncode == 0:
                break
            time.sleep(0.5 * (attempt + 1))
    volumes = engine.ids('volume', label)
    if volumes:
        docker('volume', 'rm', '-f', *volumes, check=False)
    left = [engine.ids(kind, label) for kind in ('container', 'network', 'volume')]
    if any(left):
        message = 'could not remove all objects labelled %s: %s' % (label, left)
        if strict:
            raise EngineError(message)
        print('berth bed: warning: %s' % message, file=sys.stderr)
