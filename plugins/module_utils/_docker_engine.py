# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Docker engine API client, with python3's stdlib only.

Client hosts need no Docker SDK: the engine API is plain HTTP over its unix socket (or plain
tcp://). Finding and signalling the dockerd process is _dockerd.py's concern.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import http.client
import json
import re
import socket

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock'
_TCP = re.compile(r'^tcp://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})/?$')


class EngineError(BerthError):
    """The engine cannot be reached, or answered with an error."""


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

    def __init__(self, docker_host=DEFAULT_DOCKER_HOST, timeout=30, option='docker_host'):
        self.docker_host = docker_host
        self.timeout = timeout
        tcp = _TCP.match(docker_host) if isinstance(docker_host, str) else None
        if isinstance(docker_host, str) and docker_host.startswith('unix:///') and '\x00' not in docker_host:
            self._connect = lambda: _UnixHTTPConnection(socket_path(docker_host), timeout)
        elif tcp and 0 < int(tcp.group(2)) < 65536:
            hostport = docker_host[len('tcp://'):].rstrip('/')
            self._connect = lambda: http.client.HTTPConnection(hostport, timeout=timeout)
        else:
            raise EngineError('%s: %r is not supported: use unix:///path/to/docker.sock or tcp://host:port (plain '
                              'HTTP; this stdlib client speaks neither ssh:// nor TLS)' % (option, docker_host))

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

    def answers(self):
        try:
            status, dummy = self.request('GET', '/_ping')
        except EngineError:
            return False
        return status == 200

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
