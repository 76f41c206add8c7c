"""berth.registry.registry_lb: bad inputs on localhost (one playbook run), then on the HA bed's lb1 (a bare
Debian host: the action plugin installs haproxy and redis-server from the bed's offline repository) in front
of two plain registries on registry1 and registry2 - four steps, verified from outside (the haproxy process,
curl through the load balancer, HAProxy's admin socket, redis-cli), a reload, a refused config, waiting, and
no cache password in any output at -vvv --diff.
"""

from __future__ import annotations

import json
import os
import secrets

import pytest

from bed.loops import haproxy_servers
from bed.playbook import ROOT, run_playbook

import _bad_inputs
from _bad_inputs import DIR, Case, Link
from _secrets import assert_no_leaks, marker

HERE = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'registry_lb')
RUN, BAD = os.path.join(HERE, 'run.yml'), os.path.join(HERE, 'bad_inputs.yml')
SERVERS = [{'name': 'a', 'address': '10.0.0.10', 'port': 443}]
PASSWORD = 'Mk-8c1f2e-CACHEPASSWORD-5d0a'
HAPROXY_ABSENT = not any(os.path.exists(os.path.join(d, 'haproxy')) for d in ('/usr/sbin', '/usr/bin', '/sbin', '/bin'))


def case(name, expect, files=None, forbid=None, **args):
    base = {'port': 443, 'servers': SERVERS}
    base.update(args)
    return Case(name, dict((k, v) for k, v in base.items() if v is not None), expect, files or {}, forbid or [])


