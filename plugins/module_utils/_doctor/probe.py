# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The doctor's network I/O, stdlib only: resolve, connect, TLS handshakes, one GET /v2/.

Each function observes and returns plain data (never raises for a network failure); verdicts are
steps.py's job. Nothing is sent but a ClientHello and ``GET /v2/`` (with stored credentials only
when the credentials check asks for it), and nothing is ever written.
"""

from __future__ import annotations

import email.utils
import errno
import http.client
import socket
import ssl

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME: verify the chain, leave expiry to the expiry step
_NO_CHECK_TIME = 0x200000
_UNREACHABLE = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN)


def hosts_lines(text, name):
    """[(line number, address, line)] of the hosts-file lines naming ``name`` (case-insensitive)."""
    found = []
    wanted = name.lower().rstrip('.')
    for number, line in enumerate((text or '').splitlines(), 1):
        fields = line.split('#', 1)[0].split()
        if len(fields) > 1 and wanted in [f.lower().rstrip('.') for f in fields[1:]]:
            found.append((number, fields[0], line))
    return found


def resolve(name, port):
    """(addresses in the resolver's order, error): what the system resolver (files, then DNS) answers."""
    try:
        infos = socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return None, str(exc.args[-1] if exc.args else exc)
    addresses = []
    for info in infos:
        address = info[4][0].split('%', 1)[0]
        if address not in addresses:
            addresses.append(address)
    return addresses, None


def _connect(address, port, timeout):
    return socket.create_connection((address, port), timeout=timeout)


def tcp(address, port, timeout):
    """(outcome, text): ok, refused, timeout, unreachable or error."""
    try:
        sock = _connect(address, port, timeout)
    except socket.timeout:
        return 'timeout', 'timed out'
    except ConnectionRefusedError as exc:
        return 'refused', exc.strerror or str(exc)
    except OSError as exc:
        if exc.errno in _UNREACHABLE:
            return 'unreachable', exc.strerror or str(exc)
        return 'error', exc.strerror or str(exc)
    sock.close()
    return 'ok', None


def _client_context(client_pair=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    _present(ctx, client_pair)
    return ctx


def _present(ctx, client_pair):
    """Present the node's client certificate (mutual TLS), as its runtimes do: (cert path, key path) or None."""
    if client_pair:
        ctx.load_cert_chain(client_pair[0], client_pair[1])


def _sni(server_name):
    return server_name if server_name and not _is_ip(server_name) else None


def _is_ip(value):
    try:
        socket.inet_pton(socket.AF_INET6 if ':' in value else socket.AF_INET, value)
    except (OSError, ValueError):
        return False
    return True


def tls_handshake(address, port, server_name, timeout, client_pair=None):
    """A handshake that accepts any certificate: {ok, der, version, cipher, error}."""
    try:
        sock = _connect(address, port, timeout)
    except OSError as exc:
        return {'ok': False, 'error': 'connect: %s' % (exc.strerror or exc)}
    try:
        with _client_context(client_pair).wrap_socket(sock, server_hostname=_sni(server_name)) as tls:
            cipher = tls.cipher()
            return {'ok': True, 'der': tls.getpeercert(binary_form=True), 'version': tls.version(),
                    'cipher': cipher[0] if cipher else None, 'error': None}
    except (ssl.SSLError, OSError) as exc:
        return {'ok': False, 'error': _ssl_text(exc)}
    finally:
        sock.close()


def _ssl_text(exc):
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return '%s (%s)' % (exc.reason, exc.library or 'ssl')
    if isinstance(exc, socket.timeout):
        return 'no TLS answer in time'
    return str(exc) or type(exc).__name__


def tls_verify(address, port, server_name, cadata, system, timeout, client_pair=None):
    """Would OpenSSL accept the chain with these CA certificates (PEM text) and, if ``system``, the system store?

    The expiry is left out (checked as its own step). Returns {verified, code, message, error}.
    """
    ctx = ssl.create_default_context() if system else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    try:
        ctx.verify_flags |= _NO_CHECK_TIME
    except (ValueError, OverflowError):  # an OpenSSL without the flag: expired chains fail here too
        pass
    if cadata:
        try:
            ctx.load_verify_locations(cadata=cadata)
        except ssl.SSLError as exc:
            return {'verified': False, 'code': None, 'message': 'unusable CA file: %s' % _ssl_text(exc), 'error': None}
    try:
        _present(ctx, client_pair)
    except (ssl.SSLError, OSError) as exc:
        return {'verified': False, 'code': None, 'message': None, 'error': 'client certificate: %s' % _ssl_text(exc)}
    try:
        sock = _connect(address, port, timeout)
    except OSError as exc:
        return {'verified': False, 'code': None, 'message': None, 'error': 'connect: %s' % (exc.strerror or exc)}
    try:
        with ctx.wrap_socket(sock, server_hostname=_sni(server_name)):
            return {'verified': True, 'code': None, 'message': None, 'error': None}
    except ssl.SSLCertVerificationError as exc:
        return {'verified': False, 'code': exc.verify_code, 'message': exc.verify_message, 'error': None}
    except (ssl.SSLError, OSError) as exc:
        return {'verified': False, 'code': None, 'message': None, 'error': _ssl_text(exc)}
    finally:
        sock.close()


def http_get(address, port, host_header, tls, server_name, timeout, authorization=None, path='/v2/', client_pair=None):
    """One GET (TLS without verification when ``tls``): {status, headers, body (first 1 KiB), error}.

    ``authorization`` is sent as is and never returned.
    """
    try:
        sock = _connect(address, port, timeout)
    except OSError as exc:
        return {'status': None, 'headers': {}, 'body': '', 'error': 'connect: %s' % (exc.strerror or exc)}
    try:
        if tls:
            sock = _client_context(client_pair).wrap_socket(sock, server_hostname=_sni(server_name))
        lines = ['GET %s HTTP/1.1' % path, 'Host: %s' % host_header, 'User-Agent: berth-registry-doctor',
                 'Accept: application/json', 'Connection: close']
        if authorization:
            lines.append('Authorization: %s' % authorization)
        sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1'))
        response = http.client.HTTPResponse(sock)
        response.begin()
        headers = dict(response.getheaders())
        body = response.read(1024).decode('utf-8', 'replace')
        return {'status': response.status, 'headers': headers, 'body': body, 'error': None}
    except (ssl.SSLError, OSError, http.client.HTTPException) as exc:
        return {'status': None, 'headers': {}, 'body': '', 'error': _ssl_text(exc) if isinstance(exc, ssl.SSLError)
                else '%s: %s' % (type(exc).__name__, exc)}
    finally:
        sock.close()


def detect(address, port, server_name, host_header, timeout, client_pair=None):
    """What the port speaks: {speaks: tls|http|unknown, tls: handshake result, http: plain GET result}.

    TLS first (any certificate); when that fails, one plain ``GET /v2/``: an HTTP answer means plain HTTP.
    A Go TLS server answers plain HTTP with 400 "Client sent an HTTP request to an HTTPS server".
    """
    hello = tls_handshake(address, port, server_name, timeout, client_pair)
    if hello['ok']:
        return {'speaks': 'tls', 'tls': hello, 'http': None}
    plain = http_get(address, port, host_header, False, server_name, timeout)
    if plain['status'] is not None:
        if plain['status'] == 400 and 'HTTPS server' in plain['body']:
            return {'speaks': 'tls', 'tls': hello, 'http': plain}
        return {'speaks': 'http', 'tls': hello, 'http': plain}
    return {'speaks': 'unknown', 'tls': hello, 'http': plain}


def parse_date(value):
    """An HTTP Date header as an aware datetime, or None."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment
