"""Access rights and mutual TLS on the bed (issue 14): site.yml with a pull-only user and client certificates.

One story on the session bed (after test_site.py): nginx from the bed's offline apt repository in front of the
registry, which listens on 127.0.0.1 only; a pull user pulls and is refused push and DELETE, a push user pushes,
anonymous gets 401; enrolled clients present their certificate, a host without one (or with another CA's) fails
the handshake, a client removed from the inventory is refused; reruns change and restart nothing; a new pull
user needs no reload. Ends with the front end switched off (the registry terminates TLS itself again).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile

import pytest
import yaml

from _secrets import assert_no_leaks, file_secrets, marker

import _fleet

HOSTNAME = 'registry.berth.test'
CERTS = '/etc/docker/certs.d/%s' % HOSTNAME
SITE = '/etc/nginx/conf.d/berth-registry.conf'
DENIED = 'denied: requested access to the resource is denied'


class Fleet(_fleet.Fleet):
    """The story's inventory: admin (push) and reader (pull), clients logged in as reader, mutual TLS on."""

    def __init__(self, bed, pki_dir):
        self.admin, self.reader = marker('ADMINPASSWORD'), marker('READERPASSWORD')
        self.users = [{'name': 'admin', 'password': self.admin, 'access': 'push'},
                      {'name': 'reader', 'password': self.reader, 'access': 'pull'}]
        super().__init__(bed, pki_dir, registry_hostname=HOSTNAME, registry_users=self.users,
                         registry_client_login_user='reader', registry_client_certificates=True)
        self.left = []  # clients removed from registry_clients

    def run(self, playbook=_fleet.SITE, check=False, diff=False, limit=None, args=(), **overrides):
        self.bed.write_inventory(extra_vars=dict(self.vars, **overrides))
        with open(self.bed.inventory_path) as f:
            inventory = yaml.safe_load(f)
        for name in self.left:
            inventory['all']['children']['registry_clients']['hosts'].pop(name, None)
        with open(self.bed.inventory_path, 'w') as f:
            yaml.safe_dump(inventory, f, default_flow_style=False, sort_keys=False)
        return self.bed.run_playbook(playbook, check=check, diff=diff, limit=limit, args=args)

    def container(self):
        rc, out = self.bed.registry.docker('inspect', '-f', '{{.Id}} {{.State.StartedAt}}', 'registry')
        assert rc == 0, out
        return tuple(out.split())

    def nginx(self):
        """(master PID, worker PIDs) of nginx on the registry node."""
        rc, out = self.bed.registry.exec('m=$(cat /run/nginx.pid) && echo $m && ps -o pid= --ppid $m')
        assert rc == 0, out
        pids = out.split()
        return pids[0], sorted(pids[1:])

    def secrets(self):
        found = {'admin password': self.admin, 'reader password': self.reader}
        for path in glob.glob(os.path.join(self.pki_dir, '*.key')) + glob.glob(os.path.join(self.pki_dir, 'clients', '*.key')):
            found.update(file_secrets(path))
        return found


@pytest.fixture(scope='module')
def fleet(bed):
    node = _fleet.fresh_registry(bed)
    pki = tempfile.mkdtemp(prefix='berth-access-pki-')
    state = Fleet(bed, pki)
    yield state
    # leave the node as the next story expects it: no front end holding the registry port
    node.exec('rm -f %s; [ -e /run/nginx.pid ] && nginx -s quit; true' % SITE)
    shutil.rmtree(pki, ignore_errors=True)


def curl(node, *args, cert=True):
    """HTTP status of a request from a client node (its client pair presented unless cert is False)."""
    pair = ['--cert', CERTS + '/client.cert', '--key', CERTS + '/client.key'] if cert else []
    cmd = ' '.join(["curl -sS -o /dev/null -w '%{http_code}'", '--cacert', CERTS + '/ca.crt'] + pair + list(args))
    return node.exec(cmd)


