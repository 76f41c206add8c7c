"""run_with_packages: install what a module reports missing, run it again; check mode only reports."""

from __future__ import annotations

from types import SimpleNamespace

from ansible_collections.berth.registry.plugins.plugin_utils._packages import run_with_packages


class FakeAction(object):
    def __init__(self, results, check_mode=False, diff=True):
        self._play_context = SimpleNamespace(check_mode=check_mode, diff=diff)
        self.results = list(results)
        self.calls = []

    def _execute_module(self, module_name, module_args, task_vars):
        self.calls.append((module_name, module_args))
        return self.results.pop(0)


MISSING = {'failed': True, 'msg': 'haproxy not installed', 'missing_packages': ['haproxy']}
DONE = {'changed': True, 'differences': [{'field': 'haproxy', 'before': 'stopped', 'after': 'running'}],
        'diff': {'before': {'haproxy': 'stopped'}, 'after': {'haproxy': 'running'}}}


def test_converged_host_is_one_call():
    action = FakeAction([{'changed': False, 'differences': []}])
    assert run_with_packages(action, 'berth.registry.registry_lb', {'port': 443}, {}) == {'changed': False, 'differences': []}
    assert len(action.calls) == 1


def test_missing_package_installed_then_module_again():
    action = FakeAction([MISSING, {'changed': True}, DONE])
    result = run_with_packages(action, 'berth.registry.registry_lb', {'port': 443}, {})
    assert [c[0] for c in action.calls] == ['berth.registry.registry_lb', 'ansible.builtin.apt', 'berth.registry.registry_lb']
    assert action.calls[1][1] == {'name': ['haproxy'], 'state': 'present', 'update_cache': True, 'cache_valid_time': 3600}
    assert result['packages_installed'] == ['haproxy'] and result['changed']
    assert result['differences'][0] == {'field': 'package haproxy', 'before': 'absent', 'after': 'present'}
    assert result['diff'][0] == {'before': {'package haproxy': 'absent'}, 'after': {'package haproxy': 'present'}}
    assert result['diff'][1] == DONE['diff']


def test_check_mode_reports_the_package():
    planned = {'changed': True, 'missing_packages': ['haproxy'], 'differences': DONE['differences']}
    action = FakeAction([planned], check_mode=True)
    result = run_with_packages(action, 'm', {}, {})
    assert len(action.calls) == 1 and [d['field'] for d in result['differences']] == ['package haproxy', 'haproxy']


def test_install_false_or_apt_failure_fails():
    action = FakeAction([MISSING])
    assert run_with_packages(action, 'm', {}, {}, install=False) == MISSING
    action = FakeAction([MISSING, {'failed': True, 'msg': 'No package matching haproxy'}])
    result = run_with_packages(action, 'm', {}, {})
    assert result['failed'] and 'installing haproxy with apt failed: No package matching haproxy' in result['msg']
