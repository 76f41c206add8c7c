"""Fakes for the load-balancer driver: HAProxy's admin socket, a service, a clock (the container probe's)."""

from __future__ import annotations

import os
import socket
import threading

from _registry_container.test_probe import Clock  # noqa: F401  pylint: disable=unused-import

HEADER = ('# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,'
          'weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,'
          'rate_lim,rate_max,check_status,check_code,check_duration,addr\n')


def row(proxy, server, status, check_status='L7OK', code='401', addr='10.0.0.10:443'):
    values = [proxy, server] + [''] * 15 + [status] + [''] * 5 + ['7'] + [''] * 12 + [check_status, code, '3', addr]
    return ','.join(values) + '\n'


def show_stat(servers, proxy='registry'):
    """show stat text for {server: status}."""
    text = HEADER + row(proxy, 'FRONTEND', 'OPEN', '', '')
    for name, status in servers.items():
        text += row(proxy, name, status)
    return text + row(proxy, 'BACKEND', 'UP', '', '') + '\n'


class StatsSocket(object):
    """A unix socket answering every connection with ``reply()`` (settable), as HAProxy's does."""

    def __init__(self, path, servers=None):
        self.path = path
        self.servers = dict(servers or {})
        self.commands = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                return
            with conn:
                self.commands.append(conn.recv(1024).decode().strip())
                conn.sendall(show_stat(self.servers).encode())

    def close(self):
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


class FakeService(object):
    """A service that records what it was asked to do."""

    def __init__(self, name, running=True, enabled=True, fail=None):
        self.name, self.is_running, self.is_enabled, self.fail = name, running, enabled, fail
        self.actions = []

    def running(self):
        return self.is_running

    def enabled(self):
        return self.is_enabled

    def act(self, action):
        from ansible_collections.berth.registry.plugins.module_utils._lb.errors import ServiceError
        if self.fail == action:
            raise ServiceError('%s %s failed (rc=1): boom' % (action, self.name))
        self.actions.append(action)
        if action in ('start', 'restart'):
            self.is_running = True
        return ''
