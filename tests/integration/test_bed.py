"""The multi-node test bed itself: nodes answer over SSH, Ansible reaches them, teardown is exact."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time

from bed import engine
from bed.engine import docker
from bed.nodes import OWNER_LABEL, RUN_LABEL, Bed, pick_subnet

ONELINE = re.compile(r'^(?P<host>\S+) \| (?P<status>[A-Z]+)(?: \| rc=(?P<rc>\d+))? (?:=> |\| )?(?P<rest>.*)$', re.M)


def oneline_results(proc):
    """{host: (status, rest)} from `ansible -o` output."""
    return {m.group('host'): (m.group('status'), m.group('rest')) for m in ONELINE.finditer(proc.stdout)}


def labelled_objects(label):
    return {kind: engine.ids(kind, label) for kind in ('container', 'network', 'volume')}


def test_nodes_are_up_with_fixed_addresses(bed):
    assert [n.name for n in bed.nodes] == ['registry1'] + ['client%d' % i for i in range(1, len(bed.clients) + 1)]
    prefix = bed.subnet.rsplit('.', 1)[0]
    assert bed.registry.ip == prefix + '.10'
    assert [c.ip for c in bed.clients] == ['%s.%d' % (prefix, 11 + i) for i in range(len(bed.clients))]
    for node in bed.nodes:
        assert node.running()
        assert node.read_file('/etc/hostname').strip() == node.name
        assert node.container == 'berth-%s-%s' % (bed.run_id, node.name)


def test_ansible_ping_reaches_every_node_over_ssh(bed):
    proc = bed.ansible('all', 'ping', options=['-o'])
    results = oneline_results(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(results) == sorted(n.name for n in bed.nodes)
    for host, (status, rest) in results.items():
        assert status == 'SUCCESS' and json.loads(rest)['ping'] == 'pong', (host, status, rest)


def test_inventory_groups(bed):
    proc = subprocess.run(['ansible-inventory', '-i', bed.inventory_path, '--list'], env=bed.ansible_env(),
                          capture_output=True, text=True, check=True)
    inv = json.loads(proc.stdout)
    assert inv['registry']['hosts'] == [bed.registry.name]
    assert inv['registry_clients']['hosts'] == [c.name for c in bed.clients]
    assert inv['_meta']['hostvars']['client1']['ansible_host'] == bed.clients[0].ip


def test_each_node_runs_its_own_dockerd(bed):
    for node in bed.nodes:
        rc, out = node.docker('version', '--format', '{{.Server.Version}}')
        assert rc == 0 and out.strip(), (node.name, out)
        pid = node.dockerd_pid()
        assert pid and node.read_file('/proc/%d/comm' % pid).strip() == 'dockerd'
    proc = bed.ansible('all', 'command', 'docker version', options=['-o'])
    results = oneline_results(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(results) == sorted(n.name for n in bed.nodes)
    for host, (status, rest) in results.items():
        assert status == 'CHANGED' and re.search(r'Server:.*Version:\s+\d+\.\d+', rest), (host, status, rest)


def test_registry_node_has_registry_image_without_pulling(bed):
    assert os.path.isfile(bed.registry_image_archive)
    rc, out = bed.registry.docker('image', 'inspect', '--format', '{{.Config.Entrypoint}}', 'registry:2')
    assert rc == 0 and '/bin/registry' in out, out


def test_stopped_node_comes_back_with_sshd_and_dockerd(bed):
    node = bed.clients[-1]
    bed.stop_node(node.name)
    assert not node.running()
    bed.start_node(node.name)
    assert node.docker('info', '--format', '{{.ServerVersion}}')[0] == 0
    assert bed.ssh(node, 'cat /var/run/docker.pid')[0] == 0


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_registry_image_serves_v2_on_the_host_engine(bed, registry_image):
    # a network of this run (its label makes bed.down() collect it if this test dies half-way)
    network, name, port = bed.network + '-hostreg', 'berth-%s-hostreg' % bed.run_id, _free_port()
    docker('network', 'create', '--subnet', pick_subnet(), *bed.labels(), network)
    try:
        docker('run', '-d', '--name', name, *bed.labels(), '--network', network,
               '-p', '127.0.0.1:%d:5000' % port, registry_image)
        url = 'http://127.0.0.1:%d/v2/' % port
        code = ''
        for _attempt in range(50):
            code = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', url],
                                  capture_output=True, text=True, check=False).stdout
            if code == '200':
                break
            time.sleep(0.1)
        assert code == '200', docker('logs', name, check=False).stderr
    finally:
        docker('rm', '-f', '-v', name, check=False)
        docker('network', 'rm', network, check=False)
    assert not docker('ps', '-aq', '--filter', 'name=^%s$' % name).stdout.strip()


def test_teardown_removes_exactly_what_the_run_created(bed):
    decoy = 'berth-decoy-%d' % os.getpid()
    decoy_labels = ['--label', '%s=%s' % (RUN_LABEL, decoy), '--label', '%s=%d' % (OWNER_LABEL, os.getpid())]
    docker('volume', 'create', *decoy_labels, decoy)
    docker('network', 'create', '--internal', *decoy_labels, '--label', 'berth.test.decoy=1', decoy)
    small = Bed(clients=1, registry_node=False, run_id='teardown-%d' % os.getpid())
    label = '%s=%s' % (RUN_LABEL, small.run_id)
    try:
        small.up()
        assert [n.name for n in small.nodes] == ['client1']
        assert small.ssh(small.clients[0], 'docker version')[0] == 0
        assert all(labelled_objects(label).values())
        small.down()
        assert labelled_objects(label) == {'container': [], 'network': [], 'volume': []}
        assert not os.path.exists(small.run_dir)
        small.down()  # idempotent
        decoys = labelled_objects('%s=%s' % (RUN_LABEL, decoy))
        assert decoys['volume'] == [decoy] and len(decoys['network']) == 1
        assert all(n.running() for n in bed.nodes)  # the session bed is untouched too
    finally:
        small.down()
        docker('network', 'rm', decoy, check=False)
        docker('volume', 'rm', decoy, check=False)
