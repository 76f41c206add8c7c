import json

import pytest

from ansible_collections.berth.registry.plugins.module_utils._daemon_json import (
    DaemonConfigError, DaemonJson, changed_keys, compute_config, flag_conflicts, flag_keys, format_config,
    needs_restart, validate_config,
)
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter

CURRENT = {'runtimes': {'crun': {'path': '/usr/bin/crun'}}, 'insecure-registries': ['a:5000'], 'log-driver': 'local'}
PROXY_PASSWORD = 'Mk-3f9c1e-PROXY-7d2a'


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
    assert changed_keys(CURRENT, new, ['insecure-registries']) == ['insecure-registries']


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
    with pytest.raises(DaemonConfigError, match='merge.insecure-registries must be a list'):
        compute_config(CURRENT, merge={'insecure-registries': 'x'})


@pytest.mark.parametrize('value', [float('nan'), float('inf'), {'a': [float('-inf')]}])
def test_settings_that_are_not_json_are_refused(value):
    with pytest.raises(DaemonConfigError, match='settings.max-concurrent-downloads: .* NaN or Infinity'):
        compute_config({}, settings={'max-concurrent-downloads': value})


def test_format_is_two_space_indent_with_trailing_newline_and_order_kept():
    text = format_config(CURRENT)
    assert text.endswith('}\n') and '\n  "runtimes": {\n    "crun"' in text
    assert list(json.loads(text)) == list(CURRENT)


@pytest.mark.parametrize('config, problem', [
    ({'insecure-registries': 'a:5000'}, 'must be a list of strings'),
    ({'insecure-registries': ['http://a:5000']}, 'no scheme'),
    ({'insecure-registries': ['10.0.0.0/33']}, 'not a valid CIDR'),
    ({'insecure-registries': ['a b']}, 'no spaces'),
    ({'insecure-registries': ['a:70000']}, 'out of range'),
    ({'insecure-registries': ['..']}, 'not a valid DNS name'),
    ({'insecure-registries': ['[fe80::1%eth0]:5000']}, 'zone'),
    ({'insecure-registries': ['a\n:5000']}, 'control character'),
    ({'registry-mirrors': ['mirror.example']}, 'is not an http(s):// URL'),
    ({'registry-mirrors': ['https://m.example/path']}, 'must not have a path'),
    ({'registry-mirrors': ['https://m example']}, 'no spaces'),
])
def test_validation_problems(config, problem):
    problems = validate_config(config, list(config))
    assert problems and problem in problems[0]


def test_a_mirror_with_credentials_is_refused_without_echoing_them():
    problems = validate_config({'registry-mirrors': ['https://alice:%s@m.example' % PROXY_PASSWORD]},
                               ['registry-mirrors'])
    assert problems == ["registry-mirrors entry: 'https://***@m.example' must not contain credentials "
                        "(user:password@); dockerd refuses them"]


def test_valid_entries_pass():
    config = {'insecure-registries': ['reg.example:5000', '10.0.0.0/8', '192.0.2.1', '[::1]:5000'],
              'registry-mirrors': ['https://m.example', 'http://10.0.0.1:5000/'], 'log-driver': 'local'}
    assert validate_config(config, list(config)) == []


def test_flag_keys_map_singular_flags_to_plural_keys():
    argv = ['/usr/sbin/dockerd', '-H', 'fd://', '--registry-mirror=https://m', '--insecure-registry', 'x',
            '--config-file', '/etc/docker/daemon.json', '-D', '--log-driver=local']
    assert flag_keys(argv) == {'hosts', 'registry-mirrors', 'insecure-registries', 'debug', 'log-driver'}
    assert flag_conflicts(['registry-mirrors', 'labels'], [('cmdline', argv)]) == {'registry-mirrors': 'cmdline'}


def test_needs_restart():
    assert needs_restart(['insecure-registries', 'registry-mirrors', 'debug']) == []
    assert needs_restart(['log-driver', 'debug']) == ['log-driver']


def _file(tmp_path, config):
    path = tmp_path / 'daemon.json'
    path.write_text(json.dumps(config, indent=2) + '\n')
    return str(path)


def test_plan_records_only_the_owned_keys_and_never_shows_the_others(tmp_path):
    proxies = {'http-proxy': 'http://u:%s@proxy.example:3128' % PROXY_PASSWORD}
    daemon_json = DaemonJson(_file(tmp_path, dict(CURRENT, proxies=proxies)))
    tracker = Differences()
    keys = daemon_json.plan(tracker, merge={'insecure-registries': ['b:5000']}, remove={'registry-mirrors': ['x']},
                            prefix='docker daemon.json ')
    assert keys == ['insecure-registries']
    assert tracker.as_list() == [{'field': 'docker daemon.json insecure-registries', 'before': ['a:5000'],
                                  'after': ['a:5000', 'b:5000']}]
    assert daemon_json.managed() == {'insecure-registries': ['a:5000', 'b:5000']}
    assert PROXY_PASSWORD not in json.dumps([tracker.result(True), daemon_json.managed()])


def test_managed_values_hide_url_credentials(tmp_path):
    daemon_json = DaemonJson(_file(tmp_path, {}))
    tracker = Differences()
    daemon_json.plan(tracker, settings={'proxies': {'https-proxy': 'http://u:%s@proxy.example' % PROXY_PASSWORD}})
    assert daemon_json.managed() == {'proxies': {'https-proxy': 'http://***@proxy.example'}}
    assert PROXY_PASSWORD not in json.dumps(tracker.result(True))


def test_invalid_result_names_the_file(tmp_path):
    path = _file(tmp_path, {'insecure-registries': 'a:5000'})
    with pytest.raises(DaemonConfigError, match=r'daemon.json: insecure-registries holds .*not a list'):
        DaemonJson(path).plan(Differences(), merge={'insecure-registries': ['b']})
    path = _file(tmp_path, {'registry-mirrors': ['nope']})
    with pytest.raises(DaemonConfigError, match=r'daemon.json: invalid configuration: registry-mirrors entry'):
        DaemonJson(path).plan(Differences(), merge={'registry-mirrors': ['https://m.example']})


def test_write_keeps_the_mode_and_creates_missing_files_0644(tmp_path):
    path = _file(tmp_path, CURRENT)
    (tmp_path / 'daemon.json').chmod(0o640)
    daemon_json = DaemonJson(path)
    daemon_json.plan(Differences(), merge={'registry-mirrors': ['https://m.example']})
    daemon_json.write(FileWriter(None))
    assert json.loads((tmp_path / 'daemon.json').read_text())['registry-mirrors'] == ['https://m.example']
    assert (tmp_path / 'daemon.json').stat().st_mode & 0o777 == 0o640
    new = DaemonJson(str(tmp_path / 'etc' / 'docker' / 'daemon.json'))
    new.plan(Differences(), settings={'debug': True})
    new.write(FileWriter(None))
    assert (tmp_path / 'etc' / 'docker' / 'daemon.json').stat().st_mode & 0o777 == 0o644
    assert (tmp_path / 'etc' / 'docker' / 'daemon.json').read_text() == '{\n  "debug": true\n}\n'


def test_a_symlink_is_followed_and_kept(tmp_path):
    real = tmp_path / 'real.json'
    real.write_text('{}\n')
    (tmp_path / 'daemon.json').symlink_to('real.json')
    daemon_json = DaemonJson(str(tmp_path / 'daemon.json'))
    daemon_json.plan(Differences(), settings={'debug': True})
    daemon_json.write(FileWriter(None))
    assert (tmp_path / 'daemon.json').is_symlink() and json.loads(real.read_text()) == {'debug': True}
