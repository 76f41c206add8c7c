"""A Debian service under systemd or its init script, through an injected run_command."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._lb.errors import ServiceError
from ansible_collections.berth.registry.plugins.module_utils._lb.service import Service


class Runner(object):
    def __init__(self, rcs=None):
        self.rcs = rcs or {}
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        return self.rcs.get(argv[-1] if argv[0] != 'systemctl' else argv[1], 0), 'out', 'err'


def test_systemd():
    run = Runner({'is-active': 3, 'is-enabled': 1})
    service = Service('haproxy', run, systemd=True)
    assert not service.running() and not service.enabled()
    service.act('reload')
    assert run.calls == [['systemctl', 'is-active', 'haproxy'], ['systemctl', 'is-enabled', 'haproxy'],
                         ['systemctl', 'reload', 'haproxy']]


def test_init_script(tmp_path):
    (tmp_path / 'haproxy').write_text('#!/bin/sh\n')
    run = Runner({'status': 0})
    service = Service('haproxy', run, systemd=False, init_dir=str(tmp_path))
    assert service.running() and service.enabled()
    service.act('start')
    assert run.calls == [[str(tmp_path / 'haproxy'), 'status'], [str(tmp_path / 'haproxy'), 'start']]


def test_no_init_script_is_not_running_and_cannot_start(tmp_path):
    service = Service('haproxy', Runner(), systemd=False, init_dir=str(tmp_path))
    assert not service.running()
    with pytest.raises(ServiceError, match='no init script .*/haproxy'):
        service.act('start')


def test_failure_names_the_action_and_output():
    service = Service('redis-server', Runner({'restart': 1}), systemd=True)
    with pytest.raises(ServiceError, match=r'restart redis-server failed \(rc=1\): out\nerr'):
        service.act('restart')
