"""site.yml on a mixed fleet: a docker, a containerd-only (systemd, no dockerd) and a podman-only client.

One story on the session's mixed bed, in file order: a legacy containerd config fails only its host,
then every client converges and pulls an image pushed to the registry through its own runtime
(docker pull, ctr images pull --hosts-dir, podman pull), containerd is restarted exactly once, a
rerun and check mode change nothing, mirrors and plain HTTP come and go in every runtime's files,
and state=absent takes everything away. The client nodes are put back as they were at the end
(the bed's own tests expect Debian's containerd config).

The CRI image service itself is not driven: there is no crictl in Debian, and a gRPC client of our
own is too much for a test. `ctr` resolves through the same hosts.toml code (remotes/docker/config).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile

import pytest

import _fleet
from _secrets import assert_no_leaks, basic_auth

CLIENT = 'playbooks/client.yml'
REPORT_PLAYBOOK = os.path.join(os.path.dirname(__file__), 'playbooks', 'runtimes', 'client_report.yml')
HOSTNAME = 'registry.berth.test'
MIRROR = 'https://mirror.berth.test'
MIRROR2 = 'https://mirror2.berth.test'
CONTAINERD_CONFIG = '/etc/containerd/config.toml'
CERTS_D = '/etc/containerd/certs.d'
LEGACY = '''version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
      endpoint = ["https://mirror.legacy.test"]
'''
# what each client flavour is made of: docker, containerd, podman (tests/bed/flavours.py)
RESTORE = {
    'client1': 'rm -rf /etc/docker/certs.d /root/.docker /var/lib/berth; echo "{}" > /etc/docker/daemon.json; '
               'kill -HUP "$(cat /var/run/docker.pid)"',
    'client2': 'rm -rf /etc/containerd/certs.d /var/lib/berth; cp /root/berth-config.toml /etc/containerd/config.toml; '
               'systemctl restart containerd',
    'client3': 'rm -rf /etc/containers/certs.d /etc/containers/registries.conf.d/50-berth-* /root/.config/containers '
               '/var/lib/berth; podman rmi -a -f >/dev/null 2>&1; true',
}


@pytest.fixture(scope='module')
def fleet(mixed_bed):
    pki = tempfile.mkdtemp(prefix='berth-runtimes-pki-')
    containerd = mixed_bed.node('client2')
    assert containerd.exec('cp %s /root/berth-config.toml' % CONTAINERD_CONFIG)[0] == 0
    state = Fleet(mixed_bed, pki)
    yield state
    for name, cmd in RESTORE.items():
        mixed_bed.node(name).exec(cmd)
    for node in mixed_bed.clients:
        node.exec("sed -i '/ %s$/d' /etc/hosts" % HOSTNAME.replace('.', r'\.'))
    shutil.rmtree(pki, ignore_errors=True)


class Fleet(_fleet.Fleet):
    def __init__(self, bed, pki_dir):
        super().__init__(bed, pki_dir, registry_hostname=HOSTNAME, registry_mirrors=[MIRROR],
                         registry_client_login_user='admin')
        self.docker, self.containerd, self.podman = (bed.node(n) for n in ('client1', 'client2', 'client3'))

    def containerd_pid(self):
        return self.containerd.exec('systemctl show -p MainPID --value containerd')[1].strip()

    def pids(self):
        return {'containerd': self.containerd_pid(), 'dockerd': self.docker.dockerd_pid()}


def ok(node, cmd):
    rc, out = node.exec(cmd)
    assert rc == 0, '%s: %s failed:\n%s' % (node.name, cmd, out)
    return out


def push(fleet, endpoint, repo):
    """Push a tiny image from the docker client; returns its reference."""
    image = '%s/%s/tiny:1' % (endpoint, repo)
    ok(fleet.docker, 'tar cf - -C /etc hostname | docker import - berth/tiny:1 >/dev/null && docker tag berth/tiny:1 %s '
                     '&& docker push %s' % (image, image))
    return image


def pull_everywhere(fleet, image, user=None):
    """The image pulls through each runtime's own configuration: docker, containerd (its hosts.toml), podman."""
    ok(fleet.docker, 'docker image rm %s >/dev/null && docker pull %s' % (image, image))
    auth = ' --user admin:%s' % fleet.password if user else ''
    ok(fleet.containerd, 'ctr images rm %s >/dev/null 2>&1; ctr images pull --hosts-dir %s%s %s'
       % (image, CERTS_D, auth, image))
    ok(fleet.podman, 'podman rmi -f %s >/dev/null 2>&1; podman pull %s' % (image, image))


def assert_converged(result, hosts):
    assert result.rc == 0, result
    for host in hosts:
        assert result.changed(host) == 0, 'host %s changed on a converged fleet:\n%s' % (host, result)


