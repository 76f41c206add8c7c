# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Talk to the Docker engine API and find the dockerd process, with python3's stdlib only.

Client hosts need no Docker SDK: the engine API is plain HTTP over its unix socket.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time

DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock'
DEFAULT_PID_FILE = '/var/run/docker.pid'


def dockerd_argument_spec():
    """Options that find the local dockerd (documented in doc_fragments/_dockerd.py)."""
    return dict(
        docker_host=dict(type='str', default=DEFAULT_DOCKER_HOST),
        pid_file=dict(type='path', default=DEFAULT_PID_FILE),
    )


class EngineError(Exception):
    pass


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        http.client.HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self._socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def socket_path(docker_host):
    """The filesystem path of a unix:// docker_host, else None."""
    if docker_host.startswith('unix://'):
        return docker_host[len('unix://'):]
    return None


class EngineClient(object):
    """Minimal engine API client: unix:// sockets, or plain tcp:// (no TLS)."""

    def __init__(self, docker_host=DEFAULT_DOCKER_HOST, timeout=30):
        self.docker_host = docker_host
        self.timeout = timeout
        if docker_host.startswith('unix://'):
            self._connect = lambda: _UnixHTTPConnection(socket_path(docker_host), timeout)
        elif docker_host.startswith('tcp://'):
            hostport = docker_host[len('tcp://'):].rstrip('/')
            self._connect = lambda: http.client.HTTPConnection(hostport, timeout=timeout)
        else:
            raise EngineError('docker_host %r is not supported: use unix:///path/to/docker.sock or tcp://host:port'
                              % docker_host)

    def request(self, method, path, body=None):
        """Return (status, decoded JSON or text). Raises EngineError when the engine cannot be reached."""
        conn = self._connect()
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise EngineError('cannot reach the Docker engine at %s: %s' % (self.docker_host, e))
        finally:
            conn.close()
        text = raw.decode('utf-8', 'replace')
        try:
            payload = json.loads(text) if text.strip() else None
        except ValueError:
            payload = text
        return resp.status, payload

    def get_json(self, path):
        status, payload = self.request('GET', path)
        if status != 200:
            raise EngineError('GET %s on %s answered %d: %s' % (path, self.docker_host, status, error_message(payload)))
        return payload

    def info(self):
        return self.get_json('/info')

    def version(self):
        return self.get_json('/version')

    def answers(self):
        try:
            status, dummy = self.request('GET', '/_ping')
        except EngineError:
            return False
        return status == 200

    def wait_until_answers(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answers():
                return True
            time.sleep(0.2)
        return False

    def auth(self, serveraddress, username='', password=''):
        """POST /auth: the engine logs in to the registry itself (its own TLS trust).

        Returns (ok, message): ok is True on 200, message is the engine's status or error text.
        """
        body = {'username': username, 'password': password, 'serveraddress': serveraddress}
        status, payload = self.request('POST', '/auth', body)
        if status == 200:
            return True, (payload or {}).get('Status', 'Login Succeeded') if isinstance(payload, dict) else 'OK'
        return False, error_message(payload)


def error_message(payload):
    if isinstance(payload, dict):
        return str(payload.get('message', payload))
    return str(payload)


def _is_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            raw = f.read()
    except OSError:
        return None
    return [a.decode('utf-8', 'replace') for a in raw.split(b'\0') if a]


def _is_dockerd(argv):
    return bool(argv) and os.path.basename(argv[0]) == 'dockerd'


def _hosts_of(argv):
    hosts = []
    for i, arg in enumerate(argv):
        if arg in ('-H', '--host') and i + 1 < len(argv):
            hosts.append(argv[i + 1])
        elif arg.startswith('--host='):
            hosts.append(arg[len('--host='):])
        elif arg.startswith('-H') and len(arg) > 2:
            hosts.append(arg[2:].lstrip('='))
    return hosts


def find_daemon_pid(pid_file=DEFAULT_PID_FILE, docker_host=DEFAULT_DOCKER_HOST):
    """PID of the dockerd serving docker_host: from pid_file, else by scanning /proc. None if not running."""
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
        if _is_alive(pid) and _is_dockerd(read_cmdline(pid)):
            return pid
    except (OSError, ValueError):
        pass
    path = socket_path(docker_host)
    default = docker_host == DEFAULT_DOCKER_HOST
    own_pid_ns = _pid_namespace('self')
    for entry in os.listdir('/proc'):
        # dockerds of containers (e.g. docker-in-docker nodes) live in other pid namespaces
        if not entry.isdigit() or _pid_namespace(entry) != own_pid_ns:
            continue
        argv = read_cmdline(int(entry))
        if not _is_dockerd(argv):
            continue
        hosts = _hosts_of(argv)
        if docker_host in hosts or (path and path in hosts):
            return int(entry)
        if default and (not hosts or any(h.startswith('fd://') for h in hosts)):
            return int(entry)
    return None


def _pid_namespace(pid):
    try:
        return os.readlink('/proc/%s/ns/pid' % pid)
    except OSError:
        return None


def systemd_docker_unit(run_command, systemctl):
    """State of docker.service when systemd runs this host, else None.

    Returns dict(main_pid, active, exec_start argv list).
    """
    if not systemctl or not os.path.isdir('/run/systemd/system'):
        return None
    rc, out, dummy = run_command([systemctl, 'show', 'docker', '-p', 'LoadState', '-p', 'ActiveState',
                                  '-p', 'MainPID', '-p', 'ExecStart'])
    if rc != 0:
        return None
    props = {}
    for line in out.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            props[key] = value
    if props.get('LoadState') != 'loaded':
        return None
    return {
        'main_pid': int(props.get('MainPID') or 0),
        'active': props.get('ActiveState') == 'active',
        'exec_start': parse_exec_start(props.get('ExecStart', '')),
    }


def parse_exec_start(value):
    """argv of `systemctl show -p ExecStart` output: '{ path=... ; argv[]=/usr/bin/dockerd -H fd:// ; ... }'."""
    marker = 'argv[]='
    start = value.find(marker)
    if start < 0:
        return []
    rest = value[start + len(marker):]
    end = rest.find(' ;')
    return rest[:end if end >= 0 else len(rest)].split()
