# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Node CPU and memory from a container's cgroup, on fake v2, v1 and hybrid trees (/proc + /sys/fs/cgroup)."""

from __future__ import annotations

import os

import pytest

from bed.cgroups import CgroupError, NodeCgroup, parse_mountinfo, parse_proc_cgroup

CID = 'f4381756bab29a123ab9cee4a9a5cf47c4545e2181565d876a342578245cc4e2'
PID = 4242

# /proc/<pid>/cgroup of a container process, as the kernel writes it
V2_SYSTEMD = '0::/system.slice/docker-%s.scope\n' % CID
V1_CGROUPFS = ''.join('%d:%s:/docker/%s\n' % (i, c, CID) for i, c in (
    (9, 'name=systemd'), (4, 'memory'), (2, 'cpu,cpuacct'), (1, 'pids'))) + '0::/docker/%s\n' % CID
V1_HOST_SPLIT = ('13:hugetlb:/\n4:memory:/docker/%s\n2:cpuacct:/docker/%s\n1:cpu:/docker/%s\n0::/docker/%s\n'
                 % (CID, CID, CID, CID))

# /proc/self/mountinfo of the process that reads them
MOUNTS_V2 = ('29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 '
             'rw,nsdelegate,memory_recursiveprot\n'
             '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n')
MOUNTS_V1 = ('31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n'
             '33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n'
             '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n'
             '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n'
             '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n')
MOUNTS_HOST_SPLIT = ('32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n'
                     '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n'
                     '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n'
                     '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n')


def fake(tmp_path, proc_cgroup, mountinfo, files):
    """A fake /proc and file system root; files maps paths under the root to their text."""
    proc, root = tmp_path / 'proc', tmp_path / 'root'
    (proc / str(PID)).mkdir(parents=True)
    (proc / 'self').mkdir()
    (proc / str(PID) / 'cgroup').write_text(proc_cgroup)
    (proc / 'self' / 'mountinfo').write_text(mountinfo)
    for path, text in files.items():
        target = root / path.lstrip('/')
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return NodeCgroup(PID, proc=str(proc), fs_root=str(root))


def test_parse_proc_cgroup_v2_and_v1():
    assert parse_proc_cgroup(V2_SYSTEMD) == {'': '/system.slice/docker-%s.scope' % CID}
    v1 = parse_proc_cgroup(V1_CGROUPFS)
    assert v1['cpuacct'] == v1['cpu'] == v1['memory'] == v1[''] == '/docker/%s' % CID
    assert v1['name=systemd'] == '/docker/%s' % CID


def test_parse_mountinfo_keeps_only_cgroup_mounts():
    assert parse_mountinfo(MOUNTS_V2) == [('cgroup2', '/', '/sys/fs/cgroup', ['rw', 'nsdelegate', 'memory_recursiveprot'])]
    kinds = [(m[0], m[2]) for m in parse_mountinfo(MOUNTS_V1)]
    assert kinds == [('cgroup', '/sys/fs/cgroup/cpu,cpuacct'), ('cgroup', '/sys/fs/cgroup/memory'),
                     ('cgroup', '/sys/fs/cgroup/systemd'), ('cgroup2', '/sys/fs/cgroup/unified')]


def test_cgroup_v2_reads_usage_usec_and_memory_current(tmp_path):
    scope = '/sys/fs/cgroup/system.slice/docker-%s.scope/' % CID
    cg = fake(tmp_path, V2_SYSTEMD, MOUNTS_V2, {
        scope + 'cpu.stat': 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\n',
        scope + 'memory.current': '104857600\n',
        scope + 'memory.stat': 'anon 52428800\nfile 41943040\n',
    })
    assert cg.version == 2 and cg.cpu_dir.endswith(scope.rstrip('/'))
    assert cg.cpu_seconds() == 2.5
    assert cg.memory_bytes() == (104857600, 52428800)
    assert 'cgroup v2 cpu.stat usage_usec' in cg.source


def test_cgroup_v2_without_the_memory_controller_reports_no_memory(tmp_path):
    scope = '/sys/fs/cgroup/system.slice/docker-%s.scope/' % CID
    cg = fake(tmp_path, V2_SYSTEMD, MOUNTS_V2, {scope + 'cpu.stat': 'usage_usec 1000\n'})
    assert cg.cpu_seconds() == 0.001
    assert cg.memory_bytes() == (None, None)


def test_cgroup_v2_mounted_from_a_subtree(tmp_path):
    # inside a container with its own cgroup namespace the mount root is the namespace's root
    mountinfo = '29 23 0:26 /outer /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n'
    cg = fake(tmp_path, '0::/outer/docker/%s\n' % CID, mountinfo,
              {'/sys/fs/cgroup/docker/%s/cpu.stat' % CID: 'usage_usec 7000000\n'})
    assert cg.cpu_seconds() == 7.0


def test_cgroup_v1_reads_cpuacct_usage_nanoseconds(tmp_path):
    cg = fake(tmp_path, V1_CGROUPFS, MOUNTS_V1, {
        '/sys/fs/cgroup/cpu,cpuacct/docker/%s/cpuacct.usage' % CID: '3250000000\n',
        '/sys/fs/cgroup/memory/docker/%s/memory.usage_in_bytes' % CID: '2097152\n',
        '/sys/fs/cgroup/memory/docker/%s/memory.stat' % CID: 'cache 0\nrss 1048576\ntotal_rss 1572864\n',
        # the v2 hierarchy of a hybrid host holds the cgroup too; v1's controller wins
        '/sys/fs/cgroup/unified/docker/%s/cpu.stat' % CID: 'usage_usec 1\n',
    })
    assert cg.version == 1
    assert cg.cpu_seconds() == 3.25
    assert cg.memory_bytes() == (2097152, 1572864)
    assert 'cgroup v1 cpuacct.usage' in cg.source


def test_cgroup_v1_with_cpu_and_cpuacct_mounted_apart(tmp_path):
    cg = fake(tmp_path, V1_HOST_SPLIT, MOUNTS_HOST_SPLIT, {
        '/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage' % CID: '1000000000\n',
        '/sys/fs/cgroup/memory/docker/%s/memory.usage_in_bytes' % CID: '10\n',
        '/sys/fs/cgroup/memory/docker/%s/memory.stat' % CID: 'rss 4\n',
    })
    assert cg.cpu_seconds() == 1.0 and cg.memory_bytes() == (10, 4)


def test_a_cgroup_that_is_not_mounted_is_an_error_not_zero(tmp_path):
    with pytest.raises(CgroupError, match='no mounted cgroup hierarchy'):
        fake(tmp_path, V2_SYSTEMD, MOUNTS_V2, {})


def test_a_process_that_is_gone_is_an_error(tmp_path):
    with pytest.raises(CgroupError, match='cannot read the cgroup of pid 99999'):
        NodeCgroup(99999, proc=str(tmp_path))


@pytest.mark.skipif(not os.path.exists('/proc/self/cgroup'), reason='needs Linux /proc')
def test_this_process_is_readable_on_this_host():
    cg = NodeCgroup('self')
    assert cg.version in (1, 2)
    assert cg.cpu_seconds() >= 0
