# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""config.yml from structured input, rendered with PyYAML on the controller.

Two kinds of keys. The ones this collection owns follow from other options and cannot be set in
``sections``: ``version``, ``http.addr`` (port), ``http.secret`` (the shared secret), ``http.tls.certificate``
and ``key`` (the TLS pair it lays out), ``http.debug`` (metrics), ``auth`` (the users), and the storage driver,
``storage.delete`` and ``storage.redirect`` (the storage options). Everything else is Distribution's own
sections as users write them (``log``, ``http.headers``, ``health``, ``redis``, ``notifications``, ``proxy``,
``storage.cache``, ``storage.maintenance``, ...), checked where a wrong value is known to stop the registry,
and passed through. Values are data, never text pasted into YAML: a value with a newline stays one value.

Pure except ``render``, which needs PyYAML (the controller has it; the registry host never runs this file).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import collections.abc
import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_cache import proxy_section
from ansible_collections.berth.registry.plugins.module_utils._registry_server import redaction, storage as storage_section

try:
    import yaml
except ImportError:  # the controller has PyYAML (ansible-core requires it)
    yaml = None

HEADER = '# Managed by berth.registry (registry_server): changes made here are overwritten.\n'
SECTION_ORDER = ('version', 'log', 'storage', 'auth', 'http', 'health')
OWNED = {
    ('version',): 'it is always 0.1',
    ('auth',): 'it follows from the users (htpasswd) option',
    ('http', 'addr'): 'it follows from the port option',
    ('http', 'secret'): 'it is the shared http_secret (generated once on the controller)',
    ('http', 'debug'): 'it follows from the metrics option',
    ('http', 'tls', 'certificate'): 'the TLS pair is laid out by this module',
    ('http', 'tls', 'key'): 'the TLS pair is laid out by this module',
}
LOG_LEVELS = ('panic', 'fatal', 'error', 'warn', 'info', 'debug', 'trace')
_DURATION = re.compile(r'^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$')
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class ConfigError(BerthError):
    """A config.yml input Distribution would refuse, or one this module owns; nothing was written."""


def plain(value, where='config'):
    """A copy made of dict/list/str/int/float/bool/None only (templating engines hand over subclasses)."""
    if isinstance(value, collections.abc.Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError('%s: key %r is not a string' % (where, key))
            result[str(key)] = plain(item, '%s.%s' % (where, key))
        return result
    if isinstance(value, (list, tuple)):
        return [plain(item, '%s[%d]' % (where, i)) for i, item in enumerate(value)]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    raise ConfigError('%s: a value of type %s cannot go into config.yml' % (where, type(value).__name__))


def _get(tree, path):
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _choice(value, where, choices):
    if value not in choices:
        raise ConfigError('%s: %r is not allowed (allowed: %s)' % (where, value, ', '.join(choices)))


def _bool(value, where):
    if not isinstance(value, bool):
        raise ConfigError('%s: %r is not a boolean (true or false)' % (where, value))


def _duration(value, where):
    if not isinstance(value, str) or not _DURATION.match(value):
        raise ConfigError('%s: %r is not a duration such as 10s, 1m30s or 500ms' % (where, value))


def _positive(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError('%s: %r must be a whole number of at least 1' % (where, value))


def _mapping(value, where):
    if not isinstance(value, dict):
        raise ConfigError('%s: must be a mapping, got %s' % (where, type(value).__name__))


def _url(value, where):
    if not isinstance(value, str) or not re.match(r'^https?://[^\s/?#]+(/\S*)?$', value):
        raise ConfigError('%s: %r is not an http:// or https:// URL' % (where, value))


def _headers(value, where):
    _mapping(value, where)
    for name, values in value.items():
        if not _HEADER_NAME.match(name):
            raise ConfigError('%s: %r is not an HTTP header name' % (where, name))
        if not isinstance(values, list) or not all(isinstance(v, str) and '\n' not in v and '\r' not in v for v in values):
            raise ConfigError('%s.%s: must be a list of one-line strings' % (where, name))


def _fields(value, where):
    _mapping(value, where)
    for name, item in value.items():
        if isinstance(item, (dict, list)):
            raise ConfigError('%s.%s: must be a string, number or boolean' % (where, name))


# Values a typo in would stop the registry or make it run differently than asked.
CHECKS = [
    (('log',), _mapping), (('log', 'level'), lambda v, w: _choice(v, w, LOG_LEVELS)),
    (('log', 'formatter'), lambda v, w: _choice(v, w, ('text', 'json', 'logstash'))),
    (('log', 'accesslog'), _mapping), (('log', 'accesslog', 'disabled'), _bool), (('log', 'fields'), _fields),
    (('http',), _mapping), (('http', 'host'), _url), (('http', 'headers'), _headers), (('http', 'http2'), _mapping),
    (('http', 'http2', 'disabled'), _bool), (('http', 'draintimeout'), _duration), (('http', 'tls'), _mapping),
    (('http', 'tls', 'minimumtls'), lambda v, w: _choice(v, w, ('tls1.0', 'tls1.1', 'tls1.2', 'tls1.3'))),
    (('storage',), _mapping), (('storage', 'cache'), _mapping),
    (('storage', 'cache', 'blobdescriptor'), lambda v, w: _choice(v, w, ('inmemory', 'redis'))),
    (('health',), _mapping), (('health', 'storagedriver'), _mapping), (('health', 'storagedriver', 'enabled'), _bool),
    (('health', 'storagedriver', 'interval'), _duration), (('health', 'storagedriver', 'threshold'), _positive),
]


def check_sections(sections, tls, option='config'):
    """The user's sections as plain data, with every owned key refused and every known value checked."""
    sections = plain(sections or {}, option)
    for path, why in OWNED.items():
        if _get(sections, path[:-1]) is not None and isinstance(_get(sections, path[:-1]), dict) \
                and path[-1] in _get(sections, path[:-1]):
            raise ConfigError('%s.%s: cannot be set here: %s' % (option, '.'.join(path), why))
    if _get(sections, ('http', 'tls')) is not None and not tls:
        raise ConfigError('%s.http.tls: TLS is off (tls: false): there is no TLS section to configure' % option)
    extra_storage = _get(sections, ('storage',))
    if isinstance(extra_storage, dict):
        for key in extra_storage:
            if key not in storage_section.PARAMETERS:
                raise ConfigError('%s.storage.%s: the storage driver, delete and redirect come from the storage options; '
                                  'here only %s' % (option, key, ', '.join(storage_section.PARAMETERS)))
    for path, check in CHECKS:
        value = _get(sections, path)
        if value is not None:
            check(value, '.'.join((option,) + path))
    if sections.get('proxy'):
        # a pull-through cache (the server role's registry_proxy): the upstream URL without credentials in it,
        # username and password both or neither, ttl a Go duration
        sections['proxy'] = proxy_section(sections['proxy'])[0]
    return sections


class ConfigRequest(object):
    """What config.yml says, from the options: build() gives the structure, render() the file."""

    def __init__(self, layout, port, tls=True, htpasswd=False, realm='basic-realm', http_secret=None, storage=None,
                 storage_delete=False, storage_redirect=None, metrics_port=None, sections=None):
        self.layout = layout
        self.port = port
        self.tls = tls
        self.htpasswd = htpasswd
        self.realm = realm
        self.http_secret = http_secret
        self.driver, self.storage = storage_section.validate(plain(storage, 'storage'))
        self.storage_delete = storage_delete
        self.storage_redirect = storage_redirect
        self.metrics_port = metrics_port
        self.sections = check_sections(sections, tls)
        if not isinstance(realm, str) or not realm:
            raise ConfigError('auth_realm: must be a non-empty string')
        if http_secret is not None and (not isinstance(http_secret, str) or len(http_secret) < 16):
            raise ConfigError('http_secret: must be a string of at least 16 characters')

    def build(self):
        sections = dict(self.sections)
        config = {'version': 0.1}
        config['log'] = sections.pop('log', {})
        store = dict(self.storage)
        for key, value in (sections.pop('storage', None) or {}).items():
            if key in store:
                raise ConfigError('config.storage.%s: also given in the storage option; give it in one place' % key)
            store[key] = value
        store['delete'] = {'enabled': bool(self.storage_delete)}
        redirect = storage_section.redirect_section(self.driver, self.storage_redirect)
        if redirect is not None:
            store['redirect'] = redirect
        config['storage'] = store
        if self.htpasswd:
            config['auth'] = {'htpasswd': {'realm': self.realm, 'path': self.layout.in_container('htpasswd')}}
        http = {'addr': ':%d' % self.port}
        http.update(sections.pop('http', {}))
        if self.http_secret:
            http['secret'] = self.http_secret
        if self.tls:
            tls = http.get('tls') or {}
            tls.update(certificate=self.layout.in_container('tls_cert'), key=self.layout.in_container('tls_key'))
            http['tls'] = tls
        if self.metrics_port:
            http['debug'] = {'addr': ':%d' % self.metrics_port, 'prometheus': {'enabled': True, 'path': '/metrics'}}
        config['http'] = http
        if 'health' in sections:
            config['health'] = sections.pop('health')
        config.update(sections)
        return config

    def secrets(self):
        """The secret values config.yml will hold (S3 keys, http.secret, ...), to keep out of any output."""
        return redaction.secret_values(self.build())


def render(config):
    """config.yml text: block style, keys in the order given, no aliases, long values on one line."""
    if yaml is None:
        raise ConfigError('PyYAML is needed on the controller to render config.yml')

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    return HEADER + yaml.dump(plain(config), Dumper=Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True,
                              width=float('inf'))


def render_redacted(config):
    """The same text with every secret value masked (what diffs show)."""
    return render(redaction.masked(config))
