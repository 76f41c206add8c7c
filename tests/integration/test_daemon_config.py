"""docker_daemon_config against a throwaway dockerd (see _throwaway_dockerd.py).

Four steps each (check -> run -> check -> run), verified from outside: file bytes,
`docker info` of that engine, the dockerd PID.
"""

from __future__ import annotations

import json
import os

import pytest

from bed.playbook import run_playbook

from _throwaway_dockerd import Engine

PLAYBOOK = os.path.join(os.path.dirname(__file__), 'playbooks', 'docker_daemon_config', 'run.yml')
START = {
    'runtimes': {'crun': {'path': '/usr/bin/crun', 'runtimeArgs': ['--debug']}},
    'log-driver': 'json-file',
    'insecure-registries': ['old.example:5000'],
}


@pytest.fixture(scope='module')
def engine(tmp_path_factory):
    eng = Engine(str(tmp_path_factory.mktemp('dockerd')))
    with open(eng.daemon_json, 'w') as f:
        f.write(json.dumps(START, indent=2) + '\n')
    eng.start()
    try:
        yield eng
    finally:
        eng.stop()


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / 'inventory'
    path.write_text('localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n')
    return str(path)


def run(engine, inventory, tmp_path, check=False, **module_vars):
    result_file = str(tmp_path / 'result.json')
    extra = {'dc_path': engine.daemon_json, 'dc_docker_host': engine.docker_host, 'dc_pid_file': engine.pid_file,
             'result_file': result_file}
    extra.update(module_vars)
    res = run_playbook(PLAYBOOK, inventory=inventory, extra_vars=extra, check=check, diff=True)
    assert res.recap, str(res)
    with open(result_file) as f:
        return res, json.load(f)


def file_bytes(engine):
    with open(engine.daemon_json, 'rb') as f:
        return f.read()


def four_steps(engine, inventory, tmp_path, **module_vars):
    """check -> run -> check -> run; returns the results of the real runs."""
    before, pid = file_bytes(engine), engine.pid
    res, first_check = run(engine, inventory, tmp_path, check=True, **module_vars)
    assert res.rc == 0 and res.changed('localhost') == 1, str(res)
    assert first_check['changed'] and first_check['applied'] == 'skipped'
    assert file_bytes(engine) == before and engine.pid == pid  # nothing written, no restart
    res, first = run(engine, inventory, tmp_path, **module_vars)
    assert res.rc == 0 and res.changed('localhost') == 1, str(res)
    res, second_check = run(engine, inventory, tmp_path, check=True, **module_vars)
    assert res.rc == 0 and res.changed('localhost') == 0, str(res)
    res, second = run(engine, inventory, tmp_path, **module_vars)
    assert res.rc == 0 and res.changed('localhost') == 0, str(res)
    assert second['applied'] == 'none'
    return first, second


def test_merge_keeps_unrelated_keys_and_reloads(engine, inventory, tmp_path):
    pid = engine.pid
    first, dummy = four_steps(engine, inventory, tmp_path, dc_merge={
        'insecure-registries': ['new.example:5000', '10.99.0.0/16'],
        'registry-mirrors': ['https://mirror.example']})
    assert first['applied'] == 'reloaded' and not first['restarted']
    assert engine.pid == pid
    text = file_bytes(engine).decode()
    config = json.loads(text)
    assert list(config) == ['runtimes', 'log-driver', 'insecure-registries', 'registry-mirrors']
    assert config['runtimes'] == START['runtimes'] and config['log-driver'] == 'json-file'
    expected_unrelated = json.dumps({'runtimes': START['runtimes']}, indent=2)[1:-2]
    assert text.startswith('{' + expected_unrelated + ',\n  "log-driver": "json-file",\n')
    assert text.endswith(']\n}\n')
    assert config['insecure-registries'] == ['old.example:5000', 'new.example:5000', '10.99.0.0/16']
    assert engine.insecure_registries() == ['10.99.0.0/16', 'new.example:5000', 'old.example:5000']
    assert engine.info()['RegistryConfig']['Mirrors'] == ['https://mirror.example/']


def test_remove_to_empty_writes_list_and_engine_drops_entries(engine, inventory, tmp_path):
    pid = engine.pid
    current = json.loads(file_bytes(engine))['insecure-registries']
    four_steps(engine, inventory, tmp_path, dc_remove={'insecure-registries': current},
               dc_settings={'registry-mirrors': []})
    config = json.loads(file_bytes(engine))
    assert config['insecure-registries'] == [] and config['registry-mirrors'] == []
    assert engine.insecure_registries() == []
    assert engine.info()['RegistryConfig']['Mirrors'] in ([], None)
    assert engine.pid == pid


