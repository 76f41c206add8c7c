import base64
import json

import pytest

from ansible_collections.berth.registry.plugins.module_utils._client.base import Desired, Registry
from ansible_collections.berth.registry.plugins.module_utils._client.docker import DockerRuntime, classify_auth
from ansible_collections.berth.registry.plugins.module_utils._daemon_config import DaemonConfigChange
from ansible_collections.berth.registry.plugins.module_utils._daemon_json import DaemonJson
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter

PASSWORD = 'Mk-2c7e90-PASSWORD-5f1a'


class FakeEngine(object):
    docker_host = 'unix:///run/fake.sock'

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def auth(self, registry, username='', password=''):
        self.calls.append((registry, username))
        return self.answers.pop(0)


class NoDockerd(object):
    warnings = []

    def refuse_flag_conflicts(self, keys, path):
        pass


def unit(tmp_path, engine, **desired):
    desired = Desired(Registry.parse(desired.pop('registry', 'reg.test:5000')), **desired)
    change = DaemonConfigChange(DaemonJson(str(tmp_path / 'daemon.json')), NoDockerd())
    return DockerRuntime(FileWriter(None), desired, engine, change, str(tmp_path / 'certs.d'),
                         str(tmp_path / 'docker' / 'config.json'), apply='none')


def test_login_is_verified_by_the_engine_before_config_json_is_written(tmp_path):
    engine = FakeEngine([(True, 'Login Succeeded'), (True, 'Login Succeeded')])
    docker = unit(tmp_path, engine, login={'username': 'alice', 'password': PASSWORD})
    tracker = Differences()
    docker.plan(tracker)
    assert tracker.as_list() == [{'field': 'docker login reg.test:5000 in %s' % (tmp_path / 'docker' / 'config.json'),
                                  'before': None, 'after': 'user alice'}]
    docker.apply()
    assert engine.calls == [('reg.test:5000', 'alice')]
    config = tmp_path / 'docker' / 'config.json'
    assert json.loads(config.read_text()) == {'auths': {'reg.test:5000': {
        'auth': base64.b64encode(b'alice:' + PASSWORD.encode()).decode()}}}
    assert config.stat().st_mode & 0o777 == 0o600 and config.parent.stat().st_mode & 0o777 == 0o700
    assert docker.check() == (True, 'reachable and trusted: logged in as alice just now')
    again = unit(tmp_path, engine, login={'username': 'alice', 'password': PASSWORD})
    tracker = Differences()
    again.plan(tracker)
    assert not tracker and engine.calls == [('reg.test:5000', 'alice')]  # idempotent without the network


def test_a_refused_login_writes_nothing(tmp_path):
    docker = unit(tmp_path, FakeEngine([(False, 'unauthorized: incorrect username or password')]),
                  login={'username': 'alice', 'password': PASSWORD})
    docker.plan(Differences())
    with pytest.raises(BerthError, match='login to reg.test:5000 through the engine at unix:///run/fake.sock failed: '
                                         'unauthorized'):
        docker.apply()
    assert not (tmp_path / 'docker').exists()


def test_a_config_json_readable_by_others_is_made_private(tmp_path):
    engine = FakeEngine([(True, 'Login Succeeded')])
    docker = unit(tmp_path, engine, login={'username': 'alice', 'password': PASSWORD})
    docker.plan(Differences())
    docker.apply()
    (tmp_path / 'docker' / 'config.json').chmod(0o644)
    again = unit(tmp_path, engine, login={'username': 'alice', 'password': PASSWORD})
    tracker = Differences()
    again.plan(tracker)
    assert [d['field'].rsplit(' ', 1)[1] for d in tracker.as_list()] == ['mode']
    again.apply()
    assert (tmp_path / 'docker' / 'config.json').stat().st_mode & 0o777 == 0o600


def test_a_changed_password_for_the_same_user_says_so_without_the_password(tmp_path):
    engine = FakeEngine([(True, 'ok'), (True, 'ok')])
    first = unit(tmp_path, engine, login={'username': 'alice', 'password': 'old-' + PASSWORD})
    first.plan(Differences())
    first.apply()
    docker = unit(tmp_path, engine, login={'username': 'alice', 'password': PASSWORD})
    tracker = Differences()
    docker.plan(tracker)
    assert [(d['before'], d['after']) for d in tracker.as_list()] == [('user alice', 'user alice, new credentials')]
    assert PASSWORD not in json.dumps(tracker.result(True))


def test_the_anonymous_check_and_what_it_accepts(tmp_path):
    refused = 'Get "https://reg.test:5000/v2/": x509: certificate signed by unknown authority'
    docker = unit(tmp_path, FakeEngine([(False, refused)]))
    passed, text = docker.check()
    assert not passed and text.endswith('unknown authority (through the engine at unix:///run/fake.sock)')
    assert classify_auth(False, 'unauthorized: authentication required', False)[0]
    assert not classify_auth(False, 'x509: certificate signed by unknown authority', False)[0]
    assert not classify_auth(False, 'unauthorized: incorrect username or password', True)[0]


def test_a_list_of_cas_goes_into_one_file(tmp_path):
    pems = ['-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % base64.b64encode(der).decode()
            for der in (b'\x30\x03\x02\x01\x01', b'\x30\x03\x02\x01\x02')]
    docker = unit(tmp_path, FakeEngine([]), ca_certificates=pems)
    tracker = Differences()
    docker.plan(tracker)
    assert len(tracker) == 1 and tracker.as_list()[0]['after'].count('sha256 ') == 2
    docker.apply()
    assert (tmp_path / 'certs.d' / 'reg.test:5000' / 'ca.crt').read_text() == ''.join(pems)