def test_check_mode_on_a_fresh_registry_node_says_nginx_comes_and_writes_nothing(fleet):
    node = fleet.bed.registry
    nginx_before = node.exec('dpkg-query -W -f=\'${Status}\' nginx 2>&1')[1]
    result = fleet.site(check=True, diff=True)
    assert result.rc == 0 and result.changed(node.name) == 1, result
    if 'install ok installed' not in nginx_before:
        assert '"package nginx": "present"' in result.stdout, result
    assert '"client certificates"' in result.stdout and 'frontend nginx' in result.stdout, result
    assert not node.exists(SITE) and not node.exists('/etc/docker/registry')
    assert not os.path.exists(os.path.join(fleet.pki_dir, 'ca.key'))
    fleet.checked = result


def test_first_run_puts_nginx_in_front_of_the_registry(fleet):
    result = fleet.site(diff=True, args=['-vvv'])
    assert result.rc == 0, result
    fleet.first = result
    node = fleet.bed.registry
    rc, out = node.docker('inspect', '-f', '{{json .HostConfig.PortBindings}}', 'registry')
    assert rc == 0 and '"HostIp":"127.0.0.1","HostPort":"5000"' in out and '443' not in out, out
    rc, out = node.exec("ss -ltnp | grep ':443 '")
    assert rc == 0 and 'nginx' in out, out
    # the registry has no users of its own; nginx reads the two htpasswd files
    config = yaml.safe_load(node.read_file('/etc/docker/registry/config.yml'))
    assert 'auth' not in config and 'tls' not in config['http'] and config['http']['addr'] == ':5000', config
    rc, out = node.exec('ls -l /etc/docker/registry/frontend')
    assert 'push.htpasswd' in out and 'users.htpasswd' in out and 'root www-data' in out, out


def test_pull_user_pulls_and_is_refused_push_and_delete(fleet):
    pusher, puller = fleet.bed.clients[0], fleet.bed.clients[1]
    image = '%s/access/tiny:1' % HOSTNAME
    rc, out = pusher.exec("tar cf - -C /etc hostname | docker import - %s >/dev/null && echo '%s' | "
                          "DOCKER_CONFIG=/tmp/berth-admin docker login -u admin --password-stdin %s && "
                          "DOCKER_CONFIG=/tmp/berth-admin docker push %s" % (image, fleet.admin, HOSTNAME, image))
    assert rc == 0, out
    rc, out = puller.docker('pull', image)  # logged in as reader by the client role
    assert rc == 0, out
    rc, out = puller.docker('push', image)
    assert rc != 0 and DENIED in out, out
    digest = pusher.exec("curl -sS -I --cacert {0}/ca.crt --cert {0}/client.cert --key {0}/client.key "
                         "-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' -u 'admin:{1}' "
                         "https://{2}/v2/access/tiny/manifests/1 | tr -d '\\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'"
                         .format(CERTS, fleet.admin, HOSTNAME))[1].strip()
    assert digest.startswith('sha256:'), digest
    url = 'https://%s/v2/access/tiny/manifests/%s' % (HOSTNAME, digest)
    assert curl(puller, '-X', 'DELETE', '-u', "'reader:%s'" % fleet.reader, url)[1] == '403'
    assert curl(puller, 'https://%s/v2/' % HOSTNAME)[1] == '401'
    assert curl(puller, '-u', "'reader:%s'" % fleet.reader, 'https://%s/v2/' % HOSTNAME)[1] == '200'


def test_a_host_without_our_client_certificate_fails_the_handshake(fleet):
    bed = fleet.bed
    ca = os.path.join(fleet.pki_dir, 'ca.crt')
    # the controller has no client certificate
    proc = subprocess.run(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca, '--resolve',
                           '%s:443:%s' % (HOSTNAME, bed.registry.ip), 'https://%s/v2/' % HOSTNAME],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode != 0 and proc.stdout.strip() in ('', '000'), proc
    # a node with a pair of another CA: docker does not even send it (the server names its CA)
    node = bed.clients[1]
    rc, out = node.exec('cd %s && mkdir -p /root/own && cp client.cert client.key /root/own/ && openssl req -x509 '
                        '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -out client.cert '
                        '-subj /CN=%s -days 2 2>&1' % (CERTS, node.name))
    try:
        assert rc == 0, out
        rc, out = node.docker('pull', '%s/access/tiny:1' % HOSTNAME)
        assert rc != 0 and 'certificate required' in out, out
    finally:
        node.exec('cp /root/own/client.cert /root/own/client.key %s/' % CERTS)
    rc, out = node.docker('pull', '%s/access/tiny:1' % HOSTNAME)
    assert rc == 0, out