def test_a_legacy_containerd_config_fails_only_its_host_and_is_left_as_it_was(fleet):
    fleet.containerd.write_file(CONTAINERD_CONFIG, LEGACY)
    pid = fleet.containerd_pid()

    result = fleet.run()

    assert result.rc != 0 and result.failed_hosts() == ['client2'], result
    assert 'mirrors.\\"docker.io\\"' in result.stdout or 'mirrors."docker.io"' in result.stdout, result
    assert 'conflict with config_path' in result.stdout and 'containerd_migrate' in result.stdout
    assert fleet.containerd.read_file(CONTAINERD_CONFIG) == LEGACY
    assert not fleet.containerd.exists(CERTS_D) and fleet.containerd_pid() == pid
    for node in (fleet.docker, fleet.podman):
        assert result.changed(node.name) == 1, result
    # the others converged: TLS, login, mirrors
    image = push(fleet, HOSTNAME, 'client1')
    ok(fleet.podman, 'podman pull %s' % image)


def test_fixed_containerd_converges_with_one_restart(fleet):
    fleet.containerd.exec('cp /root/berth-config.toml %s' % CONTAINERD_CONFIG)
    before = fleet.pids()

    result = fleet.run()

    assert result.rc == 0, result
    assert result.changed('client2') == 1 and result.changed('client1') == 0 and result.changed('client3') == 0
    after = fleet.pids()
    assert after['containerd'] not in ('0', before['containerd']) and after['dockerd'] == before['dockerd']
    dump = ok(fleet.containerd, 'containerd config dump')
    assert re.search(r'config_path = "%s"' % re.escape(CERTS_D), dump), dump
    # Debian's file, every line in its place, plus the registry table
    old = fleet.containerd.read_file('/root/berth-config.toml').splitlines()
    new = fleet.containerd.read_file(CONTAINERD_CONFIG).splitlines()
    assert [line for line in new if line not in old] == [
        '    [plugins."io.containerd.grpc.v1.cri".registry]', '      config_path = "%s"' % CERTS_D]
    assert [line for line in new if line in old] == old
    hosts = fleet.containerd.read_file('%s/%s/hosts.toml' % (CERTS_D, HOSTNAME))
    assert 'server = "https://%s"' % HOSTNAME in hosts and 'ca = "%s/%s/ca.crt"' % (CERTS_D, HOSTNAME) in hosts
    assert 'ok' in ok(fleet.containerd, 'ctr plugins ls | grep -w cri')


def test_every_runtime_pulls_over_tls(fleet):
    image = '%s/client1/tiny:1' % HOSTNAME
    pull_everywhere(fleet, image, user='admin')
    # podman as a user types it: an explicit login, then a pull
    ok(fleet.podman, 'podman rmi -f %s >/dev/null; echo %s | podman login -u admin --password-stdin %s && podman pull %s '
                     '&& podman logout %s' % (image, fleet.password, HOSTNAME, image, HOSTNAME))
    # the stored login the role wrote is the one podman reads first after a reboot
    auth = json.loads(fleet.podman.read_file('/root/.config/containers/auth.json'))
    assert list(auth['auths']) == [HOSTNAME]


def test_no_password_in_any_output_of_a_containers_login(fleet):
    """-vvv --diff, check and real, first run and rerun: the login goes through skopeo's stdin, never its argv."""
    ok(fleet.podman, 'rm -f /root/.config/containers/auth.json')
    runs = []
    for check, changed in ((True, 1), (False, 1), (True, 0), (False, 0)):
        result = fleet.run(CLIENT, check=check, diff=True, limit='client3', args=('-vvv',))
        assert result.rc == 0 and result.changed('client3') == changed, result
        runs.append(result)
    assert_no_leaks(runs, [fleet.password, basic_auth('admin', fleet.password)], 'the client role on client3')
    assert basic_auth('admin', fleet.password) in fleet.podman.read_file('/root/.config/containers/auth.json')


def test_rerun_changes_nothing_and_restarts_nothing(fleet):
    before = fleet.pids()
    result = fleet.run()
    assert_converged(result, [n.name for n in fleet.bed.nodes])
    assert fleet.pids() == before


def test_check_diff_on_the_converged_fleet_changes_nothing(fleet):
    before = fleet.pids()
    result = fleet.run(check=True, diff=True)
    assert_converged(result, [n.name for n in fleet.bed.nodes])
    assert fleet.pids() == before


