"""playbooks/doctor.yml on a bed of its own: each broken step on purpose on ONE client, named there only.

One bed (registry node + 9 clients), one site.yml run; then client1..7 are broken one kind each and
client8/9 stay healthy. The doctor and the report change nothing on any node, in any mode; the report
validates against docs/report.schema.json; the expiry threshold fails the run naming the certificate.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import tempfile

import jsonschema
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import certfactory
from _chromium import render
from bed import images
from bed.nodes import Bed

SITE, DOCTOR = 'playbooks/site.yml', 'playbooks/doctor.yml'
HOSTNAME = 'registry.berth.test'
ALIAS = 'alias.berth.test'
STALE = 'Mk-3f9c1e-PASSWORD-7d2a-stale'
SCHEMA = os.path.join(os.path.dirname(__file__), '..', '..', 'docs', 'report.schema.json')
# What each broken client must be told, and the healthy ones
BROKEN = {
    'client1': ('resolve', r'registry\.berth\.test resolves to \S+\.99 \(from /etc/hosts line \d+: .*expected '),
    'client2': ('tcp', r'no answer from \S+:443 within 3 s: a firewall drops the packets'),
    'client3': ('http-vs-https', r'answers plain HTTP, but the registry is expected to serve HTTPS \(tls: true\) and '
                r'docker speaks HTTPS'),
    'client4': ('tls-chain', r'the registry\'s certificate is not signed by the CA in '
                r'/etc/docker/certs\.d/registry\.berth\.test/ca\.crt \(sha256 [0-9A-F:]{23}\.\.\); it is signed by '
                r'\\?"CN=registry\.berth\.test CA,O=berth\.registry\\?" \(that is the expected CA'),
    'client5': ('tls-san', r'alias\.berth\.test, the name typed, is not among them'),
    'client6': ('cert-expiry', r'the registry\'s certificate expired on \S+ \(\d+ days? ago\)'),
    'client7': ('credentials', r'the credentials stored for admin in /root/\.docker/config\.json are refused '
                r'\(GET /v2/ answers 401\)'),
}
HEALTHY = ('client8', 'client9')
SNAPSHOT = ('cat /etc/hosts; find /etc/docker /root/.docker /etc/containerd /etc/containers -type f 2>/dev/null '
            '| sort | xargs -r sha256sum; iptables-save -t filter | grep -v "^#"; iptables-save -t nat | grep -v "^#"; '
            'cat /var/run/docker.pid')


@pytest.fixture(scope='module')
def fleet(engine_version, registry_image):
    images.ensure_node_image()
    Bed.cleanup_stale()
    bed = Bed(clients=len(BROKEN) + len(HEALTHY), registry_node=True)
    pki = tempfile.mkdtemp(prefix='berth-doctor-pki-')
    try:
        bed.up()
        state = Fleet(bed, pki)
        result = state.run(SITE)
        assert result.rc == 0, result
        yield state
    finally:
        bed.down()
        shutil.rmtree(pki, ignore_errors=True)


class Fleet:
    def __init__(self, bed, pki_dir):
        self.bed = bed
        self.pki_dir = pki_dir
        self.vars = {'registry_hostname': HOSTNAME, 'registry_pki_dir': pki_dir, 'registry_client_login_user': 'admin',
                     'registry_doctor_timeout': 3}

    def run(self, playbook, check=False, diff=False, args=(), **overrides):
        self.bed.write_inventory(extra_vars=dict(self.vars, **overrides))
        return self.bed.run_playbook(playbook, check=check, diff=diff, args=args)

    def node(self, name):
        return self.bed.node(name)

    @property
    def password(self):
        with open(os.path.join(self.pki_dir, 'credentials', 'admin.password')) as f:
            return f.read().split()[0]

    @property
    def report_dir(self):
        return os.path.join(self.pki_dir, 'report')

    def report(self):
        with open(os.path.join(self.report_dir, 'report.json')) as f:
            return json.load(f)

    def snapshots(self):
        return dict((n.name, n.exec(SNAPSHOT)[1]) for n in self.bed.nodes)


def _sh(node, cmd):
    rc, out = node.exec(cmd)
    assert rc == 0, '%s: %s\n%s' % (node.name, cmd, out)
    return out


def _expired_pair(pki_dir, registry_ip):
    with open(os.path.join(pki_dir, 'ca.crt'), 'rb') as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(pki_dir, 'ca.key'), 'rb') as f:
        ca_key = serialization.load_pem_private_key(f.read(), None)
    ca = certfactory.Pair(ca_cert, ca_key)
    return certfactory.make_server(ca, dns_names=(HOSTNAME,), ip_addresses=(registry_ip,), expired_days_ago=3)


def _run_side_registry(registry, name, port, env, binds):
    args = ['run', '-d', '--name', name, '-p', '%d:%d' % (port, port), '-e', 'REGISTRY_HTTP_ADDR=:%d' % port]
    for key, value in env.items():
        args += ['-e', '%s=%s' % (key, value)]
    for bind in binds:
        args += ['-v', bind]
    rc, out = registry.docker(*args, 'registry:2')
    assert rc == 0, out


@pytest.fixture(scope='module')
def broken(fleet):
    """Break client1..7 one kind each (the state of nodes and files the doctor must read, never fix)."""
    bed = fleet.bed
    reg = bed.registry
    ip = reg.ip
    nowhere = ip.rsplit('.', 1)[0] + '.99'
    # client1: the hosts line points at an address where nothing is
    node = fleet.node('client1')
    hosts = node.read_file('/etc/hosts')
    node.write_file('/etc/hosts', re.sub(r'^\S+(\s+%s)\s*$' % re.escape(HOSTNAME), nowhere + r'\1', hosts, flags=re.M))
    # client2: a firewall drops the packets to the registry's port
    _sh(fleet.node('client2'), 'iptables -I OUTPUT -p tcp -d %s --dport 443 -j DROP' % ip)
    # client3: the port it reaches answers plain HTTP (a second registry without TLS, reached through DNAT)
    _run_side_registry(reg, 'berth-doctor-plain', 5000, {}, [])
    _sh(fleet.node('client3'), 'iptables -t nat -I OUTPUT -p tcp -d %s --dport 443 -j DNAT --to-destination %s:5000'
        % (ip, ip))
    # client4: another CA in certs.d
    other = certfactory.make_ca('Other CA', 'elsewhere')
    for directory in (HOSTNAME, HOSTNAME + ':443'):
        fleet.node('client4').write_file('/etc/docker/certs.d/%s/ca.crt' % directory, other.pem)
    # client5: its users type an alias that is not in the certificate (trusted and resolving like the real name)
    node = fleet.node('client5')
    _sh(node, 'mkdir -p /etc/docker/certs.d/%s && cp /etc/docker/certs.d/%s/ca.crt /etc/docker/certs.d/%s/ && '
        'echo "%s %s" >> /etc/hosts' % (ALIAS, HOSTNAME, ALIAS, ip, ALIAS))
    host_vars = os.path.join(os.path.dirname(bed.inventory_path), 'host_vars')
    os.makedirs(host_vars, exist_ok=True)
    with open(os.path.join(host_vars, 'client5.yml'), 'w') as f:
        f.write('registry_doctor_endpoint: %s\n' % ALIAS)
    # client6: it reaches a registry whose certificate (from our CA) expired 3 days ago
    pair = _expired_pair(fleet.pki_dir, ip)
    reg.write_file('/etc/berth-expired.crt', pair.pem)
    reg.write_file('/etc/berth-expired.key', pair.key_pem)
    _run_side_registry(reg, 'berth-doctor-expired', 8443, {
        'REGISTRY_HTTP_TLS_CERTIFICATE': '/certs/server.crt', 'REGISTRY_HTTP_TLS_KEY': '/certs/server.key',
        'REGISTRY_AUTH': 'htpasswd', 'REGISTRY_AUTH_HTPASSWD_REALM': 'basic-realm',
        'REGISTRY_AUTH_HTPASSWD_PATH': '/auth/htpasswd'},
        ['/etc/berth-expired.crt:/certs/server.crt:ro', '/etc/berth-expired.key:/certs/server.key:ro',
         '/etc/docker/registry/auth:/auth:ro'])
    _sh(fleet.node('client6'), 'iptables -t nat -I OUTPUT -p tcp -d %s --dport 443 -j DNAT --to-destination %s:8443'
        % (ip, ip))
    # client7: the stored login is stale
    node = fleet.node('client7')
    config = json.loads(node.read_file('/root/.docker/config.json'))
    config['auths'][HOSTNAME]['auth'] = base64.b64encode(('admin:' + STALE).encode()).decode()
    node.write_file('/root/.docker/config.json', json.dumps(config, indent='\t') + '\n')
    # a client certificate on the controller, for the expiry table (issue 14 will issue these)
    os.makedirs(os.path.join(fleet.pki_dir, 'clients'), exist_ok=True)
    with open(os.path.join(fleet.pki_dir, 'ca.crt'), 'rb') as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(fleet.pki_dir, 'ca.key'), 'rb') as f:
        ca = certfactory.Pair(ca_cert, serialization.load_pem_private_key(f.read(), None))
    certfactory.make_server(ca, dns_names=('client1',), ip_addresses=(), days=20).write(
        os.path.join(fleet.pki_dir, 'clients'), 'client1')
    return fleet


def _lines(stdout):
    """The report's one line per node (from the debug output; at -vvv the task result repeats them)."""
    return list(dict.fromkeys(re.findall(r'^\s+"((?:client\d+|expiry): .*)",?$', stdout, flags=re.M)))