BAD_CASES = [
    case('no-port', ['port'], port=None),
    case('no-servers', ['servers must list at least one'], servers=[]),
    case('server-name-newline', ['servers[0].name', 'control character'],
         servers=[dict(SERVERS[0], name='a\n    server evil 10.6.6.6:443')]),
    case('server-name-space', ['servers[0].name', "'a b'", 'HAProxy name'], servers=[dict(SERVERS[0], name='a b')]),
    case('server-name-too-long', ['servers[0].name', '1..100'], servers=[dict(SERVERS[0], name='r' * 200)]),
    case('server-name-twice', ['servers[1].name', "'a'", 'twice'], servers=SERVERS + [dict(SERVERS[0], address='10.0.0.11')]),
    case('server-address-zone', ['servers[0].address', 'fe80::1%eth0', 'zone'],
         servers=[dict(SERVERS[0], address='fe80::1%eth0')]),
    case('server-address-dot-dot', ['servers[0].address', "'..'"], servers=[dict(SERVERS[0], address='..')]),
    case('server-address-nul', ['servers[0].address', 'control character'], servers=[dict(SERVERS[0], address='a\x00b')]),
    case('server-address-too-long', ['servers[0].address', 'DNS name'],
         servers=[dict(SERVERS[0], address='a' * 300 + '.example')]),
    case('server-port-zero', ['servers[0].port', '0', '1..65535'], servers=[dict(SERVERS[0], port=0)]),
    case('port-out-of-range', ['port', '70000', '1..65535'], port=70000),
    case('bind-address-name', ['bind_address', "'lb.example'", 'IPv4 or IPv6'], bind_address='lb.example'),
    case('balance-unknown', ['balance', 'first', 'leastconn, roundrobin, source'], balance='first'),
    case('check-path-relative', ['check.path', "'v2/'", 'absolute URL path'], check={'path': 'v2/'}),
    case('check-path-crlf', ['check.path', 'control character'], check={'path': '/v2/\r\nX-Evil: 1'}),
    case('check-status-999', ['check.expect_status', '999', '100..599'], check={'expect_status': [200, 999]}),
    case('check-interval-zero', ['check.interval', '0', 'whole number'], check={'interval': 0}),
    case('check-ca-without-tls', ['check.ca_file', 'check.tls is false'], check={'tls': False, 'ca_file': '/etc/ca.crt'}),
    case('check-host-nul', ['check.host', 'control character'], check={'host': 'reg\x00istry'}),
    case('timeout-negative', ['timeouts.client', '-5'], timeouts={'client': -5}),
    case('maxconn-zero', ['maxconn', '0'], maxconn=0),
    case('wait-for-unknown', ['wait_for', 'b', 'not in servers (a)'], wait_for=['b']),
    case('healthy-without-wait-for', ['wait_for must name'], state='healthy', port=None, servers=None),
    case('config-path-dot-dot', ['config_path', '..'], config_path='/etc/haproxy/../haproxy.cfg'),
    case('config-is-a-directory', ['config_path', 'is a directory'], files={'haproxy.cfg': DIR}),
    case('config-symlink-to-directory', ['config_path', 'is a directory'],
         files={'real': DIR, 'haproxy.cfg': Link('real')}),
    case('config-huge', ['config_path', 'bytes'], files={'haproxy.cfg': b'#' * (17 * 1024 * 1024)}),
    case('cache-bind-name', ['cache.bind', "'localhost'", 'IPv4 or IPv6'], cache={'bind': ['localhost']}),
    case('cache-password-space', ['cache.password', 'without spaces'], cache={'password': PASSWORD + ' x'},
         forbid=[PASSWORD]),
    case('cache-password-newline', ['cache.password'], cache={'password': PASSWORD + '\nbind 0.0.0.0'},
         forbid=[PASSWORD]),
    case('cache-maxmemory', ['cache.maxmemory', "'1 tb'", 'redis memory size'], cache={'maxmemory': '1 tb'}),
    case('cache-port-is-lb-port', ['cache.port', '443', 'load balancer port'], cache={'port': 443}),
    case('cache-dropin-is-a-directory', ['cache.config_path', 'is a directory'],
         cache={'config_path': '{dir}/berth.conf', 'redis_config_path': '{dir}/redis.conf'},
         files={'berth.conf': DIR, 'redis.conf': b'port 6379\n'}),
    case('redis-conf-not-utf8', ['cache.redis_config_path', 'UTF-8'],
         cache={'config_path': '{dir}/berth.conf', 'redis_config_path': '{dir}/redis.conf'},
         files={'redis.conf': b'bind caf\xe9\n'}),
]
if HAPROXY_ABSENT:  # a valid input on a host without haproxy: named, nothing written, nothing installed
    BAD_CASES.append(case('haproxy-not-installed', ['haproxy not installed', 'Debian package haproxy'],
                          cache=None, files={'haproxy.cfg': b'# old\n'}))


def _localhost(tmp_path):
    path = tmp_path / 'inventory'
    path.write_text('localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n')
    return str(path)


def test_bad_inputs_fail_clearly_and_change_nothing(tmp_path):
    dirs = _bad_inputs.build(str(tmp_path), BAD_CASES)
    before = dict((name, _bad_inputs.snapshot(path)) for name, path in dirs.items())
    cases = []
    for item in BAD_CASES:
        args = json.loads(json.dumps(item.args).replace('{dir}', dirs[item.name]))
        if 'name' in args:
            args['lb_name'] = args.pop('name')
        cases.append(dict(args, name=item.name))
    res = run_playbook(BAD, inventory=_localhost(tmp_path), extra_vars={'workdir': str(tmp_path), 'cases': cases})
    assert res.rc == 0, str(res)
    with open(str(tmp_path / 'results.json')) as f:
        results = json.load(f)
    found = _bad_inputs.problems(BAD_CASES, results, dirs, before)
    missing = [r['item']['name'] for r in results if 'haproxy-not-installed' == r['item']['name']
               and r.get('missing_packages') != ['haproxy']]
    assert not found and not missing, '\n'.join(found + missing)


# --- on the HA bed: lb1 in front of two plain registries ---------------------------------------------