def test_rerun_changes_nothing_restarts_nothing_prints_no_secret(fleet):
    container, nginx = fleet.container(), fleet.nginx()
    checked = fleet.site(check=True, diff=True)
    assert checked.rc == 0 and checked.changed() == 0, checked
    result = fleet.site(diff=True, args=['-vvv'])
    assert result.rc == 0 and result.changed() == 0, result
    assert fleet.container() == container and fleet.nginx() == nginx
    assert 'pull only: reader; mutual TLS' in result.stdout, result
    assert_no_leaks([fleet.checked, fleet.first, checked, result], fleet.secrets(), 'site.yml -vvv --diff with rights and mutual TLS')


def test_a_new_pull_user_needs_no_reload(fleet):
    container, nginx = fleet.container(), fleet.nginx()
    password = marker('READER2PASSWORD')
    users = fleet.users + [{'name': 'reader2', 'password': password, 'access': 'pull'}]
    result = fleet.site(registry_users=users, limit=fleet.bed.registry.name)
    assert result.rc == 0 and result.changed() == 1, result
    assert fleet.container() == container and fleet.nginx() == nginx
    node = fleet.bed.clients[0]
    assert curl(node, '-u', "'reader2:%s'" % password, 'https://%s/v2/access/tiny/tags/list' % HOSTNAME)[1] == '200'
    assert curl(node, '-X', 'DELETE', '-u', "'reader2:%s'" % password,
                'https://%s/v2/access/tiny/manifests/sha256:%s' % (HOSTNAME, '0' * 64))[1] == '403'
    fleet.vars['registry_users'] = fleet.users = users


def test_a_client_removed_from_the_inventory_is_refused(fleet):
    gone, kept = fleet.bed.clients[2], fleet.bed.clients[0]
    assert gone.docker('pull', '%s/access/tiny:1' % HOSTNAME)[0] == 0
    container, (master, workers) = fleet.container(), fleet.nginx()
    fleet.left.append(gone.name)

    result = fleet.site(limit=fleet.bed.registry.name)  # the server play revokes; no client needs to run

    assert result.rc == 0, result
    assert os.path.exists(os.path.join(fleet.pki_dir, 'clients', 'crl.pem'))
    assert not os.path.exists(os.path.join(fleet.pki_dir, 'clients', gone.name + '.key'))
    rc, out = gone.docker('pull', '%s/access/tiny:1' % HOSTNAME)
    assert rc != 0 and 'certificate refused' in out and 'revoked' in out, out
    assert kept.docker('pull', '%s/access/tiny:1' % HOSTNAME)[0] == 0
    # the CRL changed: nginx reloaded gracefully (same master), the registry untouched
    now_master, now_workers = fleet.nginx()
    assert fleet.container() == container and now_master == master and now_workers != workers


def test_without_pull_users_and_mutual_tls_the_registry_serves_alone(fleet):
    users = [dict(u, access='push') for u in fleet.users if u['name'] != 'reader2']
    result = fleet.site(registry_users=users, registry_client_certificates=False, limit=fleet.bed.registry.name)
    assert result.rc == 0, result
    node = fleet.bed.registry
    assert not node.exists(SITE)
    rc, out = node.docker('inspect', '-f', '{{json .HostConfig.PortBindings}}', 'registry')
    assert rc == 0 and '"HostPort":"443"' in out, out
    kept = fleet.bed.clients[0]
    assert curl(kept, '-u', "'admin:%s'" % fleet.admin, 'https://%s/v2/' % HOSTNAME, cert=False)[1] == '200'
    assert kept.docker('pull', '%s/access/tiny:1' % HOSTNAME)[0] == 0