def test_healthy_fleet_is_all_ok_and_the_doctor_changes_nothing(fleet):
    before = fleet.snapshots()
    result = fleet.run(DOCTOR)
    lines = _lines(result.stdout)
    print('\n'.join(lines))
    assert result.rc == 0, result
    assert all(counts['changed'] == 0 for counts in result.recap.values()), result
    for node in fleet.bed.clients:
        assert any(line.startswith('%s: OK %s -> %s:443' % (node.name, HOSTNAME, fleet.bed.registry.ip))
                   and 'login admin valid' in line for line in lines), result
    assert fleet.snapshots() == before
    report = fleet.report()
    assert report['summary']['ok'] == len(fleet.bed.clients) and report['check_mode'] is False
    assert report['registry']['users'] == ['admin'] and report['registry']['container']['running'] is True


@pytest.fixture(scope='module')
def broken_run(broken):
    """One real doctor.yml run (at -vvv) on the broken fleet: (fleet, result, node snapshots before it)."""
    before = broken.snapshots()
    return broken, broken.run(DOCTOR, args=('-vvv',)), before


def test_each_broken_step_is_named_on_its_client_only(broken_run):
    fleet, result, before = broken_run
    lines = _lines(result.stdout)
    print('\n'.join(lines))
    assert result.rc != 0
    for name, (step, words) in BROKEN.items():
        line = next((x for x in lines if x.startswith(name + ': ')), None)
        assert line is not None, result
        assert line.startswith('%s: FAIL %s: ' % (name, step)), line
        assert re.search(words, line), line
        assert 'fatal: [%s]: FAILED!' % name in result.stdout
    for name in HEALTHY:
        assert any(x.startswith('%s: OK ' % name) for x in lines), result
        assert 'fatal: [%s]' % name not in result.stdout
    # problems first
    order = [x.split(':', 1)[0] for x in lines if x.startswith('client')]
    assert set(order[:len(BROKEN)]) == set(BROKEN) and set(order[len(BROKEN):]) == set(HEALTHY)
    # read-only, and no secret in the output even at -vvv
    assert fleet.snapshots() == before
    assert all(counts['changed'] == 0 for counts in result.recap.values()), result
    output = result.stdout + result.stderr
    for secret in (fleet.password, STALE):
        for form in (secret, base64.b64encode(('admin:' + secret).encode()).decode()):
            assert form not in output
    # the report: schema-valid, every node, problems first, runtimes and trust per node
    with open(SCHEMA) as f:
        jsonschema.validate(fleet.report(), json.load(f))
    report = fleet.report()
    assert [n['name'] for n in report['nodes']][len(BROKEN):] == list(HEALTHY)
    nodes = dict((n['name'], n) for n in report['nodes'])
    for name, (step, dummy) in BROKEN.items():
        assert nodes[name]['status'] == 'fail' and nodes[name]['failed_step'] == step
    assert nodes['client4']['trusts_current_ca'] is False
    assert nodes['client8']['trusts_current_ca'] is True and nodes['client8']['login']['valid'] is True
    assert nodes['client7']['login'] == {'user': 'admin', 'source': '/root/.docker/config.json', 'valid': False}
    docker = nodes['client8']['runtimes'][0]
    assert docker['name'] == 'docker' and docker['checked'] and docker['status'] == 'ok'
    assert [c['kind'] for c in report['expiry']['certificates']] == ['CA', 'server certificate', 'client certificate']
    assert report['expiry']['certificates'][2]['status'] == 'warn'