@pytest.mark.parametrize('content, message', [
    (b'{"debug": true,\n', 'is not valid JSON: Expecting'),
    (b'["debug"]\n', 'does not hold a JSON object but a list'),
])
def test_bad_file_fails_naming_path_and_stays(engine, inventory, tmp_path, content, message):
    saved = file_bytes(engine)
    try:
        with open(engine.daemon_json, 'wb') as f:
            f.write(content)
        res, result = run(engine, inventory, tmp_path, expect_failure=True, dc_settings={'debug': True})
        assert result['failed'] and engine.daemon_json in result['msg'] and message in result['msg'], result
        assert file_bytes(engine) == content
    finally:
        with open(engine.daemon_json, 'wb') as f:
            f.write(saved)


def test_bad_entry_refused_nothing_written(engine, inventory, tmp_path):
    before = file_bytes(engine)
    res, result = run(engine, inventory, tmp_path, expect_failure=True,
                      dc_merge={'registry-mirrors': ['mirror.example']})
    assert result['failed'] and "registry-mirrors entry 'mirror.example' is not an http(s):// URL" in result['msg']
    assert file_bytes(engine) == before


def test_reload_only_warns_for_log_driver(engine, inventory, tmp_path):
    pid = engine.pid
    first, dummy = four_steps(engine, inventory, tmp_path, dc_settings={'log-driver': 'local'}, dc_apply='reload',
                              dc_backup=True)
    assert first['applied'] == 'reloaded' and not first['restarted'] and engine.pid == pid
    assert any('log-driver' in w and 'next restart' in w for w in first.get('warnings', [])), first
    assert engine.info()['LoggingDriver'] == 'json-file'  # not reloadable: still the old one
    with open(first['backup_file'], 'rb') as f:
        assert json.loads(f.read())['log-driver'] == 'json-file'


def test_auto_restarts_for_log_driver(engine, inventory, tmp_path):
    pid = engine.pid
    first, dummy = four_steps(engine, inventory, tmp_path, dc_settings={'log-driver': 'none'},
                              dc_restart_command=[engine.restart_script])
    assert first['applied'] == 'restarted' and first['restarted'] and 'log-driver' in first['restart_reason']
    assert engine.pid != pid and engine.answers()
    assert engine.info()['LoggingDriver'] == 'none'


def test_restart_without_a_way_fails_clearly(engine, inventory, tmp_path):
    res, result = run(engine, inventory, tmp_path, expect_failure=True, dc_settings={'log-driver': 'json-file'})
    assert result['failed'] and 'give restart_command' in result['msg']


def test_key_also_on_command_line_fails(tmp_path_factory, inventory, tmp_path):
    eng = Engine(str(tmp_path_factory.mktemp('dockerd-flags')), ['--registry-mirror', 'https://flag.example'])
    eng.start()
    try:
        before = file_bytes(eng)
        res, result = run(eng, inventory, tmp_path, expect_failure=True,
                          dc_merge={'registry-mirrors': ['https://mirror.example']})
        assert result['failed'] and 'registry-mirrors also given as dockerd command-line flags' in result['msg']
        assert 'command line of dockerd pid %d' % eng.pid in result['msg']
        assert file_bytes(eng) == before
        res, result = run(eng, inventory, tmp_path, dc_settings={'debug': True})  # other keys are fine
        assert res.rc == 0 and result['changed'] and eng.info()['Debug'] is True
    finally:
        eng.stop()


def test_missing_file_is_created_0644_with_apply_none(engine, inventory, tmp_path):
    path = str(tmp_path / 'etc' / 'docker' / 'daemon.json')
    first, second = four_steps_on(path, engine, inventory, tmp_path)
    assert first['applied'] == 'none' and second['applied'] == 'none'
    with open(path) as f:
        assert f.read() == '{\n  "insecure-registries": [\n    "reg.example:5000"\n  ]\n}\n'
    assert (os.stat(path).st_mode & 0o777) == 0o644


def four_steps_on(path, engine, inventory, tmp_path):
    module_vars = {'dc_path': path, 'dc_apply': 'none', 'dc_merge': {'insecure-registries': ['reg.example:5000']}}
    res, result = run(engine, inventory, tmp_path, check=True, **module_vars)
    assert res.changed('localhost') == 1 and not os.path.exists(path), str(res)
    results = []
    for check, changed in ((False, 1), (True, 0), (False, 0)):
        res, result = run(engine, inventory, tmp_path, check=check, **module_vars)
        assert res.rc == 0 and res.changed('localhost') == changed, str(res)
        if not check:
            results.append(result)
    return results
