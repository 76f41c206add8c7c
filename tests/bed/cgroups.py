"""CPU and memory of a bed node, read from its container's cgroup on cgroup v2 and v1 hosts.

The container's cgroup is found through one of its processes: `/proc/<pid>/cgroup` names the
cgroup per hierarchy (`0::/path` on the unified v2 hierarchy, `N:cpu,cpuacct:/path` per v1
controller) and `/proc/self/mountinfo` says where each hierarchy is mounted. A v1 controller is
used when the process has one (v1 and hybrid hosts); otherwise the unified hierarchy (v2, Debian
12's default). Counters are hierarchical, so whatever runs nested in the node (its dockerd's
containers) is counted too.

    v2: cpu.stat `usage_usec`; memory.current, memory.stat `anon`
    v1: cpuacct.usage (ns);    memory.usage_in_bytes, memory.stat `total_rss`
"""

from __future__ import annotations

import os


class CgroupError(RuntimeError):
    pass


def parse_proc_cgroup(text):
    """{controller: path} from /proc/<pid>/cgroup; the unified (v2) hierarchy under the key ''."""
    paths = {}
    for line in text.splitlines():
        parts = line.strip().split(':', 2)
        if len(parts) != 3:
            continue
        dummy, controllers, path = parts
        if not controllers:
            paths[''] = path
        for controller in controllers.split(','):
            if controller:
                paths[controller] = path
    return paths


def parse_mountinfo(text):
    """[(fstype, mount root, mount point, super options)] of the cgroup and cgroup2 mounts."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(' - ')
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] not in ('cgroup', 'cgroup2'):
            continue
        root, point = _unescape(fields[3]), _unescape(fields[4])
        mounts.append((tail[0], root, point, tail[2].split(',')))
    return mounts


def _unescape(field):
    # mountinfo writes space, tab, newline and backslash as octal escapes
    for code, char in (('\\040', ' '), ('\\011', '\t'), ('\\012', '\n'), ('\\134', '\\')):
        field = field.replace(code, char)
    return field


def _under(mount_root, path):
    """Path of cgroup `path` relative to a mount of the hierarchy's subtree `mount_root`, or None."""
    if mount_root == '/':
        return path.lstrip('/')
    if path == mount_root or path.startswith(mount_root.rstrip('/') + '/'):
        return path[len(mount_root):].lstrip('/')
    return None


class NodeCgroup:
    """The cgroup of the process `pid` (any process of a container): where it is, and its counters.

    proc and fs_root exist for tests on a fake tree: fs_root is put in front of every mount point.
    """

    def __init__(self, pid, proc='/proc', fs_root=''):
        try:
            with open(os.path.join(proc, str(pid), 'cgroup')) as f:
                paths = parse_proc_cgroup(f.read())
            with open(os.path.join(proc, 'self', 'mountinfo')) as f:
                mounts = parse_mountinfo(f.read())
        except OSError as exc:
            raise CgroupError('cannot read the cgroup of pid %s: %s' % (pid, exc)) from exc
        self.pid = pid
        v1 = 'cpuacct' in paths or 'memory' in paths
        self.version = 1 if v1 else 2
        if v1:
            self.cpu_dir = self._v1_dir(mounts, paths, 'cpuacct', fs_root)
            self.memory_dir = self._v1_dir(mounts, paths, 'memory', fs_root)
        elif '' in paths:
            self.cpu_dir = self.memory_dir = self._v2_dir(mounts, paths[''], fs_root)
        else:
            raise CgroupError('pid %s is in no cgroup hierarchy this code knows: %r' % (pid, paths))
        if self.cpu_dir is None:
            raise CgroupError('no mounted cgroup hierarchy holds the cgroup of pid %s (%r)' % (pid, paths))

    @staticmethod
    def _v1_dir(mounts, paths, controller, fs_root):
        if controller not in paths:
            return None
        for fstype, root, point, options in mounts:
            if fstype == 'cgroup' and controller in options:
                rel = _under(root, paths[controller])
                if rel is not None:
                    path = os.path.join(fs_root + point, rel)
                    if os.path.isdir(path):
                        return path
        return None

    @staticmethod
    def _v2_dir(mounts, path, fs_root):
        for fstype, root, point, dummy in mounts:
            if fstype == 'cgroup2':
                rel = _under(root, path)
                if rel is not None:
                    found = os.path.join(fs_root + point, rel)
                    if os.path.isdir(found):
                        return found
        return None

    @property
    def source(self):
        """Which file the CPU figure comes from (printed with the figures)."""
        name = 'cpuacct.usage' if self.version == 1 else 'cpu.stat usage_usec'
        return 'cgroup v%d %s in %s' % (self.version, name, self.cpu_dir)

    def cpu_seconds(self):
        """CPU time used by everything in the cgroup since it was made."""
        if self.version == 1:
            with open(os.path.join(self.cpu_dir, 'cpuacct.usage')) as f:
                return int(f.read()) / 1e9
        return _stat(os.path.join(self.cpu_dir, 'cpu.stat'))['usage_usec'] / 1e6

    def memory_bytes(self):
        """(usage including page cache, anonymous/RSS) in bytes; (None, None) without a memory controller."""
        if self.memory_dir is None:
            return None, None
        if self.version == 1:
            with open(os.path.join(self.memory_dir, 'memory.usage_in_bytes')) as f:
                usage = int(f.read())
            stat = _stat(os.path.join(self.memory_dir, 'memory.stat'))
            return usage, stat.get('total_rss', stat.get('rss', 0))
        try:
            with open(os.path.join(self.memory_dir, 'memory.current')) as f:
                usage = int(f.read())
        except OSError:
            return None, None  # the memory controller is not enabled for this subtree
        return usage, _stat(os.path.join(self.memory_dir, 'memory.stat')).get('anon', 0)


def _stat(path):
    values = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                values[parts[0]] = int(parts[1])
    return values


def container_cgroup(container):
    """NodeCgroup of a running container on the host engine (through its main process)."""
    from bed.engine import docker  # here, so the parsing above imports without an engine

    pid = docker('inspect', '-f', '{{.State.Pid}}', container).stdout.strip()
    if not pid.isdigit() or pid == '0':
        raise CgroupError('container %s is not running (pid %r)' % (container, pid))
    return NodeCgroup(int(pid))
