"""site.yml on the bed: one registry node + client nodes, each with its own dockerd.

The tests run in file order as one story on one bed (fresh fleet -> converged -> changes),
and assert what a platform engineer would check by hand: `docker login/push/pull` from
every client, `docker info`, file bytes, dockerd PIDs, the registry container's Id.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest
import yaml

from _secrets import assert_no_leaks, marker

import _fleet

HOSTNAME = 'registry.berth.test'
MIRROR = 'https://mirror.berth.test/'
UNRELATED = {'log-driver': 'json-file', 'runtimes': {'berth-fake': {'path': '/usr/bin/true'}}, 'debug': False}
BROKEN_JSON = '{"debug": true,\n  "oops"\n'


@pytest.fixture(scope='module')
def fleet(bed):
    """The bed plus this story's controller-side state (PKI dir, inventory vars)."""
    pki = tempfile.mkdtemp(prefix='berth-site-pki-')
    state = Fleet(bed, pki)
    yield state
    shutil.rmtree(pki, ignore_errors=True)


class Fleet(_fleet.Fleet):
    def __init__(self, bed, pki_dir):
        super().__init__(bed, pki_dir, registry_hostname=HOSTNAME, registry_mirrors=[MIRROR],
                         registry_client_login_user='admin')

    def container(self):
        """Id and StartedAt of the registry container on the registry node."""
        rc, out = self.bed.registry.docker('inspect', '-f', '{{.Id}} {{.State.StartedAt}}', 'registry')
        assert rc == 0, out
        return tuple(out.split())

    def pids(self):
        return {n.name: n.dockerd_pid() for n in self.bed.clients}


def registry_config(node):
    rc, out = node.docker('info', '--format', '{{json .RegistryConfig}}')
    assert rc == 0, out
    return json.loads(out)


def insecure_entries(node):
    # dockerd always lists 127.0.0.0/8; what we add shows as an insecure index
    config = registry_config(node)
    return sorted(name for name, index in config['IndexConfigs'].items() if not index['Secure'])


def push_pull(node, endpoint, repo):
    """The how-to's round trip from a client: tag, push, remove, pull. Returns the output of each step."""
    image = '%s/%s/tiny:1' % (endpoint, repo)
    steps = [
        'tar cf - -C /etc hostname | docker import - berth/tiny:1 >/dev/null',
        'docker tag berth/tiny:1 %s' % image,
        'docker push %s' % image,
        'docker image rm %s' % image,
        'docker pull %s' % image,
    ]
    for step in steps:
        rc, out = node.exec(step)
        assert rc == 0, '%s: %s failed:\n%s' % (node.name, step, out)
    return image


def assert_converged(result, hosts):
    assert result.rc == 0, result
    for host in hosts:
        assert result.changed(host) == 0, 'host %s changed on a converged fleet:\n%s' % (host, result)


def test_check_mode_on_a_fresh_fleet_reports_changes_and_writes_nothing(fleet):
    bed = fleet.bed
    bad, kept = bed.clients[-1], bed.clients[0]
    # two clients come with a daemon.json of their own: one with unrelated keys, one broken
    kept.write_file('/etc/docker/daemon.json', json.dumps(UNRELATED, indent=2) + '\n')
    bad.write_file('/etc/docker/daemon.json', BROKEN_JSON)
    before = {n.name: n.exec('cat /etc/hosts /etc/docker/daemon.json; ls -R /etc/docker /root/.docker 2>&1')[1]
              for n in bed.clients}

    result = fleet.site(check=True, diff=True)

    assert result.recap, result
    for node in bed.clients:
        if node is bad:
            continue
        assert result.recap[node.name]['failed'] == 0, result
        assert result.changed(node.name) >= 1, result
    assert result.changed(bed.registry.name) >= 1, result
    for node in bed.clients:
        after = node.exec('cat /etc/hosts /etc/docker/daemon.json; ls -R /etc/docker /root/.docker 2>&1')[1]
        assert after == before[node.name], '%s was modified in check mode' % node.name
    assert not bed.registry.exists('/etc/docker/registry/config.yml')
    assert bed.registry.docker('inspect', 'registry')[0] != 0, 'check mode started a container'
    assert not os.path.exists(os.path.join(fleet.pki_dir, 'ca.key'))
    # issue 9: the registry node is bare (python3 + docker.io): check mode says what it would install, and does not
    assert '"package python3-docker": "present"' in result.stdout and '"package python3-bcrypt": "present"' in result.stdout
    assert 'python3-apt must be installed' not in result.stdout, result
    rc, out = bed.registry.exec("python3 -c 'import docker' 2>&1; dpkg-query -W -f='${Status}' python3-apt 2>&1")
    assert 'No module named' in out and 'install ok installed' not in out, out


