"""ContainerDriver on a fake engine: the decision, the swap and its rollback, check mode, secrets."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.berth.registry.plugins.module_utils._registry_container import driver as driver_module
from ansible_collections.berth.registry.plugins.module_utils._registry_container.driver import ContainerDriver
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import (
    ContainerInputError,
    NotAnswering,
    SwapError,
)
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import ContainerSpec

from .fake_engine import FakeClient

SECRET = 'Mk-3f9c1e-HTTPSECRET-7d2a'


@pytest.fixture
def answers(monkeypatch):
    """What the probe finds: None (answers) unless the test sets answers['problem']."""
    state = {'problem': None, 'calls': 0}

    def wait(settings, crashed, opener=None):
        state['calls'] += 1
        return state['problem']
    monkeypatch.setattr(driver_module.probe, 'wait_until_answering', wait)
    return state


@pytest.fixture
def site(tmp_path):
    conf = tmp_path / 'conf'
    conf.mkdir()
    (conf / 'config.yml').write_text('version: 0.1\n')

    def spec(**values):
        base = dict(name='registry', data_dir=str(tmp_path / 'data'), config_dir=str(conf),
                    restart_files=[str(conf / 'config.yml')], probe={'scheme': 'http'},
                    ports=[{'host_port': 5000, 'bind_address': '127.0.0.1'}])
        base.update(values)
        return ContainerSpec(**base)
    spec.data_dir = str(tmp_path / 'data')
    spec.config = conf / 'config.yml'
    return spec


def run(client, spec, check_mode=False):
    return ContainerDriver(client, check_mode=check_mode).run(spec)


def methods(client, since=0):
    return [c[0] for c in client.calls[since:] if not c[0].startswith('inspect')]


def test_check_mode_then_create_then_nothing(site, answers):
    client = FakeClient()
    tracker, result = run(client, site(), check_mode=True)
    assert tracker.fields == ['container', 'data_dir'] and methods(client) == []
    assert not os.path.exists(site.data_dir) and result['container'] == {}

    tracker, result = run(client, site())
    assert tracker.fields == ['container', 'data_dir'] and result['recreated'] is False
    assert methods(client) == ['create_container', 'start', 'rename']
    assert client.names() == ['registry'] and result['container']['name'] == 'registry'
    assert stat.S_IMODE(os.stat(site.data_dir).st_mode) == 0o700

    since = len(client.calls)
    tracker, result = run(client, site())
    assert not tracker and methods(client, since) == [] and answers['calls'] == 1


def test_a_change_swaps_the_new_container_in_after_it_answers(site, answers):
    client = FakeClient()
    run(client, site())
    old_id = client.containers and list(client.containers)[0]
    since = len(client.calls)
    tracker, result = run(client, site(env={'REGISTRY_LOG_LEVEL': 'debug'}))
    assert tracker.as_list() == [{'field': 'env.REGISTRY_LOG_LEVEL', 'before': None, 'after': 'debug'}]
    calls = [c for c in client.calls[since:] if not c[0].startswith('inspect')]
    new_id = result['container']['id']
    assert calls == [('create_container', 'registry-berth-new'), ('stop', old_id), ('start', new_id),
                     ('remove_container', old_id), ('rename', new_id, 'registry')]
    assert result['recreated'] is True and client.names() == ['registry']


def test_a_new_container_that_does_not_answer_is_removed_and_the_old_one_restarted(site, answers):
    client = FakeClient()
    client.log_text = 'level=fatal msg="configuration error"\n'
    run(client, site())
    old_id = list(client.containers)[0]
    answers['problem'] = 'no answer within 60 s: http://127.0.0.1:5000/: refused'
    with pytest.raises(NotAnswering) as err:
        run(client, site(env={'REGISTRY_LOG_LEVEL': 'debug'}))
    message = str(err.value)
    assert 'registry container registry does not answer: no answer within 60 s' in message
    assert 'the previous container was started again' in message and 'configuration error' in message
    assert list(client.containers) == [old_id] and client.containers[old_id]['State']['Running']
    assert client.names() == ['registry']


def test_a_first_container_that_does_not_answer_is_removed_too(site, answers):
    client = FakeClient()
    answers['problem'] = 'the container exited (exit code 1, restarts 0)'
    with pytest.raises(NotAnswering, match='there was no previous container'):
        run(client, site())
    assert client.containers == {}


def test_an_engine_refusal_leaves_the_old_container_running(site, answers):
    client = FakeClient()
    run(client, site())
    old_id = list(client.containers)[0]
    client.fail['create_container'] = RuntimeError('invalid mount config')
    with pytest.raises(SwapError, match='creating the new container for registry failed .the old one is untouched.'):
        run(client, site(env={'A': 'b'}))
    assert client.containers[old_id]['State']['Running'] and ('stop', old_id) not in client.calls


def test_a_leftover_temporary_container_is_replaced(site, answers):
    client = FakeClient()
    client.create_container(image='registry:2', name='registry-berth-new', host_config={}, environment={}, labels={},
                            detach=True)
    run(client, site())
    assert client.names() == ['registry']


def test_a_stopped_matching_container_is_started_not_recreated(site, answers):
    client = FakeClient()
    run(client, site())
    cid = list(client.containers)[0]
    client.stop(cid)
    tracker, result = run(client, site())
    assert tracker.as_list() == [{'field': 'status', 'before': 'exited', 'after': 'running'}]
    assert list(client.containers) == [cid] and result['recreated'] is False and result['container']['status'] == 'running'


def test_recreate_never_warns_and_changes_nothing(site, answers):
    client = FakeClient()
    run(client, site())
    d = ContainerDriver(client)
    tracker, result = d.run(site(env={'A': 'b'}, recreate='never'))
    assert not tracker and 'differs from the options (env.A) but recreate=never' in d.warnings[0]
    tracker, result = d.run(site(recreate='always'))
    assert tracker.fields == ['recreate'] and result['recreated'] is True


def test_a_changed_restart_file_recreates(site, answers):
    client = FakeClient()
    run(client, site())
    site.config.write_text('version: 0.1\n# changed\n')
    tracker, result = run(client, site())
    assert tracker.as_list() == [{'field': 'restart_files', 'before': 'content at last start', 'after': 'changed content'}]


def test_data_dir_mode_is_a_chmod_not_a_recreate(site, answers):
    client = FakeClient()
    run(client, site())
    os.chmod(site.data_dir, 0o755)
    cid = list(client.containers)[0]
    tracker, result = run(client, site())
    assert tracker.as_list() == [{'field': 'data_dir mode', 'before': '0755', 'after': '0700'}]
    assert stat.S_IMODE(os.stat(site.data_dir).st_mode) == 0o700 and list(client.containers) == [cid]


def test_check_mode_with_files_still_to_come_warns_and_predicts_a_recreate(site, answers, tmp_path):
    client = FakeClient()
    run(client, site())
    d = ContainerDriver(client, check_mode=True)
    tracker, result = d.run(site(restart_files=[str(tmp_path / 'conf' / 'tls.crt')]))
    assert 'restart_files' in tracker and 'does not exist (yet)' in d.warnings[0]
    with pytest.raises(ContainerInputError, match='restart_files: .*tls.crt does not exist'):
        run(client, site(restart_files=[str(tmp_path / 'conf' / 'tls.crt')]))


def test_secret_env_values_leave_no_trace_in_results_or_errors(site, answers):
    client = FakeClient()
    tracker, result = run(client, site(secret_env={'REGISTRY_HTTP_SECRET': SECRET}))
    assert SECRET not in repr(tracker.result(True)) + repr(result)
    assert 'REGISTRY_HTTP_SECRET=' + SECRET in list(client.containers.values())[0]['Config']['Env']
    assert not run(client, site(secret_env={'REGISTRY_HTTP_SECRET': SECRET}))[0]

    client.log_text = 'level=debug msg="http.secret=%s"\n' % SECRET
    client.fail['create_container'] = RuntimeError('invalid environment variable: REGISTRY_HTTP_SECRET=%s' % SECRET)
    with pytest.raises(SwapError) as err:
        run(client, site(secret_env={'REGISTRY_HTTP_SECRET': SECRET + '-rotated'}))
    assert SECRET not in str(err.value) and '********' in str(err.value)
    del client.fail['create_container']
    answers['problem'] = 'no answer'
    with pytest.raises(NotAnswering) as err:
        run(client, site(secret_env={'REGISTRY_HTTP_SECRET': SECRET}, env={'A': 'b'}))
    assert SECRET not in str(err.value) and 'http.secret=********' in str(err.value)


def test_stopped_and_absent(site, answers):
    client = FakeClient()
    run(client, site())
    with open(os.path.join(site.data_dir, 'blob'), 'w') as f:
        f.write('x')
    tracker, result = run(client, site(state='stopped'), check_mode=True)
    assert tracker.as_list() == [{'field': 'status', 'before': 'running', 'after': 'exited'}]
    tracker, result = run(client, site(state='stopped'))
    assert result['container']['status'] == 'exited' and not run(client, site(state='stopped'))[0]

    tracker, result = run(client, site(state='absent', remove_data=True), check_mode=True)
    assert tracker.fields == ['container', 'data_dir'] and client.names() == ['registry']
    tracker, result = run(client, site(state='absent'))
    assert tracker.fields == ['container'] and client.names() == [] and os.listdir(site.data_dir) == ['blob']
    tracker, result = run(client, site(state='absent', remove_data=True))
    assert tracker.as_list() == [{'field': 'data_dir', 'before': '%s (not empty)' % site.data_dir,
                                  'after': '%s (empty)' % site.data_dir}]
    assert os.listdir(site.data_dir) == [] and not run(client, site(state='absent', remove_data=True))[0]


def test_absent_removes_a_data_volume(site, answers):
    client = FakeClient()
    client.volumes.add('regdata')
    tracker, result = run(client, site(state='absent', data_dir=None, data_volume='regdata', remove_data=True))
    assert tracker.as_list() == [{'field': 'data_volume', 'before': 'regdata', 'after': None}]
    assert client.volumes == set()


def test_a_precomputed_files_hash_decides_and_a_ready_check_can_refuse(site, answers):
    client = FakeClient()
    spec = site(restart_files=[])
    ContainerDriver(client).run(spec, files_hash='sha256:one')
    first = next(iter(client.containers))
    tracker, result = ContainerDriver(client, check_mode=True).run(spec, files_hash='sha256:two')
    assert tracker.fields == ['restart_files'] and not result['recreated']
    tracker, result = ContainerDriver(client, check_mode=True).run(spec, files_hash='sha256:one')
    assert not tracker
    refusing = ContainerDriver(client, ready_check=lambda spec, opener: 'storage says NoSuchBucket')
    with pytest.raises(NotAnswering, match='storage says NoSuchBucket'):
        refusing.run(spec, files_hash='sha256:two')
    assert list(client.containers) == [first] and client.containers[first]['State']['Running']
    with pytest.raises(ContainerInputError, match='give one of them'):
        ContainerDriver(client).run(site(), files_hash='sha256:three')
