"""GcDriver against a fake engine: the read-only window, its failures, and the states of replicas."""

from __future__ import annotations

import json

import pytest

from ansible_collections.berth.registry.plugins.module_utils._registry_gc import driver as gc_driver
from ansible_collections.berth.registry.plugins.module_utils._registry_gc import job, ready, storage
from ansible_collections.berth.registry.plugins.module_utils._registry_gc.driver import GcDriver, GcError, GcSpec

from .fake_engine import GC_NOTHING, FakeClient, registry_inspect

TWIN = 'registry-berth-readonly'


@pytest.fixture(autouse=True)
def answering(monkeypatch):
    """Every running container answers /v2/ at once (the probe is tested on a real registry)."""
    monkeypatch.setattr(ready, 'answers', lambda address, port, timeout=2.0: None)


@pytest.fixture
def client():
    return FakeClient(registry_inspect())


def run(client, check_mode=False, **options):
    options.setdefault('timeout', 2)
    differences, result = GcDriver(client, check_mode=check_mode).run(GcSpec(**options))
    return differences, result


def test_a_collection_runs_in_the_twin_and_the_registry_comes_back(client):
    seen = []
    client.on_exec = lambda name, cmd: seen.append((name, cmd[1:], client.running()))
    differences, result = run(client, data_dir=None)
    assert differences.changed and differences.fields == ['blobs']
    # dry run in the live registry, the real one in the read-only twin while the registry is stopped
    assert seen[1] == ('registry', ['garbage-collect', '--dry-run', '/etc/docker/registry/config.yml'], ['registry'])
    assert seen[2] == (TWIN, ['garbage-collect', '/etc/docker/registry/config.yml'], [TWIN])
    assert client.running() == ['registry'] and client.names() == ['registry']
    assert result['window'] and not result['readonly'] and result['blobs_deleted'] == 2
    assert result['registry_version'] == '2.8.2'
    twin_body = next(c for c in client.calls if c[0] == 'create_container_from_config')
    assert twin_body[1] == TWIN


def test_nothing_eligible_means_no_window_and_no_change(client):
    client.outputs['garbage-collect --dry-run'] = (0, GC_NOTHING)
    differences, result = run(client)
    assert not differences.changed and not result['window']
    assert not any(c[0] in ('stop', 'start', 'create_container_from_config') for c in client.calls)


def test_check_mode_only_dry_runs(client):
    differences, result = run(client, check_mode=True)
    assert differences.changed and result['eligible']['blobs_eligible'] == 2
    assert not any(c[0] in ('stop', 'start', 'create_container_from_config') for c in client.calls)
    assert sum(1 for c in client.calls if c[0] == 'exec_create' and 'garbage-collect' in c[2]) == 1


def test_dry_run_reports_and_changes_nothing(client):
    differences, result = run(client, dry_run=True)
    assert result['eligible']['blobs_eligible'] == 2 and result['blobs_deleted'] == 0
    assert not any(c[0] == 'stop' for c in client.calls)


def test_a_failed_collection_still_returns_to_read_write(client):
    client.outputs['garbage-collect'] = (1, 'failed to garbage collect: disk I/O error\n')
    with pytest.raises(GcError, match='(?s)exited with 1 .the registry is read-write again.*disk I/O error'):
        run(client)
    assert client.running() == ['registry'] and client.names() == ['registry']


def test_a_twin_that_does_not_answer_is_removed_and_the_registry_started_again(client, monkeypatch):
    monkeypatch.setattr(ready, 'answers', lambda address, port, timeout=2.0:
                        None if address == '172.17.0.2' else 'connection refused')
    with pytest.raises(GcError, match='(?s)read-only twin registry-berth-readonly does not answer.*started again'):
        run(client, timeout=1)
    assert client.running() == ['registry'] and client.names() == ['registry']


def test_replicas_readonly_then_collect_without_restore_then_readwrite(client):
    differences, result = run(client, state='readonly')
    assert differences.fields == ['mode'] and result['readonly'] and client.running() == [TWIN]
    assert not run(client, state='readonly')[0].changed

    differences, result = run(client, restore=False)
    assert result['readonly'] and not result['window'] and client.running() == [TWIN]
    assert result['blobs_deleted'] == 2

    differences, result = run(client, state='readwrite')
    assert differences.fields == ['mode'] and not result['readonly']
    assert client.running() == ['registry'] and client.names() == ['registry']
    assert not run(client, state='readwrite')[0].changed


def test_a_leftover_twin_of_a_run_cut_short_is_removed(client):
    run(client, state='readonly')
    # the run died after the registry came back but before the twin was removed
    client.stop(client._find(TWIN)['Id'])
    client.start(client._find('registry')['Id'])
    client.outputs['garbage-collect --dry-run'] = (0, GC_NOTHING)
    differences, dummy = run(client)
    assert differences.fields == ['read-only twin'] and client.names() == ['registry']


def test_delete_untagged_on_2x_with_an_image_index_is_refused_before_anything(client, monkeypatch):
    monkeypatch.setattr(storage, 'image_indexes', lambda data_dir, limit=100000: [('multi', 'sha256:' + '1' * 64)])
    with pytest.raises(GcError, match='(?s)multi-arch image index.*distribution#3178.*Nothing was changed'):
        run(client, delete_untagged=True)
    assert not any(c[0] in ('stop', 'create_container_from_config') for c in client.calls)
    client.outputs['--version'] = (0, 'registry github.com/distribution/distribution/v3 v3.0.0\n')
    assert run(client, delete_untagged=True)[0].changed


def test_a_missing_or_stopped_registry_is_an_error():
    with pytest.raises(GcError, match='does not exist'):
        run(FakeClient())
    with pytest.raises(GcError, match='is not running'):
        run(FakeClient(registry_inspect(running=False)))


@pytest.mark.parametrize('options, words', [
    ({'state': 'gone'}, "state: 'gone' is not one of collected"),
    ({'name': 'a b'}, "name: 'a b' is not a container name"),
    ({'timeout': 0}, 'timeout: 0 must be a whole number'),
    ({'config_path': 'relative.yml'}, "config_path: 'relative.yml' must be an absolute path"),
])
def test_bad_options_name_the_option(options, words):
    with pytest.raises(GcError, match=words):
        GcSpec(**options)


def test_the_job_prints_the_result_as_json(client, capsys):
    assert job.main(['--name', 'registry'], client_factory=lambda host: client) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed['changed'] and printed['blobs_deleted'] == 2 and printed['readonly'] is False


def test_the_job_reports_a_failure_on_stderr(capsys):
    assert job.main(['--name', 'registry'], client_factory=lambda host: FakeClient()) == 1
    assert 'does not exist' in capsys.readouterr().err


def test_the_driver_imports_no_ansible():
    # the scheduled job runs it on a host without Ansible
    import ast
    import inspect as pyinspect
    for mod in (gc_driver, job, ready, storage):
        tree = ast.parse(pyinspect.getsource(mod))
        names = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not any(n == 'ansible' or n.startswith('ansible.') for n in names), mod.__name__