def test_fresh_run_converges_every_good_client_and_fails_only_the_broken_one(fleet):
    bed = fleet.bed
    bad = bed.clients[-1]
    pids = fleet.pids()

    result = fleet.site()

    assert result.rc != 0
    assert result.failed_hosts() == [bad.name], result
    assert '/etc/docker/daemon.json' in result.stdout and 'Expecting' in result.stdout, result
    rc, out = bed.registry.exec("python3 -c 'import docker, bcrypt'")
    assert rc == 0, 'the packages the registry host needs were not installed: %s' % out
    assert bad.read_file('/etc/docker/daemon.json') == BROKEN_JSON
    for node in bed.clients[:-1]:
        assert result.changed(node.name) >= 1
        assert node.dockerd_pid() == pids[node.name], '%s: dockerd restarted' % node.name
        assert registry_config(node)['Mirrors'] == [MIRROR]
        push_pull(node, HOSTNAME, node.name)
    kept = json.loads(bed.clients[0].read_file('/etc/docker/daemon.json'))
    for key, value in UNRELATED.items():
        assert kept[key] == value
    assert list(kept)[:len(UNRELATED)] == list(UNRELATED), 'existing key order lost'


def test_fixed_client_converges_on_the_next_run(fleet):
    bad = fleet.bed.clients[-1]
    bad.write_file('/etc/docker/daemon.json', '{"debug": false}\n')

    result = fleet.site()

    assert result.rc == 0, result
    assert result.changed(bad.name) >= 1
    for node in fleet.bed.clients[:-1]:
        assert result.changed(node.name) == 0, result
    push_pull(bad, HOSTNAME, bad.name)


def test_rerun_changes_nothing_restarts_nothing(fleet):
    bed = fleet.bed
    pids, container = fleet.pids(), fleet.container()

    result = fleet.site()

    assert_converged(result, [n.name for n in bed.nodes])
    assert fleet.pids() == pids
    assert fleet.container() == container
    assert 'docker login %s -u admin' % HOSTNAME in result.stdout
    assert os.path.join(fleet.pki_dir, 'credentials', 'admin.password') in result.stdout
    # the fleet report at the end: one line per node from the client's own check, written on the controller
    for node in bed.clients:
        assert '%s: OK check: ' % node.name in result.stdout, result
    with open(os.path.join(fleet.pki_dir, 'report', 'report.json')) as f:
        report = json.load(f)
    assert report['summary']['ok'] == len(bed.clients) and report['registry']['users'] == ['admin']
    assert report['registry']['certificate']['dns_names'] == [HOSTNAME]


def test_check_diff_on_a_converged_fleet_changes_nothing(fleet):
    result = fleet.site(check=True, diff=True)
    assert_converged(result, [n.name for n in fleet.bed.nodes])
    # the summary: days left of the CA and the server certificate, then the fleet report's lines
    assert 'CA:           %s/ca.crt sha256 ' % fleet.pki_dir in result.stdout and ' days left)' in result.stdout, result
    assert 'Certificate:  %s/%s.crt, %s, %s' % (fleet.pki_dir, HOSTNAME, HOSTNAME, fleet.bed.registry.ip) in result.stdout
    assert 'expiry: server certificate %s: ' % HOSTNAME in result.stdout


