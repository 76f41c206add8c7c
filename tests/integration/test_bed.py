"""The multi-node test bed itself: nodes answer over SSH, Ansible reaches them, every flavour does
its job (docker, bare + offline apt, containerd, podman, objectstore), teardown is exact."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import time

import pytest

from bed import engine, flavours, s3
from bed.engine import docker
from bed.nodes import OWNER_LABEL, RUN_LABEL, Bed, BedError, NodeSpec, pick_subnet

ONELINE = re.compile(r'^(?P<host>\S+) \| (?P<status>[A-Z]+)(?: \| rc=(?P<rc>\d+))? (?:=> |\| )?(?P<rest>.*)$', re.M)


def oneline_results(proc):
    """{host: (status, rest)} from `ansible -o` output."""
    return {m.group('host'): (m.group('status'), m.group('rest')) for m in ONELINE.finditer(proc.stdout)}


def labelled_objects(label):
    return {kind: engine.ids(kind, label) for kind in ('container', 'network', 'volume')}


def test_nodes_are_up_with_fixed_addresses(bed):
    assert [n.name for n in bed.nodes] == ['registry1'] + ['client%d' % i for i in range(1, len(bed.clients) + 1)]
    assert [n.flavour for n in bed.nodes] == ['bare'] + ['docker'] * len(bed.clients)
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
    assert inv['flavour_bare']['hosts'] == [bed.registry.name]
    assert inv['flavour_docker']['hosts'] == [c.name for c in bed.clients]
    assert inv['_meta']['hostvars']['client1']['ansible_host'] == bed.clients[0].ip
    assert inv['_meta']['hostvars']['client1']['berth_flavour'] == 'docker'


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


# --- flavours ----------------------------------------------------------------------------------

MODULE_LIBRARIES = ('python3-docker', 'python3-bcrypt', 'python3-cryptography', 'python3-apt')


def installed(node, package):
    rc, out = node.exec("dpkg-query -W -f='${Status}' %s" % package)
    return rc == 0 and 'install ok installed' in out


def test_docker_node_carries_what_the_modules_import(bed):
    client = bed.clients[0]
    assert all(installed(client, p) for p in MODULE_LIBRARIES)
    assert client.exec('python3 -c "import docker, bcrypt, cryptography, apt"')[0] == 0


def test_registry_node_is_bare_as_a_users_host(bed):
    node = bed.registry
    assert node.flavour == 'bare'
    assert [p for p in MODULE_LIBRARIES if installed(node, p)] == []
    assert installed(node, 'docker.io') and installed(node, 'python3')
    # apt knows only the bed's local repository, and the bed network has no way out
    assert node.read_file('/etc/apt/sources.list') == flavours.APT_SOURCE
    assert node.exec('ls /etc/apt/sources.list.d')[1].strip() == ''
    assert docker('network', 'inspect', '-f', '{{.Internal}}', bed.network).stdout.strip() == 'true'


def test_bare_node_installs_packages_offline_from_the_local_repository(bed):
    # a node of its own: the session bed's registry node must stay bare for the site story
    solo = Bed(clients=['bare'], registry_node=False, run_id='bare-%d' % os.getpid())
    try:
        node = solo.up().clients[0]
        assert node.exec('python3 -c "import docker"')[0] != 0
        cmd = ('apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q '
               'python3-docker python3-bcrypt nginx haproxy redis-server')
        rc, out = solo.ssh(node, cmd, timeout=300)
        assert rc == 0, out
        assert 'file:%s' % flavours.APT_MOUNT in out and 'http://' not in out
        assert node.exec('python3 -c "import docker, bcrypt"')[0] == 0
        assert all(installed(node, p) for p in ('nginx', 'haproxy', 'redis-server'))
    finally:
        solo.down()


REGISTRY_PORT = 5999  # the bed test's own registry on registry1 (the site story uses 5000 / 443)


@pytest.fixture(scope='module')
def plain_registry(mixed_bed):
    """A throw-away plain-HTTP registry:2 on the mixed bed's registry node; yields 'registry1:5999'."""
    node, name = mixed_bed.registry, 'berth-bedtest-%s' % secrets.token_hex(3)
    rc, out = node.docker('run', '-d', '--name', name, '-p', '%d:5000' % REGISTRY_PORT, 'registry:2')
    assert rc == 0, out
    try:
        endpoint = '%s:%d' % (node.name, REGISTRY_PORT)
        deadline = time.monotonic() + 30
        while node.exec('curl -sf http://127.0.0.1:%d/v2/' % REGISTRY_PORT)[0] != 0:
            assert time.monotonic() < deadline, node.docker('logs', name)[1]
            time.sleep(0.2)
        yield endpoint
    finally:
        node.docker('rm', '-f', '-v', name)


def test_mixed_bed_groups(mixed_bed):
    flavour_of = {n.name: n.flavour for n in mixed_bed.clients}
    assert flavour_of == {'client1': 'docker', 'client2': 'containerd', 'client3': 'podman'}
    proc = subprocess.run(['ansible-inventory', '-i', mixed_bed.inventory_path, '--list'], env=mixed_bed.ansible_env(),
                          capture_output=True, text=True, check=True)
    inv = json.loads(proc.stdout)
    assert inv['registry_clients']['hosts'] == ['client1', 'client2', 'client3']
    assert inv['flavour_containerd']['hosts'] == ['client2'] and inv['flavour_podman']['hosts'] == ['client3']
    proc = mixed_bed.ansible('all', 'ping', options=['-o'])
    assert proc.returncode == 0 and sorted(oneline_results(proc)) == sorted(n.name for n in mixed_bed.nodes), proc.stdout


