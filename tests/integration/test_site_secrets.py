"""site.yml --diff -vvv prints no secret: on a fresh fleet and on a converged one, in check mode and for real.

Issue 9's site-level guarantee, across every module the site uses (registry_server and registry_host on the
registry node, registry_client on every client, registry_report on the controller). Realistic markers are
planted where users put secrets; what the run generates (key bytes, bcrypt hashes, http.secret, the stored
login) is read back from disk afterwards and looked for too.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest

from _secrets import assert_no_leaks, basic_auth, file_secrets, marker

import _fleet

SITE = 'playbooks/site.yml'
HOSTNAME = 'secrets.berth.test'


@pytest.fixture(scope='module')
def planted(bed):
    """The bed's registry node made fresh (no container, no files); clients have never heard of HOSTNAME."""
    _fleet.fresh_registry(bed)
    pki = tempfile.mkdtemp(prefix='berth-secrets-pki-')
    secrets = {
        'admin password': marker('ADMINPASSWORD'),
        'ci password': marker('CIPASSWORD'),
        'CA passphrase': marker('CAPASSPHRASE'),
        'secret env': marker('ENVTOKEN'),
        'notification header': marker('BEARERTOKEN'),
        'front end secret': marker('FRONTENDSECRET'),
    }
    extra = {
        'registry_hostname': HOSTNAME,
        'registry_pki_dir': pki,
        'registry_users': [{'name': 'admin', 'password': secrets['admin password']},
                           {'name': 'ci', 'password': secrets['ci password']}],
        'registry_client_login_user': 'admin',
        'registry_ca_passphrase': secrets['CA passphrase'],
        'registry_container_secret_env': {'BERTH_TEST_TOKEN': secrets['secret env']},
        'registry_config_extra': {'notifications': {'endpoints': [{
            'name': 'berth-test', 'url': 'http://127.0.0.1:9/events', 'timeout': '1s', 'threshold': 5, 'backoff': '10s',
            'headers': {'Authorization': ['Bearer ' + secrets['notification header']]}}]}},
        'registry_server_extra_files': [{'path': 'front/token.conf', 'content': 'token %s\n' % secrets['front end secret'],
                                         'mode': '0600', 'secret': True}],
    }
    yield bed, pki, extra, secrets
    shutil.rmtree(pki, ignore_errors=True)


def run(bed, extra, check):
    bed.write_inventory(extra_vars=extra)
    return bed.run_playbook(SITE, check=check, diff=True, args=['-vvv'])


def test_site_prints_no_secret_fresh_or_converged_check_or_real(planted):
    bed, pki, extra, secrets = planted
    runs = {'check, fresh': run(bed, extra, True)}
    assert not os.path.exists(os.path.join(pki, 'ca.key'))
    runs['real, fresh'] = run(bed, extra, False)
    runs['check, converged'] = run(bed, extra, True)
    runs['real, converged'] = run(bed, extra, False)
    for label, result in runs.items():
        assert result.rc == 0, '%s:\n%s' % (label, result)
    for node in bed.nodes:
        assert runs['check, fresh'].changed(node.name) >= 1 and runs['real, fresh'].changed(node.name) >= 1, node.name
        assert runs['check, converged'].changed(node.name) == 0 and runs['real, converged'].changed(node.name) == 0

    # what the run made, read back: every key's PEM body, the bcrypt hashes, http.secret, the stored login
    for name in ('ca.key', HOSTNAME + '.key'):
        secrets.update(file_secrets(os.path.join(pki, name)))
    with open(os.path.join(pki, 'http.secret')) as f:
        secrets['http.secret'] = f.read().strip()
    registry = bed.registry
    secrets.update(('host key line %d' % i, line) for i, line in enumerate(
        l for l in registry.read_file('/etc/docker/registry/ssl/registry.key').splitlines() if not l.startswith('-----')))
    for line in registry.read_file('/etc/docker/registry/auth/htpasswd').splitlines():
        user, dummy, hashed = line.partition(':')
        secrets['bcrypt hash of %s' % user] = hashed
        assert hashed.startswith('$2y$')
    secrets['basic auth'] = basic_auth('admin', secrets['admin password'])
    stored = json.loads(bed.clients[0].read_file('/root/.docker/config.json'))['auths'][HOSTNAME]['auth']
    assert stored == secrets['basic auth']
    assert secrets['http.secret'] in registry.read_file('/etc/docker/registry/config.yml')

    for label, result in runs.items():
        assert_no_leaks(result, secrets, 'site.yml --diff -vvv (%s)' % label)
    # what the diff does show: metadata, masked values
    fresh = runs['real, fresh'].stdout
    assert 'secret: (secret)' in fresh and 'Authorization: (secret)' in fresh and '"ssl/registry.key": "(secret)"' in fresh