def test_the_registry_runs_with_tight_defaults(fleet):
    """Issue 9: access log on, storage.delete off, data dir 0700, config.yml 0600 (it holds http.secret)."""
    node = fleet.bed.registry
    rc, out = node.exec("stat -c '%a %n' /var/lib/registry /etc/docker/registry/config.yml /etc/docker/registry/ssl "
                        "/etc/docker/registry/ssl/registry.key /etc/docker/registry/auth/htpasswd")
    wanted = ['700 /var/lib/registry', '600 /etc/docker/registry/config.yml', '700 /etc/docker/registry/ssl',
              '600 /etc/docker/registry/ssl/registry.key', '640 /etc/docker/registry/auth/htpasswd']
    assert rc == 0 and out.strip().split('\n') == wanted, out
    config = yaml.safe_load(node.read_file('/etc/docker/registry/config.yml'))
    assert config['storage']['delete'] == {'enabled': False}
    assert config['log']['accesslog'] == {'disabled': False}
    assert len(config['http']['secret']) >= 32
    with open(os.path.join(fleet.pki_dir, 'http.secret')) as f:
        assert f.read().strip() == config['http']['secret']
    rc, logs = node.docker('logs', '--tail', '50', 'registry')
    assert '"GET /v2/ HTTP/1.1" 401' in logs, 'no access log lines:\n' + logs


def test_metrics_answer_on_the_registry_hosts_loopback(fleet):
    """Issue 15 item 4: curl of the metrics endpoint on the registry host returns Prometheus text."""
    node = fleet.bed.registry
    rc, out = node.exec('curl -sS -m 10 http://127.0.0.1:5001/metrics')
    assert rc == 0 and '# TYPE registry_http_requests_total' in out, out[:3000]
    # published on the host's loopback only: not from a client
    rc, out = fleet.bed.clients[0].exec('curl -sS -m 5 -o /dev/null http://%s:5001/metrics' % node.ip)
    assert rc != 0, out


def test_the_run_fails_below_the_expiry_threshold_naming_the_certificate(fleet):
    result = fleet.site(registry_expiry_fail_days=400)
    assert result.rc != 0, result
    assert 'certificate expiry below registry_expiry_fail_days=400: server certificate %s' % HOSTNAME in result.stdout, result
    assert 'CA ca.crt' not in result.stdout.split('certificate expiry below')[1].split('\n')[0]
    for node in fleet.bed.nodes:
        assert result.changed(node.name) == 0 and result.recap[node.name]['failed'] == 0


def test_registry_speaks_tls_with_our_ca_and_requires_auth(fleet):
    bed = fleet.bed
    ca = os.path.join(fleet.pki_dir, 'ca.crt')
    url = 'https://%s/v2/' % HOSTNAME
    resolve = '%s:443:%s' % (HOSTNAME, bed.registry.ip)

    def curl(*args):
        proc = subprocess.run(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca,
                               '--resolve', resolve, *args, url], capture_output=True, text=True, timeout=30, check=False)
        return proc.stdout.strip() or proc.stderr

    assert curl() == '401'
    assert curl('-u', 'admin:%s' % fleet.password) == '200'
    assert curl('-u', 'admin:wrong-%s' % fleet.password) == '401'
    # only the root CA we made is trusted; nothing else in the chain
    with open(ca) as f:
        assert f.read().count('BEGIN CERTIFICATE') == 1


def test_catalog_and_logout_as_in_the_howto(fleet):
    node = fleet.bed.clients[0]
    rc, out = node.exec('curl -sS --cacert /etc/docker/certs.d/%s/ca.crt -u admin:%s https://%s/v2/_catalog'
                        % (HOSTNAME, fleet.password, HOSTNAME))
    assert rc == 0 and '%s/tiny' % node.name in out, out
    rc, out = node.docker('logout', HOSTNAME)
    assert rc == 0, out
    rc, out = node.docker('push', '%s/%s/tiny:1' % (HOSTNAME, node.name))
    assert rc != 0 and 'no basic auth credentials' in out, out
    # the next run logs the client in again
    result = fleet.site(limit=node.name)
    assert result.rc == 0 and result.changed(node.name) == 1, result
    rc, out = node.docker('push', '%s/%s/tiny:1' % (HOSTNAME, node.name))
    assert rc == 0, out