def test_check_mode_reports_the_same_marks_the_report_and_expiry_threshold_fails(broken):
    fleet = broken
    before = fleet.snapshots()

    result = fleet.run(DOCTOR, check=True, diff=True, registry_expiry_fail_days=400)

    assert result.rc != 0
    assert fleet.snapshots() == before
    assert all(counts['changed'] == 0 for counts in result.recap.values()), result
    report = fleet.report()
    assert report['check_mode'] is True
    assert sorted(n['name'] for n in report['nodes'] if n['status'] == 'fail') == sorted(BROKEN)
    cert = os.path.join(fleet.pki_dir, '%s.crt' % HOSTNAME)
    assert re.search(r'certificate expiry below registry_expiry_fail_days=400: server certificate %s \(%s\): '
                     r'39\d days left; client certificate client1 \(\S+client1\.crt\): 19 days left'
                     % (re.escape(HOSTNAME), re.escape(cert)), result.stdout), result
    assert 'CA ca.crt' not in result.stdout.split('certificate expiry below')[1].split('\n')[0]
    with open(os.path.join(fleet.report_dir, 'report.html')) as f:
        assert 'id="check-mode"' in f.read()


def test_report_page_renders_in_headless_chromium(broken_run):
    broken = broken_run[0]
    page = os.path.join(broken.report_dir, 'report.html')
    keep = os.path.join(os.path.dirname(SCHEMA), '..', '.build', 'doctor-report')
    os.makedirs(keep, exist_ok=True)
    for name in ('report.html', 'report.json'):
        shutil.copy(os.path.join(broken.report_dir, name), keep)
    shot = render(page, os.path.join(keep, 'report.png'))
    text = shot['text']
    positions = [text.find(name) for name in list(BROKEN) + list(HEALTHY)]
    assert all(p >= 0 for p in positions), text[:2000]
    assert max(positions[:len(BROKEN)]) < min(positions[len(BROKEN):])
    assert shot['errors'] == [], shot['errors']
    assert shot['distinct_colours'] > 8