def test_the_report_shows_each_runtime_and_its_trust(fleet):
    report_dir = os.path.join(fleet.pki_dir, 'report')
    result = fleet.run(REPORT_PLAYBOOK, registry_report_dir=report_dir)
    assert result.rc == 0, result
    with open(os.path.join(report_dir, 'report.json')) as f:
        report = json.load(f)
    nodes = dict((n['name'], n) for n in report['nodes'])
    # Debian's docker.io brings containerd: present on the docker node, configured only for dockerd
    present = {'client1': ['docker', 'containerd'], 'client2': ['containerd'], 'client3': ['containers']}
    expected = {'client1': 'docker', 'client2': 'containerd', 'client3': 'containers'}
    for name, runtime in expected.items():
        node = nodes[name]
        assert node['check']['passed'] is True, node
        assert [r['name'] for r in node['runtimes'] if r['present']] == present[name], node
        assert node['trusted'] and {t['runtime'] for t in node['trusted']} == {runtime}, node
        assert node['trusts_current_ca'] is True, node
    assert nodes['client1']['registry_keys'] == {'registry-mirrors': [MIRROR]}  # TLS from the start: no insecure key


def test_the_doctor_finds_every_client_healthy(fleet):
    result = fleet.run('playbooks/doctor.yml')
    assert result.rc == 0, result
    for name in ('client1', 'client2', 'client3'):
        assert re.search(r'%s: OK ' % name, result.stdout), result


def test_a_mirror_added_then_removed_leaves_every_runtime(fleet):
    result = fleet.run(registry_mirrors=[MIRROR, MIRROR2])
    assert result.rc == 0, result
    assert MIRROR2 in fleet.containerd.read_file('%s/docker.io/hosts.toml' % CERTS_D)
    assert 'mirror2.berth.test' in fleet.podman.read_file('/etc/containers/registries.conf.d/50-berth-mirrors.conf')

    result = fleet.run(registry_mirrors=[MIRROR2])

    assert result.rc == 0, result
    for node in fleet.bed.clients:
        assert result.changed(node.name) == 1, result
    daemon = json.loads(fleet.docker.read_file('/etc/docker/daemon.json'))
    assert daemon['registry-mirrors'] == [MIRROR2]
    hub = fleet.containerd.read_file('%s/docker.io/hosts.toml' % CERTS_D)
    assert MIRROR2 in hub and MIRROR + '"' not in hub
    dropin = fleet.podman.read_file('/etc/containers/registries.conf.d/50-berth-mirrors.conf')
    assert 'mirror2.berth.test' in dropin and '"mirror.berth.test"' not in dropin
    fleet.vars['registry_mirrors'] = [MIRROR2]


def test_plain_http_then_back_to_tls_cleans_every_runtime(fleet):
    endpoint = '%s:5000' % HOSTNAME
    before = fleet.pids()
    http = dict(registry_tls=False, registry_users=[], registry_client_login_user='', registry_allow_anonymous_push=True)

    result = fleet.run(**http)

    assert result.rc == 0, result
    assert 'server = "http://%s"' % endpoint in fleet.containerd.read_file('%s/%s/hosts.toml' % (CERTS_D, endpoint))
    dropin = '/etc/containers/registries.conf.d/50-berth-registry-%s_5000.conf' % HOSTNAME
    assert 'insecure = true' in fleet.podman.read_file(dropin)
    image = push(fleet, endpoint, 'client1-http')
    pull_everywhere(fleet, image)
    assert fleet.pids() == before  # hosts.toml and drop-ins need no restart
    assert_converged(fleet.run(**http), [n.name for n in fleet.bed.clients])

    result = fleet.run()

    assert result.rc == 0, result
    assert not fleet.containerd.exists('%s/%s' % (CERTS_D, endpoint))
    assert not fleet.podman.exists(dropin)
    assert json.loads(fleet.docker.read_file('/etc/docker/daemon.json'))['insecure-registries'] == []
    pull_everywhere(fleet, '%s/client1/tiny:1' % HOSTNAME, user='admin')
    assert fleet.pids() == before


def test_absent_takes_the_registry_out_of_every_runtime(fleet):
    before = fleet.pids()

    result = fleet.run(CLIENT, registry_client_state='absent')

    assert result.rc == 0, result
    assert not fleet.docker.exists('/etc/docker/certs.d/%s' % HOSTNAME)
    daemon = json.loads(fleet.docker.read_file('/etc/docker/daemon.json'))
    assert daemon['registry-mirrors'] == [] and daemon['insecure-registries'] == []
    assert HOSTNAME not in fleet.docker.read_file('/root/.docker/config.json')
    assert ok(fleet.containerd, 'ls %s' % CERTS_D).split() == []
    assert 'config_path' in fleet.containerd.read_file(CONTAINERD_CONFIG)  # stays: other registries use it
    assert ok(fleet.podman, 'ls /etc/containers/certs.d /etc/containers/registries.conf.d 2>/dev/null; '
                            'cat /root/.config/containers/auth.json').count(HOSTNAME) == 0
    for node in fleet.bed.clients:
        assert HOSTNAME not in node.read_file('/etc/hosts')
    assert fleet.pids() == before
    assert_converged(fleet.run(CLIENT, registry_client_state='absent'), [n.name for n in fleet.bed.clients])