def test_adding_a_user_needs_no_restart(fleet):
    container = fleet.container()
    users = [{'name': 'admin', 'password': fleet.password}, {'name': 'ci-bot', 'password': 'S3cond-Us3r-Pw-9x'}]

    result = fleet.site(registry_users=users)

    assert result.rc == 0, result
    assert result.changed(fleet.bed.registry.name) == 1, result
    assert fleet.container() == container
    node = fleet.bed.clients[1]
    rc, out = node.exec("echo 'S3cond-Us3r-Pw-9x' | DOCKER_CONFIG=/tmp/ci-bot docker login -u ci-bot "
                        "--password-stdin %s" % HOSTNAME)
    assert rc == 0 and 'Login Succeeded' in out, out
    fleet.vars['registry_users'] = users


def test_config_knob_change_recreates_once_and_keeps_images(fleet):
    container = fleet.container()

    result = fleet.site(registry_log_level='debug')

    assert result.rc == 0, result
    recreated = fleet.container()
    assert recreated[0] != container[0]
    again = fleet.site(registry_log_level='debug')
    assert_converged(again, [n.name for n in fleet.bed.nodes])
    assert fleet.container() == recreated
    node = fleet.bed.clients[0]
    node.docker('image', 'rm', '%s/%s/tiny:1' % (HOSTNAME, node.name))
    rc, out = node.docker('pull', '%s/%s/tiny:1' % (HOSTNAME, node.name))
    assert rc == 0, out
    fleet.vars['registry_log_level'] = 'debug'


def test_a_ca_passphrase_encrypts_the_key_and_a_wrong_one_replaces_nothing(fleet):
    """Issue 9: registry_ca_passphrase (vault-friendly, no_log) protects the CA key; a wrong one fails, replaces nothing."""
    passphrase = marker('CAPASSPHRASE')
    container = fleet.container()
    key = os.path.join(fleet.pki_dir, 'ca.key')

    result = fleet.site(registry_ca_passphrase=passphrase)

    assert result.rc == 0 and result.changed(fleet.bed.registry.name) == 1, result
    assert fleet.container() == container, 'encrypting the CA key restarted the registry'
    with open(key, 'rb') as f:
        encrypted = f.read()
    assert b'ENCRYPTED PRIVATE KEY' in encrypted
    pki = dict((name, open(os.path.join(fleet.pki_dir, name), 'rb').read()) for name in ('ca.crt', 'ca.key', HOSTNAME + '.crt'))
    wrong = marker('WRONGPASSPHRASE')
    # the renewal window forces the certificate to be signed again: it needs the CA key
    bad = fleet.site(registry_ca_passphrase=wrong, registry_cert_renew_before_days=400)
    assert bad.rc != 0 and 'cannot be decrypted with the given ca.passphrase' in bad.stdout, bad
    assert 'nothing was replaced' in bad.stdout
    assert_no_leaks(bad, [passphrase, wrong], 'a wrong CA passphrase')
    for name, data in pki.items():
        with open(os.path.join(fleet.pki_dir, name), 'rb') as f:
            assert f.read() == data, '%s was replaced' % name
    assert fleet.container() == container
    fleet.vars['registry_ca_passphrase'] = passphrase
    assert_converged(fleet.site(), [n.name for n in fleet.bed.nodes])


def test_certificate_renewal_recreates_once_with_the_same_ca(fleet):
    ca = os.path.join(fleet.pki_dir, 'ca.crt')
    with open(ca, 'rb') as f:
        ca_bytes = f.read()
    cert = os.path.join(fleet.pki_dir, '%s.crt' % HOSTNAME)
    with open(cert, 'rb') as f:
        cert_bytes = f.read()
    container = fleet.container()

    # a renewal window longer than the validity puts the certificate inside it
    result = fleet.site(registry_cert_renew_before_days=400)

    assert result.rc == 0, result
    with open(cert, 'rb') as f:
        assert f.read() != cert_bytes
    with open(ca, 'rb') as f:
        assert f.read() == ca_bytes
    assert fleet.container()[0] != container[0]
    again = fleet.site()
    assert_converged(again, [n.name for n in fleet.bed.nodes])
    for node in fleet.bed.clients:
        rc, out = node.docker('pull', '%s/%s/tiny:1' % (HOSTNAME, node.name))
        assert rc == 0, out


