import json

import pytest

from ansible_collections.berth.registry.plugins.module_utils._daemon_config import (
    DaemonConfigError, changed_keys, compute_config, engine_differences, flag_conflicts, flag_keys,
    format_config, needs_restart, parse_config, validate_config,
)
from ansible_collections.berth.registry.plugins.module_utils._docker_engine import parse_exec_start

CURRENT = {'runtimes': {'crun': {'path': '/usr/bin/crun'}}, 'insecure-registries': ['a:5000'], 'log-driver': 'local'}


def test_merge_appends_new_entries_and_keeps_order():
    new = compute_config(CURRENT, merge={'insecure-registries': ['b:5000', 'a:5000', 'c:1']})
    assert new['insecure-registries'] == ['a:5000', 'b:5000', 'c:1']
    assert list(new) == list(CURRENT)
    assert CURRENT['insecure-registries'] == ['a:5000']  # input untouched


def test_merge_into_missing_key_appends_it_last():
    new = compute_config(CURRENT, merge={'registry-mirrors': ['https://m.example']})
    assert list(new)[-1] == 'registry-mirrors'


def test_remove_to_empty_writes_empty_list():
    new = compute_config(CURRENT, remove={'insecure-registries': ['a:5000']})
    assert new['insecure-registries'] == []
    assert changed_keys(CURRENT, new) == ['insecure-registries']


def test_remove_from_absent_key_changes_nothing():
    new = compute_config(CURRENT, remove={'registry-mirrors': ['https://m.example']})
    assert new == CURRENT and 'registry-mirrors' not in new


def test_settings_set_exact_values():
    new = compute_config(CURRENT, settings={'debug': True, 'insecure-registries': []})
    assert new['debug'] is True and new['insecure-registries'] == []


def test_conflicting_options_are_refused():
    with pytest.raises(DaemonConfigError, match='both in settings and in merge'):
        compute_config(CURRENT, merge={'insecure-registries': ['x']}, settings={'insecure-registries': []})
    with pytest.raises(DaemonConfigError, match='both merged and removed'):
        compute_config(CURRENT, merge={'insecure-registries': ['x']}, remove={'insecure-registries': ['x']})
    with pytest.raises(DaemonConfigError, match='not a list'):
        compute_config(CURRENT, merge={'log-driver': ['x']})


def test_format_is_two_space_indent_with_trailing_newline_and_order_kept():
    text = format_config(CURRENT)
    assert text.endswith('}\n') and '\n  "runtimes": {\n    "crun"' in text
    assert list(json.loads(text)) == list(CURRENT)


def test_parse_errors_name_the_path():
    with pytest.raises(DaemonConfigError, match=r'/x/daemon.json is not valid JSON: Expecting'):
        parse_config(b'{"a": ', '/x/daemon.json')
    with pytest.raises(DaemonConfigError, match=r'/x/daemon.json does not hold a JSON object but a list'):
        parse_config(b'[1]', '/x/daemon.json')
    assert parse_config(None, 'p') == {} and parse_config(b'  \n', 'p') == {}


@pytest.mark.parametrize('config, problem', [
    ({'insecure-registries': 'a:5000'}, 'must be a list of strings'),
    ({'insecure-registries': ['http://a:5000']}, 'must not contain a scheme'),
    ({'insecure-registries': ['10.0.0.0/33']}, 'not a valid CIDR'),
    ({'insecure-registries': ['a b']}, 'is not host[:port]'),
    ({'insecure-registries': ['a:70000']}, 'is not host[:port]'),
    ({'registry-mirrors': ['mirror.example']}, 'is not an http(s):// URL'),
    ({'registry-mirrors': ['https://m.example/path']}, 'must not have a path'),
])
def test_validation_problems(config, problem):
    problems = validate_config(config, list(config))
    assert problems and problem in problems[0]


def test_valid_entries_pass():
    config = {'insecure-registries': ['reg.example:5000', '10.0.0.0/8', '192.0.2.1', '[::1]:5000'],
              'registry-mirrors': ['https://m.example', 'http://10.0.0.1:5000/'], 'log-driver': 'local'}
    assert validate_config(config, list(config)) == []


def test_flag_keys_map_singular_flags_to_plural_keys():
    argv = ['/usr/sbin/dockerd', '-H', 'fd://', '--registry-mirror=https://m', '--insecure-registry', 'x',
            '--config-file', '/etc/docker/daemon.json', '-D', '--log-driver=local']
    assert flag_keys(argv) == {'hosts', 'registry-mirrors', 'insecure-registries', 'debug', 'log-driver'}
    assert flag_conflicts(['registry-mirrors', 'labels'], [('cmdline', argv)]) == {'registry-mirrors': 'cmdline'}


def test_parse_exec_start():
    value = ('{ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock'
             ' ; ignore_errors=no ; start_time=[n/a] }')
    assert parse_exec_start(value) == ['/usr/bin/dockerd', '-H', 'fd://', '--containerd=/run/containerd/containerd.sock']
    assert parse_exec_start('') == []


def test_needs_restart():
    assert needs_restart(['insecure-registries', 'registry-mirrors', 'debug']) == []
    assert needs_restart(['log-driver', 'debug']) == ['log-driver']


def test_engine_differences_normalise():
    info = {'RegistryConfig': {'InsecureRegistryCIDRs': ['127.0.0.0/8', '10.0.0.0/8'],
                               'IndexConfigs': {'docker.io': {'Secure': True}, 'reg:5000': {'Secure': False}},
                               'Mirrors': ['https://m.example/']}}
    config = {'insecure-registries': ['reg:5000', '10.1.2.3/8'], 'registry-mirrors': ['https://m.example']}
    assert engine_differences(config, ['insecure-registries', 'registry-mirrors'], info) == {}
    diffs = engine_differences({'insecure-registries': []}, ['insecure-registries'], info)
    assert diffs == {'insecure-registries': {'file': [], 'engine': ['10.0.0.0/8', 'reg:5000']}}
