"""HostPlan on a fake engine: fresh, rerun, check mode predicting a recreate exactly, packages, secrets, restore."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_container import driver as driver_module
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ImageError, NotAnswering
from ansible_collections.berth.registry.plugins.module_utils._registry_server import config, host, pki
from ansible_collections.berth.registry.plugins.module_utils._registry_server.config import ConfigRequest
from ansible_collections.berth.registry.plugins.module_utils._registry_server.layout import Layout

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, '_registry_container'))
from fake_engine import FakeClient  # noqa: E402  pylint: disable=wrong-import-position
from _frontend.test_host import FakeService  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = 'Mk-3f9c1e-PASSWORD-7d2a'
HTTP_SECRET = 'Mk-0a0b0c-HTTPSECRET-1d1e-0123456789'
S3_SECRET = 'Mk-a1b2c3-S3SECRET-9e8f'


@pytest.fixture(scope='module')
def tls(tmp_path_factory):
    directory = tmp_path_factory.mktemp('pki')
    made = pki.own_pki(str(directory), {}, {'name': 'reg', 'dns_names': ['reg.example']}, False)
    return made


@pytest.fixture
def ready(monkeypatch):
    state = {'problem': None, 'storage': None}
    monkeypatch.setattr(driver_module.probe, 'wait_until_answering', lambda settings, crashed, opener=None: state['problem'])
    monkeypatch.setattr(host, 'storage_check', lambda user=None, password=None: lambda spec, opener: state['storage'])
    return state


class Site(object):
    def __init__(self, tmp_path, tls):
        self.tmp = tmp_path
        self.conf = str(tmp_path / 'conf')
        self.client = FakeClient()
        self.tls = tls
        self.status = tmp_path / 'dpkg-status'
        self.status.write_text('')

    def params(self, **overrides):
        layout = Layout(self.conf)
        request = ConfigRequest(layout, 443, http_secret=HTTP_SECRET, htpasswd=True,
                                storage=overrides.pop('storage', None), sections=overrides.pop('sections', None))
        built = request.build()
        params = dict(config_dir=self.conf, config=config.render(built), config_shown=config.render_redacted(built),
                      tls=self.tls.host_option(), users=[{'name': 'admin', 'password': PASSWORD, 'state': 'present'}],
                      users_exclusive=True, htpasswd_cost=4, packages=[],
                      container={'name': 'registry', 'data_dir': str(self.tmp / 'data'),
                                 'ports': [{'host_port': 443, 'container_port': 443}], 'probe': {'scheme': 'https'}},
                      extra_files=[], docker_host='unix:///x', timeout=5, secrets=[])
        params.update(overrides)
        return params

    def run(self, check_mode=False, **overrides):
        plan = host.HostPlan(self.params(**overrides), check_mode=check_mode, client_factory=lambda h, t: self.client,
                             status_path=str(self.status))
        return plan.run(diff_mode=True)

    def files(self):
        result = {}
        for root, dirs, names in os.walk(self.conf):
            for name in dirs + names:
                path = os.path.join(root, name)
                data = open(path, 'rb').read() if os.path.isfile(path) else None
                result[os.path.relpath(path, self.conf)] = (stat.S_IMODE(os.stat(path).st_mode), data)
        return result


@pytest.fixture
def site(tmp_path, tls, ready):
    return Site(tmp_path, tls)


def test_fresh_then_rerun_then_check(site):
    planned = site.run(check_mode=True)
    assert planned['changed'] and not os.path.exists(site.conf) and site.client.containers == {}
    fields = [d['field'] for d in planned['differences']]
    assert fields[:3] == ['directory %s' % site.conf, 'directory ssl', 'directory auth']
    assert {'ssl/registry.key', 'ssl/registry.crt', 'ssl/ca.crt', 'config.yml', 'htpasswd: user admin', 'container'} <= set(fields)
    done = site.run()
    assert done['changed'] and done['container']['running'] and done['users'] == ['admin']
    assert [d['field'] for d in done['differences']] == fields
    modes = dict((k, v[0]) for k, v in site.files().items())
    assert modes == {'ssl': 0o700, 'auth': 0o750, 'config.yml': 0o600, 'ssl/registry.key': 0o600,
                     'ssl/registry.crt': 0o644, 'ssl/ca.crt': 0o644, 'auth/htpasswd': 0o640}
    before, containers = site.files(), json.dumps(site.client.containers, sort_keys=True)
    for check_mode in (True, False):
        again = site.run(check_mode=check_mode)
        assert not again['changed'] and again['differences'] == [], again
    assert site.files() == before and json.dumps(site.client.containers, sort_keys=True) == containers


def test_check_mode_predicts_the_recreate_a_config_change_makes(site):
    site.run()
    changed = {'sections': {'log': {'level': 'debug'}}}
    planned = site.run(check_mode=True, **changed)
    fields = [d['field'] for d in planned['differences']]
    assert fields == ['config.yml', 'container restart_files']
    old = next(iter(site.client.containers))
    done = site.run(**changed)
    assert [d['field'] for d in done['differences']] == fields and done['recreated']
    assert old not in site.client.containers
    # a new user changes htpasswd only: no recreate
    users = [{'name': 'admin', 'password': PASSWORD}, {'name': 'ci', 'password': 'Mk-112233-CIPW-4455'}]
    added = site.run(users=users, **changed)
    assert [d['field'] for d in added['differences']] == ['htpasswd: user ci'] and not added['recreated']


def test_pending_tls_in_check_mode_predicts_a_recreate(site):
    site.run()
    planned = site.run(check_mode=True, tls={'pending': True})
    fields = [d['field'] for d in planned['differences']]
    assert fields == ['ssl/registry.key', 'ssl/registry.crt', 'ssl/ca.crt', 'container restart_files']
    with pytest.raises(BerthError, match='only check mode'):
        site.run(tls={'pending': True})


def test_missing_packages_stop_a_real_run_and_are_reported_in_check_mode(site):
    wanted = ['python3-berth-not-installed', 'python3-docker']
    done = site.run(packages=wanted)
    assert done == {'changed': False, 'differences': [], 'missing_packages': ['python3-berth-not-installed'],
                    'msg': 'missing on the registry host: python3-berth-not-installed'}
    assert not os.path.exists(site.conf)
    planned = site.run(check_mode=True, packages=wanted)
    assert planned['differences'][0] == {'field': 'package python3-berth-not-installed', 'before': None, 'after': 'present'}
    assert planned['missing_packages'] == ['python3-berth-not-installed']


def test_no_secret_in_the_result(site):
    storage = {'s3': {'region': 'r', 'bucket': 'b', 'accesskey': 'Mk-998877-S3KEY-6655', 'secretkey': S3_SECRET}}
    for check_mode in (True, False, True):
        result = json.dumps(site.run(check_mode=check_mode, storage=storage))
        for secret in (PASSWORD, HTTP_SECRET, S3_SECRET, 'Mk-998877-S3KEY-6655'):
            assert secret not in result
        for line in site.tls.key.decode().splitlines()[1:-1]:
            assert line not in result
    htpasswd = open(os.path.join(site.conf, 'auth', 'htpasswd')).read().split(':', 1)[1].strip()
    assert htpasswd.startswith('$2y$') and htpasswd not in result


def test_bad_input_writes_nothing(site):
    site.run()
    before = site.files()
    cases = [
        (dict(users=[{'name': 'a:b', 'password': PASSWORD}]), 'users[0].name'),
        (dict(extra_files=[{'path': '../escape', 'content': 'x'}]), 'extra_files[0]'),
        (dict(container={'name': 'bad name', 'ports': []}), 'name'),
        (dict(container={'name': 'registry', 'image': 'berth/absent:1', 'pull': 'never',
                         'ports': [{'host_port': 443, 'container_port': 443}]}), 'berth/absent:1'),
    ]
    for overrides, word in cases:
        with pytest.raises(BerthError) as info:
            site.run(sections={'log': {'level': 'debug'}}, **overrides)
        assert word in str(info.value)
        assert site.files() == before


def test_a_new_container_that_does_not_answer_leaves_the_old_files_and_container(site, ready):
    site.run()
    before = site.files()
    old = next(iter(site.client.containers))
    ready['storage'] = 'it answers, but its storage does not: GET /v2/_catalog?n=1 answered HTTP 500: NoSuchBucket'
    with pytest.raises(NotAnswering) as info:
        site.run(sections={'log': {'level': 'debug'}})
    message = str(info.value)
    assert 'NoSuchBucket' in message and 'config.yml were put back as they were' in message
    assert site.files() == before and list(site.client.containers) == [old]
    assert ('restart', 'registry') in site.client.calls


def test_extra_files_and_image_archive_protocol(site):
    extra = [{'path': 'nginx/nginx.conf', 'content': 'events {}\n', 'mode': '0640', 'restart': False, 'secret': False}]
    done = site.run(extra_files=extra)
    assert site.files()['nginx/nginx.conf'] == (0o640, b'events {}\n')
    assert any(d['field'] == 'nginx/nginx.conf' and d['after'].startswith('sha256:') for d in done['differences'])
    site.client.images.clear()
    needs = site.run(image_archive_id='sha256:' + 'c' * 64)
    assert needs['needs_image_archive'] and not needs['changed']
    with pytest.raises(ImageError, match='pull=never'):
        site.run(container={'name': 'registry', 'pull': 'never', 'ports': [{'host_port': 443}]})


def test_the_stores_own_error_comes_first():
    logs = ('registry container r does not answer: it answers, but its storage does not\nlast 30 log lines:\n'
            'level=error msg="response completed with error" err.detail="s3aws: NoSuchBucket: The specified bucket '
            'does not exist\\n\\tstatus code: 404" err.message="unknown error"\n')
    assert host.store_error(logs).startswith('the storage says: s3aws: NoSuchBucket: The specified bucket does not '
                                             'exist status code: 404\nregistry container r')
    assert host.store_error('no details') == 'no details'


def test_the_front_end_is_laid_out_after_the_registry_left_the_port_and_removed_when_off(site, monkeypatch):
    service = FakeService(installed=True)
    calls = []
    service.start = lambda: calls.append(('nginx start', len(site.client.containers)))
    site_path = str(site.tmp / 'berth-registry.conf')
    users = [{'name': 'admin', 'password': PASSWORD, 'access': 'push'},
             {'name': 'reader', 'password': 'Mk-1a2b-READER-PW-3c4d', 'access': 'pull'}]
    frontend = {'port': 443, 'upstream_port': 5000, 'server_names': ['reg.example'], 'realm': 'r'}

    def run(check_mode=False, **overrides):
        plan = host.HostPlan(site.params(**overrides), check_mode=check_mode, client_factory=lambda h, t: site.client,
                             status_path=str(site.status), service=service, site_path=site_path)
        return plan.run(diff_mode=True)

    planned = run(check_mode=True, users=users, frontend=frontend)
    assert 'frontend nginx' in [d['field'] for d in planned['differences']] and not os.path.exists(site_path)
    done = run(users=users, frontend=frontend)
    assert done['changed'] and done['frontend']['users'] == ['admin', 'reader'] and done['frontend']['push_users'] == ['admin']
    assert calls == [('nginx start', 1)]  # the container first: it left the port for nginx
    assert 'listen 443 ssl;' in open(site_path).read() and not os.path.exists(os.path.join(site.conf, 'auth', 'htpasswd'))
    service._running = True
    again = run(users=users, frontend=frontend)
    assert not again['changed'], again['differences']
    off = run()
    assert off['changed'] and not os.path.exists(site_path) and off['frontend']['present'] is False
    assert not os.path.exists(os.path.join(site.conf, 'frontend', 'users.htpasswd'))
