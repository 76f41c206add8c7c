"""docker_daemon_config against a throwaway dockerd (see _throwaway_dockerd.py).

Four steps each (check -> run -> check -> run), verified from outside: file bytes,
`docker info` of that engine, the dockerd PID.
"""

from __future__ import annotations

import json
import os

import pytest

from bed.playbook import run_playbook

import _bad_inputs
from _bad_inputs import DIR, Case, Link
from _secrets import assert_no_leaks, marker
from _throwaway_dockerd import Engine

PLAYBOOK = os.path.join(os.path.dirname(__file__), 'playbooks', 'docker_daemon_config', 'run.yml')
BAD_PLAYBOOK = os.path.join(os.path.dirname(__file__), 'playbooks', 'docker_daemon_config', 'bad_inputs.yml')
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


def _localhost(tmp_path):
    path = tmp_path / 'inventory'
    path.write_text('localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n')
    return str(path)


@pytest.fixture
def inventory(tmp_path):
    return _localhost(tmp_path)


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
    assert result['failed'] and "registry-mirrors entry: 'mirror.example' is not an http(s):// URL" in result['msg']
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


MIRROR_PASSWORD = 'Mk-5b2e7a-PROXYPW-91c4'
DEEP = b'{"labels": ' + b'[' * 100000 + b']' * 100000 + b'}'

BAD_CASES = [
    Case('file-is-a-list', {'settings': {'debug': True}}, ['daemon.json', 'JSON object', 'list'],
         {'daemon.json': b'["debug"]\n'}),
    Case('file-is-a-string', {'settings': {'debug': True}}, ['daemon.json', 'JSON object', 'str'],
         {'daemon.json': b'"debug"\n'}),
    Case('file-is-a-number', {'settings': {'debug': True}}, ['daemon.json', 'JSON object', 'int'],
         {'daemon.json': b'42\n'}),
    Case('file-not-json', {'settings': {'debug': True}}, ['daemon.json', 'not valid JSON'],
         {'daemon.json': b'{"debug": true,\n'}),
    Case('file-nan', {'settings': {'debug': True}}, ['daemon.json', 'NaN'],
         {'daemon.json': b'{"max-concurrent-downloads": NaN}\n'}),
    Case('file-infinity', {'settings': {'debug': True}}, ['daemon.json', 'Infinity'],
         {'daemon.json': b'{"max-concurrent-downloads": -Infinity}\n'}),
    Case('file-deeply-nested', {'settings': {'debug': True}}, ['daemon.json', 'nested'],
         {'daemon.json': DEEP}),
    Case('file-huge', {'settings': {'debug': True}}, ['daemon.json', 'bytes'],
         {'daemon.json': b'{"labels": ["' + b'x' * (2 * 1024 * 1024) + b'"]}\n'}),
    Case('file-not-utf8', {'settings': {'debug': True}}, ['daemon.json', 'UTF-8'],
         {'daemon.json': b'{"labels": ["caf\xe9"]}\n'}),
    Case('file-is-a-directory', {'settings': {'debug': True}}, ['daemon.json', 'directory'],
         {'daemon.json': DIR}),
    Case('symlink-to-a-list', {'settings': {'debug': True}}, ['daemon.json', 'list'],
         {'real.json': b'[1]\n', 'daemon.json': Link('real.json')}),
    Case('key-holds-a-string', {'merge': {'insecure-registries': ['b.example:5000']}},
         ['insecure-registries', "'a.example:5000'", 'list'],
         {'daemon.json': b'{"insecure-registries": "a.example:5000"}\n'}),
    Case('merge-value-not-a-list', {'merge': {'insecure-registries': 'a.example:5000'}},
         ['merge', 'insecure-registries', 'list']),
    Case('entry-with-scheme', {'merge': {'insecure-registries': ['http://a.example:5000']}},
         ['insecure-registries', "'http://a.example:5000'", 'host:port', 'no scheme']),
    Case('entry-with-newline', {'merge': {'insecure-registries': ['a.example\nevil.example:5000']}},
         ['insecure-registries', 'control character']),
    Case('entry-with-nul', {'merge': {'insecure-registries': ['a.example\x00:5000']}},
         ['insecure-registries', 'control character']),
    Case('entry-dot-dot', {'merge': {'insecure-registries': ['..']}}, ['insecure-registries', "'..'"]),
    Case('entry-with-zone', {'merge': {'insecure-registries': ['[fe80::1%eth0]:5000']}},
         ['insecure-registries', 'fe80::1%eth0', 'zone']),
    Case('entry-too-long', {'merge': {'insecure-registries': ['a' * 300 + '.example:5000']}},
         ['insecure-registries', 'DNS name']),
    Case('entry-port-out-of-range', {'merge': {'insecure-registries': ['a.example:70000']}},
         ['insecure-registries', "'a.example:70000'"]),
    Case('mirror-with-credentials', {'merge': {'registry-mirrors': ['https://alice:%s@mirror.example' % MIRROR_PASSWORD]}},
         ['registry-mirrors', 'mirror.example', 'credentials'], forbid=[MIRROR_PASSWORD, 'alice:']),
    Case('mirror-not-a-url', {'merge': {'registry-mirrors': ['mirror.example']}},
         ['registry-mirrors', "'mirror.example'", 'http(s)://']),
    Case('mirror-with-path', {'merge': {'registry-mirrors': ['https://mirror.example/v2/']}},
         ['registry-mirrors', "'https://mirror.example/v2/'", 'path']),
    Case('key-in-settings-and-merge', {'merge': {'insecure-registries': ['a.example']},
                                       'settings': {'insecure-registries': []}},
         ['insecure-registries', 'settings', 'merge']),
    Case('entry-merged-and-removed', {'merge': {'insecure-registries': ['a.example']},
                                      'remove': {'insecure-registries': ['a.example']}},
         ['insecure-registries', 'a.example', 'both']),
    Case('settings-nan', {'settings': {'max-concurrent-downloads': float('nan')}},
         ['settings', 'max-concurrent-downloads', 'NaN']),
    Case('docker-host-ssh', {'settings': {'debug': True}, 'docker_host': 'ssh://builder@h.example'},
         ['docker_host', "'ssh://builder@h.example'", 'unix://']),
    Case('docker-host-no-scheme', {'settings': {'debug': True}, 'docker_host': 'h.example:2375'},
         ['docker_host', "'h.example:2375'", 'unix://']),
    Case('apply-not-a-choice', {'settings': {'debug': True}, 'apply': 'restart-now'},
         ['apply', 'restart-now', 'auto, reload, restart, none']),
]


