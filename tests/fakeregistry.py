"""A tiny stand-in for a registry's /v2/ on 127.0.0.1: TLS or plain HTTP, basic auth, a chosen Date skew."""

from __future__ import annotations

import base64
import email.utils
import http.server
import socket
import ssl
import tempfile
import threading
import time


class FakeRegistry:
    """``with FakeRegistry(pair=server_pair, users={'admin': 'pw'}) as reg: reg.port``

    ``client_ca``: require a client certificate signed by that CA (mutual TLS; without one the handshake fails).
    """

    def __init__(self, pair=None, users=None, skew=0, api_header=True, status=None, client_ca=None):
        self.pair = pair
        self.client_ca = client_ca
        self.users = users or {}
        self.skew = skew
        self.api_header = api_header
        self.status = status
        self.requests = []
        self.server = None
        self.thread = None

    def __enter__(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def date_time_string(self, timestamp=None):
                return email.utils.formatdate((timestamp or time.time()) + owner.skew, usegmt=True)

            def do_GET(self):
                owner.requests.append({'path': self.path, 'authorization': self.headers.get('Authorization')})
                status = owner.status or self._auth_status()
                self.send_response(status)
                if owner.api_header:
                    self.send_header('Docker-Distribution-Api-Version', 'registry/2.0')
                if status == 401:
                    self.send_header('WWW-Authenticate', 'Basic realm="basic-realm"')
                body = b'{}' if status == 200 else b'{"errors":[{"code":"UNAUTHORIZED"}]}'
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _auth_status(self):
                if not owner.users:
                    return 200
                header = self.headers.get('Authorization') or ''
                if header.startswith('Basic '):
                    user, dummy, password = base64.b64decode(header[6:]).decode().partition(':')
                    if owner.users.get(user) == password:
                        return 200
                return 401

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        if self.pair is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            with tempfile.TemporaryDirectory() as tmp:
                cert, key = self.pair.write(tmp, 'server')
                ctx.load_cert_chain(cert, key)
            if self.client_ca is not None:
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(cadata=self.client_ca.pem)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self):
        return self.server.server_address[1]

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    """A port on 127.0.0.1 where nothing listens (bound, then closed)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
