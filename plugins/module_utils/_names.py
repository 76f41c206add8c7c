# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validators for the names users type: DNS names, IP addresses, registry endpoints, plain text.

Each returns the normalized value or raises BerthError naming the option, the value and what is
allowed. Shared by the PKI (SANs), the client (certs.d directory names, hosts lines) and the server.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

_LABEL = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


def check_text(value, option, allow_empty=False, max_length=None):
    """A printable one-line string: no control characters (newline, NUL, ...)."""
    if not isinstance(value, str):
        raise BerthError('%s: %r must be a string' % (option, value))
    if not value and not allow_empty:
        raise BerthError('%s must not be empty' % option)
    if _CONTROL.search(value):
        raise BerthError('%s: %r contains a control character (newline, tab, NUL, ...); only printable text is allowed'
                         % (option, value))
    if max_length is not None and len(value) > max_length:
        raise BerthError('%s: %r is longer than %d characters' % (option, value, max_length))
    return value


def is_ip_address(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def ip_address(value, option):
    """A plain IPv4 or IPv6 address (no zone, no brackets, no prefix), normalized."""
    text = check_text(str(value).strip(), option)
    if '%' in text:
        raise BerthError('%s: %r carries a zone (%%...); give a global IPv4 or IPv6 address without a zone'
                         % (option, value))
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise BerthError('%s: %r is not an IPv4 or IPv6 address' % (option, value))


def dns_name(value, option, wildcard=False):
    """A DNS host name (RFC 1123 labels: letters, digits, inner hyphens; at most 253 characters),
    lower-cased, without a trailing dot. Not an IP address. ``wildcard`` allows a leading ``*.``."""
    text = check_text(str(value).strip(), option)
    name = text.lower().rstrip('.') if text != '.' else text
    if is_ip_address(name) or re.match(r'^[0-9.]+$', name):
        raise BerthError('%s: %r is an IP address, not a DNS name' % (option, value))
    labels = name.split('.')
    if wildcard and labels[0] == '*' and len(labels) > 2:
        labels = labels[1:]
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise BerthError('%s: %r is not a valid DNS name (labels of letters, digits and inner hyphens, '
                         'each 1..63 characters, 253 in all)' % (option, value))
    return name


def host(value, option):
    """A DNS name or an IP address (IPv6 may come in brackets)."""
    text = check_text(str(value).strip(), option)
    if text.startswith('[') and text.endswith(']'):
        return ip_address(text[1:-1], option)
    if is_ip_address(text) or '%' in text:
        return ip_address(text, option)
    return dns_name(text, option)


def registry_endpoint(value, option='registry'):
    """What users type in ``docker pull``: ``host`` or ``host:port``; returns (host, port or None).

    The host is a DNS name or an IP address (IPv6 as ``[addr]`` when a port follows).
    """
    text = check_text(value if isinstance(value, str) else str(value), option).strip()
    if '://' in text or '/' in text or any(c.isspace() for c in text):
        raise BerthError('%s: %r must be host or host:port as typed in docker pull (no scheme, no path, no spaces)'
                         % (option, value))
    match = re.match(r'^(\[[^\]]+\]|[^:\[\]]+)(?::([0-9]{1,5}))?$', text)
    if not match:
        if text.count(':') > 1 and is_ip_address(text):
            raise BerthError('%s: %r: write an IPv6 address as [address]:port' % (option, value))
        raise BerthError('%s: %r must be host or host:port as typed in docker pull' % (option, value))
    name = host(match.group(1), option)
    port = int(match.group(2)) if match.group(2) else None
    if port is not None and not 0 < port < 65536:
        raise BerthError('%s: port %d in %r is out of range (1..65535)' % (option, port, value))
    return name, port


def endpoint_text(name, port=None):
    """host[:port] with IPv6 in brackets, the form dockerd and containerd use for directory names."""
    shown = '[%s]' % name if ':' in name else name
    return shown if port is None else '%s:%d' % (shown, port)


_USERINFO = re.compile(r'(?i)\b([a-z][a-z0-9+.-]*://)([^/?#@\s]*)@')


def redact_userinfo(text):
    """text with the user:password part of every URL in it replaced by ``***`` (for messages and diffs)."""
    return _USERINFO.sub(r'\1***@', text) if isinstance(text, str) else text


def userinfo_secrets(value):
    """The passwords (and user:password strings) of URLs anywhere in value (str, list, dict), for no_log.

    A module adds them to ``module.no_log_values`` so they are masked wherever they would show,
    the invocation at -vvv included.
    """
    found = []
    if isinstance(value, dict):
        for item in value.values():
            found.extend(userinfo_secrets(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(userinfo_secrets(item))
    elif isinstance(value, str):
        for match in _USERINFO.finditer(value):
            userinfo = match.group(2)
            user, sep, password = userinfo.partition(':')
            found.extend([userinfo] + ([password] if sep and password else []))
    return [s for s in found if s]