def test_bad_inputs_fail_clearly_and_change_nothing(tmp_path):
    dirs = _bad_inputs.build(str(tmp_path), BAD_CASES)
    before = {name: _bad_inputs.snapshot(path) for name, path in dirs.items()}
    cases = [dict(case.args, name=case.name) for case in BAD_CASES]
    res = run_playbook(BAD_PLAYBOOK, inventory=_localhost(tmp_path), extra_vars={'workdir': str(tmp_path), 'cases': cases})
    assert res.rc == 0, str(res)
    with open(tmp_path / 'results.json') as f:
        results = json.load(f)
    found = _bad_inputs.problems(BAD_CASES, results, dirs, before)
    assert not found, '\n'.join(found)


def test_no_secret_in_any_output(tmp_path):
    """-vvv --diff, check and real, first run and rerun: proxy passwords in the file or given never show."""
    in_file, given = marker('proxy-password'), marker('proxy-password')
    path = tmp_path / 'daemon.json'
    path.write_text(json.dumps({'proxies': {'http-proxy': 'http://build:%s@proxy.example:3128' % in_file},
                                'log-driver': 'json-file'}, indent=2) + '\n')
    base = {'dc_path': str(path), 'dc_docker_host': 'unix://%s' % (tmp_path / 'none.sock'),
            'dc_pid_file': str(tmp_path / 'none.pid'), 'dc_apply': 'none', 'result_file': str(tmp_path / 'r.json')}
    for module_vars in ({'dc_merge': {'insecure-registries': ['reg.example:5000'],
                                      'registry-mirrors': ['https://mirror.example']}},
                        {'dc_settings': {'proxies': {'https-proxy': 'http://ci:%s@proxy.example:3128' % given}}}):
        for check, changed in ((True, 1), (False, 1), (True, 0), (False, 0)):
            res = run_playbook(PLAYBOOK, inventory=_localhost(tmp_path), extra_vars=dict(base, **module_vars),
                               check=check, diff=True, args=('-vvv',))
            assert res.rc == 0 and res.changed('localhost') == changed, str(res)
            assert_no_leaks(res, [in_file, given], 'docker_daemon_config')
    assert given in path.read_text()


def test_module_defaults_group_docker_sets_docker_host_without_breaking_other_modules(tmp_path):
    res = run_playbook(os.path.join(os.path.dirname(PLAYBOOK), 'module_defaults.yml'), inventory=_localhost(tmp_path),
                       extra_vars={'workdir': str(tmp_path)})
    assert res.rc == 0, str(res)
    assert not os.path.exists(tmp_path / 'ca.key') and os.path.exists(tmp_path / 'daemon.json')
