# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nginx as a service on a fake /proc, /etc and command runner (the real one: test_access.py on the bed)."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._frontend.service import NginxService, systemd_booted


class Host(object):
    """A fake host: processes in <tmp>/proc, the pid file, rc links; commands recorded and answered."""

    def __init__(self, tmp_path):
        self.root = tmp_path
        self.proc = tmp_path / 'proc'
        self.proc.mkdir()
        self.pid_file = tmp_path / 'nginx.pid'
        self.commands = []
        self.answers = {}
        self.on_reload = None

    def process(self, pid, ppid, cmdline):
        d = self.proc / str(pid)
        d.mkdir()
        (d / 'stat').write_text('%d (nginx) S %d 1 1 0 -1' % (pid, ppid))
        (d / 'cmdline').write_bytes(cmdline.encode() + b'\0')

    def master(self, pid=100, workers=(101, 102)):
        self.pid_file.write_text('%d\n' % pid)
        self.process(pid, 1, 'nginx: master process /usr/sbin/nginx')
        for worker in workers:
            self.process(worker, pid, 'nginx: worker process')

    def run_command(self, argv):
        self.commands.append(argv)
        if 'reload' in argv and self.on_reload:
            self.on_reload()
        return next((self.answers[word] for word in argv if word in self.answers), (0, '', ''))

    def service(self, systemd=False, binary='/usr/sbin/nginx'):
        return NginxService(self.run_command, lambda name, opt_dirs=None: binary, systemd=systemd,
                            pid_file=str(self.pid_file), proc=str(self.proc), root=str(self.root), reload_timeout=0.5)


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


def test_running_means_the_pid_file_names_an_nginx_master(host):
    assert not host.service().running()
    host.pid_file.write_text('4242\n')
    assert not host.service().running()  # a stale pid file
    host.master()
    assert host.service().master_pid() == 100 and host.service().workers(100) == {101, 102}


def test_a_reload_counts_once_new_workers_serve(host):
    host.master()

    def new_workers():
        host.process(103, 100, 'nginx: worker process')
        (host.proc / '101' / 'cmdline').write_bytes(b'nginx: worker process is shutting down\0')

    host.on_reload = new_workers
    host.service().reload()
    assert host.commands == [[str(host.root / 'etc/init.d/nginx'), 'reload']]


def test_a_reload_nginx_did_not_take_fails(host):
    host.master()
    with pytest.raises(BerthError, match='nginx did not take the new configuration'):
        host.service().reload()


def test_systemd_or_init_script(host):
    host.master()
    host.on_reload = lambda: host.process(105, 100, 'nginx: worker process')
    host.service(systemd=True).reload()
    host.service(systemd=True).enable()
    assert host.commands == [['systemctl', 'reload', 'nginx'], ['systemctl', 'enable', '--quiet', 'nginx']]
    host.commands = []
    host.service().enable()
    assert host.commands == [['update-rc.d', 'nginx', 'defaults'], ['update-rc.d', 'nginx', 'enable']]
    assert not host.service().enabled()
    (host.root / 'etc' / 'rc2.d').mkdir(parents=True)
    (host.root / 'etc' / 'rc2.d' / 'S01nginx').symlink_to('../init.d/nginx')
    assert host.service().enabled()
    assert not systemd_booted(str(host.root))


def test_a_failing_command_names_it(host):
    host.answers['start'] = (1, '', 'Job for nginx.service failed')
    with pytest.raises(BerthError, match=r'start of nginx failed \(systemctl start nginx, rc=1\): Job for nginx'):
        host.service(systemd=True).start()


def test_nginx_t(host):
    host.answers['-q'] = (1, '', 'nginx: [emerg] invalid number of arguments\n')
    assert host.service().test() == (False, 'nginx: [emerg] invalid number of arguments')
    assert host.commands == [['/usr/sbin/nginx', '-t', '-q']]
    assert host.service(binary=None).binary is None