class Lb(object):
    """Runs run.yml against lb1 of the bed and reads what is true there."""

    def __init__(self, bed, tmp_path, servers):
        self.bed, self.node, self.servers = bed, bed.lb, servers
        self.result_file = str(tmp_path / 'result.json')

    def run(self, check_mode=False, verbose=True, **options):
        extra = dict(lb_host=self.node.name, lb_result_file=self.result_file, lb_port=5000, lb_servers=self.servers,
                     lb_check={'tls': False})
        extra.update(('lb_' + k, v) for k, v in options.items())
        res = self.bed.run_playbook(RUN, extra_vars=extra, check=check_mode, diff=True, args=('-vvv',) if verbose else ())
        result = None
        if os.path.exists(self.result_file):
            with open(self.result_file) as f:
                result = json.load(f)
            os.unlink(self.result_file)
        return res, result

    def sh(self, cmd):
        return self.node.exec(cmd)

    def haproxy_pids(self):
        return sorted(self.sh('pidof haproxy')[1].split())

    def through(self, client):
        """HTTP status of GET /v2/ through the load balancer, from a client node."""
        rc, out = client.exec('curl -s -o /dev/null -w "%%{http_code}" --max-time 10 http://%s:5000/v2/' % self.node.ip)
        return out.strip()

    def show_stat(self):
        return haproxy_servers(self.node)


@pytest.fixture(scope='module')
def plain_replicas(ha_bed):
    """A plain-HTTP registry:2 container on registry1 and registry2 (port 5000), removed afterwards."""
    name = 'berth-lbtest-%s' % secrets.token_hex(3)
    # lb1 bare again: the HA story (earlier in the same session, on the same bed) leaves HAProxy and redis there
    ha_bed.lb.exec('service haproxy stop; service redis-server stop; apt-get purge -y -q haproxy redis-server; '
                   'rm -rf /etc/haproxy /etc/redis /run/haproxy; true')
    for node in ha_bed.registries:
        rc, out = node.docker('run', '-d', '--name', name, '-p', '5000:5000', 'registry:2')
        assert rc == 0, out
    try:
        yield name, [{'name': n.name, 'address': n.ip, 'port': 5000} for n in ha_bed.registries]
    finally:
        for node in ha_bed.registries:
            node.docker('rm', '-f', '-v', name)


@pytest.fixture
def lb(ha_bed, plain_replicas, tmp_path):
    return Lb(ha_bed, tmp_path, plain_replicas[1])


def test_four_steps_installs_haproxy_and_balances(lb, ha_bed):
    names = [s['name'] for s in lb.servers]
    fresh = lb.sh('test -x /usr/sbin/haproxy')[0] != 0
    res, result = lb.run(check_mode=True, wait_for=names)
    assert res.rc == 0 and res.changed(lb.node.name) == 1, res
    if fresh:  # the bed's lb1 is bare: the package comes from the offline repository
        assert result['differences'][0] == {'field': 'package haproxy', 'before': 'absent', 'after': 'present'}
        assert lb.sh('test -x /usr/sbin/haproxy')[0] != 0
    assert not lb.haproxy_pids()
    res, result = lb.run(wait_for=names)
    assert res.rc == 0 and res.changed(lb.node.name) == 1, res
    assert result['service'] == 'started' and result.get('packages_installed', ['haproxy']) == ['haproxy']
    assert all(result['servers'][n]['status'] == 'UP' for n in names), result['servers']
    pids = lb.haproxy_pids()
    assert pids and lb.show_stat() == dict((n, 'UP') for n in names)
    assert 'Managed by berth.registry' in lb.node.read_file('/etc/haproxy/haproxy.cfg')
    for client in ha_bed.clients:
        assert lb.through(client) == '200'
    for check in (True, False):
        res, result = lb.run(check_mode=check, wait_for=names)
        assert res.rc == 0 and res.changed(lb.node.name) == 0 and result['differences'] == [], res
    assert lb.haproxy_pids() == pids  # no reload, no restart on a rerun