def test_containerd_node_runs_containerd_under_systemd_and_no_dockerd(mixed_bed, plain_registry):
    node = mixed_bed.node('client2')
    rc, out = mixed_bed.ssh(node, 'ctr version')
    assert rc == 0 and re.search(r'Server:\s+Version:\s+1\.6\.', out), out
    assert node.read_file('/proc/1/comm').strip() == 'systemd'
    assert node.exec('command -v dockerd docker')[1].strip() == ''
    assert node.exec('pidof dockerd')[0] != 0
    assert node.exec('systemctl is-system-running')[1].strip() == 'running', node.exec('systemctl --failed')[1]
    assert re.search(r'config_path = ""', node.exec('containerd config dump')[1])
    # the restart path a module takes after setting config_path: a new containerd that answers
    before = node.exec('systemctl show -p MainPID --value containerd')[1].strip()
    assert mixed_bed.ssh(node, 'service containerd restart && ctr version >/dev/null')[0] == 0
    after = node.exec('systemctl show -p MainPID --value containerd')[1].strip()
    assert after not in ('0', before), (before, after)
    rc, out = node.exec('ctr images pull --plain-http %s/berth/none:1' % plain_registry)
    assert rc != 0 and 'not found' in out, out  # reaches the registry through the bed network


def test_podman_node_pushes_and_pulls_through_a_bed_registry(mixed_bed, plain_registry):
    node = mixed_bed.node('client3')
    rc, out = mixed_bed.ssh(node, 'podman info --format "{{.Store.GraphDriverName}} {{.Host.OCIRuntime.Name}}"')
    assert rc == 0 and out.split() == ['overlay', 'crun'], out
    assert node.exec('command -v dockerd docker')[1].strip() == '' and node.exec('pidof dockerd')[0] != 0
    assert node.exec('buildah --version && skopeo --version')[0] == 0
    image = '%s/berth/podman:1' % plain_registry
    for step in ('tar cf - -C /etc hostname | podman import - berth/tiny:1',
                 'podman push --tls-verify=false berth/tiny:1 %s' % image,
                 'podman rmi -a -f',
                 'podman pull --tls-verify=false %s' % image,
                 'skopeo inspect --tls-verify=false docker://%s' % image):
        rc, out = node.exec(step)
        assert rc == 0, '%s:\n%s' % (step, out)
    # and containerd pulls what podman pushed
    rc, out = mixed_bed.node('client2').exec('ctr images pull --plain-http %s' % image)
    assert rc == 0, out


def test_ha_bed_shape_and_groups(ha_bed):
    assert [n.name for n in ha_bed.registries] == ['registry1', 'registry2']
    assert ha_bed.lb.name == 'lb1' and ha_bed.objectstore.name == 'store'
    assert [n.name for n in ha_bed.clients] == ['client1', 'client2']
    proc = subprocess.run(['ansible-inventory', '-i', ha_bed.inventory_path, '--list'], env=ha_bed.ansible_env(),
                          capture_output=True, text=True, check=True)
    inv = json.loads(proc.stdout)
    assert inv['registry']['hosts'] == ['registry1', 'registry2']
    assert inv['registry_lb']['hosts'] == ['lb1']
    assert inv['objectstore']['hosts'] == ['store'] and 'store' not in inv['registry_clients']['hosts']
    assert inv['_meta']['hostvars']['store']['berth_s3_endpoint'] == ha_bed.s3.endpoint
    for node in ha_bed.registries:  # every replica can run the registry image without pulling
        assert node.docker('image', 'inspect', 'registry:2')[0] == 0
    proc = ha_bed.ansible('all', 'ping', options=['-o'])
    assert proc.returncode == 0 and len(oneline_results(proc)) == 6, proc.stdout + proc.stderr


def test_objectstore_serves_s3(ha_bed):
    store, bucket = ha_bed.s3, 'berth-bedtest-%s' % secrets.token_hex(3)
    assert store.create_bucket(bucket) == 200
    data = secrets.token_bytes(3 * 2**20)  # a few MiB, binary
    assert store.put(bucket, 'dir/blob', data) == 200
    assert store.get(bucket, 'dir/blob') == data
    assert bucket in store.list_buckets()
    wrong = s3.S3(store.endpoint, store.access_key, 'not-the-secret-key-0000000000000000000000')
    assert wrong.request('GET', '', check=False)[0] == 403
    # the registry nodes reach it over the bed network (anonymous: refused, but answered)
    rc, out = ha_bed.registry.exec('curl -s -o /dev/null -w "%%{http_code}" %s/%s/dir/blob' % (store.endpoint, bucket))
    assert out.strip() == '403', out
    # objects survive a restart of the store node (the memstore OSD saves them as it stops)
    ha_bed.stop_node(ha_bed.objectstore.name)
    ha_bed.start_node(ha_bed.objectstore.name)
    assert store.get(bucket, 'dir/blob') == data


def test_specs_are_checked_before_anything_starts():
    with pytest.raises(ValueError, match='unknown node flavour'):
        Bed(clients=['dockr'])
    with pytest.raises(BedError, match='cannot be a registry client'):
        Bed(clients=['objectstore'])
    with pytest.raises(BedError, match='used twice'):
        Bed(nodes=[NodeSpec('a', 'bare', (), 20), NodeSpec('b', 'bare', (), 20)])


@pytest.mark.scale
def test_scale_bed_of_light_clients_answers_ansible():
    n = int(os.environ.get('BERTH_BED_SCALE_N', '50'))
    big = Bed(clients=n, registry_node=False, light=True, run_id='scale-%d' % os.getpid())
    try:
        big.up()
        proc = big.ansible('all', 'ping', options=['-o'], timeout=900)
        assert proc.returncode == 0 and len(oneline_results(proc)) == n, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert big.clients[-1].dockerd_pid()
    finally:
        big.down()
