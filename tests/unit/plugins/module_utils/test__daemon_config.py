"""The docker_daemon_config driver run as the module runs (AnsibleModule + run_module), apply=none.

Reload, restart and the confirmation through /info run against a real dockerd in the integration tests.
"""

import json

from ansible_collections.berth.registry.plugins.module_utils._daemon_config import DockerDaemonConfig, argument_spec

PROXY_PASSWORD = 'Mk-4b8e1f-PROXY-0c3d'
PROXIES = {'http-proxy': 'http://build:%s@proxy.example:3128' % PROXY_PASSWORD}


def run(run_driver, tmp_path, check_mode=False, **params):
    args = dict(path=str(tmp_path / 'daemon.json'), docker_host='unix://%s' % (tmp_path / 'none.sock'),
                pid_file=str(tmp_path / 'none.pid'), apply='none', validate=False)
    args.update(params)
    return run_driver(argument_spec(), DockerDaemonConfig, args, check_mode)


def test_result_and_diff_show_only_the_keys_given(run_driver, tmp_path):
    (tmp_path / 'daemon.json').write_text(json.dumps({'proxies': PROXIES, 'log-driver': 'local'}))
    merge = {'insecure-registries': ['reg.example:5000']}
    result, out = run(run_driver, tmp_path, check_mode=True, merge=merge)
    assert result['differences'] == [{'field': 'insecure-registries', 'before': None, 'after': ['reg.example:5000']}]
    assert result['diff'] == {'before': {}, 'after': {'insecure-registries': ['reg.example:5000']},
                              'before_header': str(tmp_path / 'daemon.json'),
                              'after_header': str(tmp_path / 'daemon.json')}
    assert result['managed_config'] == {'insecure-registries': ['reg.example:5000']} and result['applied'] == 'skipped'
    assert PROXY_PASSWORD not in out and 'log-driver' not in out
    result, out = run(run_driver, tmp_path, merge=merge, backup=True)
    assert result['changed'] and result['applied'] == 'none' and PROXY_PASSWORD not in out
    assert json.loads(open(result['backup_file']).read()) == {'proxies': PROXIES, 'log-driver': 'local'}
    assert list(json.loads((tmp_path / 'daemon.json').read_text())) == ['proxies', 'log-driver', 'insecure-registries']
    result, out = run(run_driver, tmp_path, merge=merge)
    assert not result['changed'] and result['differences'] == []


def test_a_proxy_password_given_in_settings_is_masked_everywhere(run_driver, tmp_path):
    result, out = run(run_driver, tmp_path, settings={'proxies': PROXIES})
    assert result['changed'] and PROXY_PASSWORD not in out
    assert result['managed_config'] == {'proxies': {'http-proxy': 'http://***@proxy.example:3128'}}
    assert json.loads((tmp_path / 'daemon.json').read_text()) == {'proxies': PROXIES}


def test_a_failure_keeps_the_differences_and_names_the_file(run_driver, tmp_path):
    (tmp_path / 'daemon.json').write_text('{"debug": NaN}')
    result, dummy = run(run_driver, tmp_path, settings={'debug': True})
    assert result['failed'] and result['msg'].startswith('%s is not valid JSON: NaN' % (tmp_path / 'daemon.json'))
    assert result['differences'] == [] and (tmp_path / 'daemon.json').read_text() == '{"debug": NaN}'