def test_change_reloads_and_cache_password_never_shows(lb, ha_bed):
    password = marker('cache-password')
    lb.run(wait_for=[s['name'] for s in lb.servers], verbose=False)
    pids = lb.haproxy_pids()
    cache = {'bind': [lb.node.ip, '127.0.0.1'], 'password': password}
    runs = []
    for check, changed in ((True, 1), (False, 1), (True, 0), (False, 0)):
        res, result = lb.run(check_mode=check, balance='roundrobin', cache=cache)
        runs.append(res)
        assert res.rc == 0 and res.changed(lb.node.name) == changed, res
        if changed and check:
            assert {'field': 'cache password', 'before': None, 'after': '(secret)'} in result['differences']
            assert 'haproxy.cfg' in [d['field'] for d in result['differences']]
        if changed and not check:
            assert result['service'] == 'reloaded' and result['cache']['service'] == 'started'
    assert_no_leaks(runs, [password], 'registry_lb')
    assert lb.haproxy_pids() and lb.haproxy_pids() != pids  # reloaded: a new process, the old one finished
    assert 'balance roundrobin' in lb.node.read_file('/etc/haproxy/haproxy.cfg')
    assert lb.through(ha_bed.clients[0]) == '200'
    # redis answers the replicas' network with the password only (redis-cli runs on lb1 against its own address)
    assert 'NOAUTH' in lb.sh('redis-cli -h %s ping' % lb.node.ip)[1]
    assert lb.sh('REDISCLI_AUTH=%s redis-cli -h %s ping' % (password, lb.node.ip))[1].strip() == 'PONG'
    new = marker('cache-password')
    res, result = lb.run(cache=dict(cache, password=new), balance='roundrobin')
    assert res.rc == 0 and result['differences'] == [
        {'field': 'cache password', 'before': '(secret)', 'after': '(secret, changed)'}], res
    assert result['cache']['service'] == 'restarted' and result['service'] == 'none'
    assert_no_leaks(res, [password, new], 'registry_lb')
    assert lb.sh('REDISCLI_AUTH=%s redis-cli -h %s ping' % (new, lb.node.ip))[1].strip() == 'PONG'


def test_refused_config_keeps_the_old_one_running(lb):
    lb.run(wait_for=[s['name'] for s in lb.servers], verbose=False)
    before, pids = lb.node.read_file('/etc/haproxy/haproxy.cfg'), lb.haproxy_pids()
    lb.sh('echo "not a certificate" > /etc/haproxy/berth-test-ca.crt')
    try:
        res, result = lb.run(check={'tls': True, 'ca_file': '/etc/haproxy/berth-test-ca.crt'}, verbose=False)
        assert res.rc != 0 and 'haproxy -c refused the new /etc/haproxy/haproxy.cfg' in result['msg'], res
        assert 'berth-test-ca.crt' in result['msg'] and '.berth' not in result['msg']
        assert lb.node.read_file('/etc/haproxy/haproxy.cfg') == before and lb.haproxy_pids() == pids
    finally:
        lb.sh('rm -f /etc/haproxy/berth-test-ca.crt')


def test_healthy_waits_for_a_replica_and_names_one_that_is_down(lb, ha_bed, plain_replicas):
    name, dummy = plain_replicas
    lb.run(wait_for=[s['name'] for s in lb.servers], verbose=False)
    second = ha_bed.registries[1]
    assert second.docker('stop', name)[0] == 0
    try:
        res, result = lb.run(state='healthy', wait_for=[second.name], wait_timeout=8, verbose=False)
        assert res.rc != 0 and 'not UP in HAProxy after 8s' in result['msg'] and second.name in result['msg'], res
        assert lb.through(ha_bed.clients[0]) == '200'  # the other replica carries on
    finally:
        assert second.docker('start', name)[0] == 0
    res, result = lb.run(state='healthy', wait_for=[second.name], verbose=False)
    assert res.rc == 0 and res.changed(lb.node.name) == 0 and result['servers'][second.name]['status'] == 'UP', res