@pytest.mark.parametrize('overrides, message', [
    ({'registry_port': 0}, 'registry_port=0 must be 1..65535'),
    ({'registry_port': 70000}, 'registry_port=70000 must be 1..65535'),
    ({'registry_tls_cert_file': '/nonexistent/cert.pem', 'registry_tls_key_file': '/nonexistent/key.pem',
      'registry_tls_ca_file': '/nonexistent/ca.pem'}, 'registry_tls_cert_file=/nonexistent/cert.pem (missing)'),
    ({'registry_image': 'berth/absent:1', 'registry_image_pull': 'never'}, 'berth/absent:1'),
    ({'registry_client_login_user': 'nobody'}, 'registry_client_login_user=nobody is not one of the registry users'),
    # issue 9: a value that would have added top-level keys to config.yml is refused
    ({'registry_health_storagedriver_interval': '10s\nproxy:\n  remoteurl: http://attacker.invalid'},
     'config.health.storagedriver.interval'),
    # issue 9: plain HTTP without users is a choice to state
    ({'registry_tls': False, 'registry_users': [], 'registry_client_login_user': ''}, 'registry_allow_anonymous_push'),
    ({'registry_storage': {'s3': {'bucket': 'b'}}}, 'storage.s3: region is required'),
])
def test_bad_input_fails_clearly_and_leaves_the_registry_running(fleet, overrides, message):
    container = fleet.container()
    config = fleet.bed.registry.read_file('/etc/docker/registry/config.yml')

    result = fleet.site(**overrides)

    assert result.rc != 0
    assert message in result.stdout, result
    assert fleet.container() == container
    assert fleet.bed.registry.read_file('/etc/docker/registry/config.yml') == config


def test_byo_certificate_whose_key_does_not_match_is_refused(fleet):
    other = tempfile.mkdtemp(prefix='berth-byo-')
    try:
        subprocess.run(['openssl', 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', other + '/key.pem'],
                       check=True, capture_output=True)
        container = fleet.container()
        result = fleet.site(registry_tls_cert_file=os.path.join(fleet.pki_dir, '%s.crt' % HOSTNAME),
                            registry_tls_key_file=other + '/key.pem',
                            registry_tls_ca_file=os.path.join(fleet.pki_dir, 'ca.crt'))
        assert result.rc != 0
        assert 'does not match' in result.stdout, result
        assert fleet.container() == container
    finally:
        shutil.rmtree(other, ignore_errors=True)


def test_a_stopped_client_does_not_stop_the_others(fleet):
    bed = fleet.bed
    down = bed.clients[1]
    bed.stop_node(down.name)
    try:
        result = fleet.site(registry_mirrors=[MIRROR, 'https://mirror2.berth.test/'])
        assert result.recap[down.name]['unreachable'] == 1, result
        for node in bed.clients:
            if node is not down:
                assert result.recap[node.name]['failed'] == 0, result
                assert result.changed(node.name) == 1, result
                assert len(registry_config(node)['Mirrors']) == 2
    finally:
        bed.start_node(down.name)
    result = fleet.site(registry_mirrors=[MIRROR, 'https://mirror2.berth.test/'])
    assert result.rc == 0, result
    assert result.changed(down.name) == 1
    assert len(registry_config(down)['Mirrors']) == 2
    fleet.vars['registry_mirrors'] = [MIRROR, 'https://mirror2.berth.test/']


def test_plain_http_then_back_to_tls(fleet):
    bed = fleet.bed
    endpoint = '%s:5000' % HOSTNAME
    pids = fleet.pids()

    result = fleet.site(registry_tls=False, registry_users=[], registry_client_login_user='',
                        registry_allow_anonymous_push=True)

    assert result.rc == 0, result
    summary = result.stdout.split('TASK [Show how to use the registry]')[1]
    assert 'WARNING: no TLS, no authentication: anyone who reaches http://%s can push' % endpoint in summary, result
    for node in bed.clients:
        assert insecure_entries(node) == [endpoint], node.name
        push_pull(node, endpoint, node.name + '-http')
    assert fleet.pids() == pids

    result = fleet.site()

    assert result.rc == 0, result
    for node in bed.clients:
        assert insecure_entries(node) == [], node.name
        daemon = json.loads(node.read_file('/etc/docker/daemon.json'))
        assert daemon['insecure-registries'] == []
        rc, out = node.docker('pull', '%s/%s/tiny:1' % (HOSTNAME, node.name))
        assert rc == 0, out
    assert fleet.pids() == pids
