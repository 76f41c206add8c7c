# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""containerd's config.toml: the CRI registry ``config_path``, kept in a file that keeps everything else.

containerd reads ``<config_path>/<host[:port]>/hosts.toml`` on every pull, but config_path itself is
read from config.toml only at start. Its table depends on the file's ``version``:
1 (no version: containerd 1.x) ``[plugins.cri.registry]``, 2 (containerd 1.6/1.7)
``[plugins."io.containerd.grpc.v1.cri".registry]``, 3 (containerd 2.x)
``[plugins."io.containerd.cri.v1.images".registry]``. Legacy ``mirrors`` and ``configs.<host>.tls``
next to config_path make the CRI plugin fail to load (pkg/cri/config/config.go), so they are refused
by name - or moved into hosts.toml files when asked to (``migrate_legacy``).

Every edit is made on the text and proven by parsing the result: it must equal the old document
plus (or minus) exactly the intended keys, or the edit is refused. Pure functions.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.berth.registry.plugins.module_utils._toml import (
    Document, TomlError, key_line, key_text, loads, read_string, string,
)

DEFAULT_CONFIG = '/etc/containerd/config.toml'
DEFAULT_HOSTS_DIR = '/etc/containerd/certs.d'
DEFAULT_SOCKET = '/run/containerd/containerd.sock'
REGISTRY_SECTIONS = {
    1: ('plugins', 'cri', 'registry'),
    2: ('plugins', 'io.containerd.grpc.v1.cri', 'registry'),
    3: ('plugins', 'io.containerd.cri.v1.images', 'registry'),
}
DOCKER_HUB = 'docker.io'
DOCKER_HUB_SERVER = 'https://registry-1.docker.io'


class LegacyConflict(TomlError):
    """Legacy registry settings in config.toml that cannot live next to config_path."""


def section_text(version):
    return '[%s]' % key_text(REGISTRY_SECTIONS[version])


def version_for_binary(version_output):
    """The config version to write for the installed containerd (``containerd --version`` output): 3 for 2.x, else 2."""
    match = re.search(r'\sv?(\d+)\.(\d+)\.\d+', version_output or '')
    return 3 if match and int(match.group(1)) >= 2 else 2


def config_version(doc, path):
    version = doc.get('version', 1)
    if isinstance(version, bool) or not isinstance(version, int) or version not in REGISTRY_SECTIONS:
        raise TomlError('%s: version = %r is not a containerd config version this module knows (1, 2 or 3); '
                        'the file was left as it was' % (path, version))
    return version


def _table(doc, parts):
    node = doc
    for part in parts:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return {}
    return node if isinstance(node, dict) else {}


def registry_table(doc, version):
    return _table(doc, REGISTRY_SECTIONS[version])


def current_config_path(doc, version, path):
    value = registry_table(doc, version).get('config_path', '')
    if not isinstance(value, str):
        raise TomlError('%s: %s config_path is %r, not a string; the file was left as it was'
                        % (path, section_text(version), value))
    return value


def config_path_dirs(value):
    return [p for p in (value or '').split(':') if p]


def legacy_entries(doc, version):
    """Names of the legacy settings that conflict with config_path: mirrors."<ns>", configs."<host>".tls."""
    registry = registry_table(doc, version)
    names = []
    mirrors = registry.get('mirrors')
    if isinstance(mirrors, dict):
        names.extend('mirrors.%s' % string(ns) for ns in mirrors)
    configs = registry.get('configs')
    if isinstance(configs, dict):
        names.extend('configs.%s.tls' % string(host) for host, conf in configs.items()
                     if isinstance(conf, dict) and 'tls' in conf)
    return names


def legacy_message(path, version, names, hosts_dir):
    return ('%s: legacy registry settings in %s conflict with config_path (containerd\'s CRI plugin fails to load '
            'with both): %s. Move them into hosts.toml files under %s (containerd docs/hosts.md), or set '
            'containerd_migrate=true to have them moved; the file was left as it was'
            % (path, section_text(version), ', '.join(names), hosts_dir))


def wanted_config_path(current, hosts_dir):
    """config_path that includes hosts_dir: unchanged when it already does, else hosts_dir first."""
    dirs = config_path_dirs(current)
    if hosts_dir in dirs:
        return current
    return ':'.join([hosts_dir] + dirs)


def minimal_config(version, hosts_dir, eol='\n'):
    """A new config.toml: the version and config_path, nothing else (containerd's defaults apply to the rest)."""
    return eol.join([
        '# Written by berth.registry (registry_client): containerd\'s CRI reads one hosts.toml per registry',
        '# under config_path. Add your own settings freely: they are kept.',
        'version = %d' % version,
        '',
        section_text(version),
        '  config_path = %s' % string(hosts_dir),
        '',
    ])


def _with_value(doc, parts, key, value):
    expected = copy.deepcopy(doc)
    node = expected
    for part in parts:
        node = node.setdefault(part, {})
    node[key] = value
    return expected


def _settings(value):
    """A parsed document without its empty tables: they hold no setting (an edit may leave or drop them)."""
    if not isinstance(value, dict):
        return value
    pruned = dict((k, _settings(v)) for k, v in value.items())
    return dict((k, v) for k, v in pruned.items() if v != {})


def _proven(candidates, expected):
    """The first candidate text whose settings are exactly the expected ones, or None."""
    for text in candidates:
        if text is None:
            continue
        try:
            if _settings(loads(text, 'edit')) == _settings(expected):
                return text
        except TomlError:
            continue
    return None


def _edit_in_table(document, span, value):
    start, end = span
    lines = list(document.lines)
    for index in range(start + 1, end):
        found = key_line(lines[index])
        if found and found[0] == ('config_path',):
            old, after = read_string(lines[index], found[1])
            if old is None:
                return None  # a multi-line or non-string value: not edited by hand here
            lines[index] = lines[index][:found[1]] + string(value) + lines[index][after:]
            return ''.join(lines)
    indent = None
    for index in range(start + 1, end):
        if key_line(lines[index]):
            indent = document.indent_of(index)
            break
    if indent is None:
        indent = document.indent_of(start) + '  '
    lines.insert(start + 1, '%sconfig_path = %s%s' % (indent, string(value), document.eol))
    if not lines[start].endswith('\n'):
        lines[start] += document.eol
    return ''.join(lines)


def _new_table(document, section, value):
    """A new [section] table with config_path, after the last table of the CRI plugin (or at the end)."""
    lines = list(document.lines)
    eol = document.eol
    parent = document.table(section[:-1])
    at = document.last_under(section[:-1])
    indent = document.indent_of(parent[0]) + '  ' if parent else ''
    block = ['%s[%s]%s' % (indent, key_text(section), eol), '%s  config_path = %s%s' % (indent, string(value), eol)]
    if at is None or at >= len(lines):
        if lines and not lines[-1].endswith('\n'):
            lines[-1] += eol
        if lines and lines[-1].strip():
            block.insert(0, eol)
        return ''.join(lines + block)
    while at - 1 > 0 and (not lines[at - 1].strip() or lines[at - 1].lstrip().startswith('#')):
        at -= 1  # trailing blank lines and comments stay with what follows
    return ''.join(lines[:at] + block + lines[at:])


def _dotted_in_parent(document, section, value):
    parent = document.table(section[:-1])
    if not parent:
        return None
    lines = list(document.lines)
    indent = document.indent_of(parent[0]) + '  '
    lines.insert(parent[0] + 1, '%s%s.config_path = %s%s' % (indent, key_text(section[-1:]), string(value),
                                                             document.eol))
    return ''.join(lines)


def set_config_path(text, doc, version, value, path):
    """text with the registry table's config_path = value and nothing else changed (proven), or TomlError."""
    section = REGISTRY_SECTIONS[version]
    document = Document(text)
    span = document.table(section)
    if span:
        candidates = [_edit_in_table(document, span, value)]
    else:
        candidates = [_new_table(document, section, value), _dotted_in_parent(document, section, value)]
    new = _proven(candidates, _with_value(doc, section, 'config_path', value))
    if new is None:
        raise TomlError('%s: cannot set config_path in %s without touching anything else (is the table written '
                        'inline or in an unusual layout?): set config_path = %s there by hand; the file was left as '
                        'it was' % (path, section_text(version), string(value)))
    return new


class ConfigPlan(object):
    """What config.toml needs: ``text`` (new text, None when unchanged), config_path before/after, the version,
    the hosts directory, and the legacy settings found (and, with migrate, the hosts.toml texts they become)."""

    def __init__(self, text, before, after, version, hosts_dir, legacy=(), migrated=None, socket=DEFAULT_SOCKET):
        self.socket = socket
        self.text = text
        self.before = before
        self.after = after
        self.version = version
        self.hosts_dir = hosts_dir
        self.legacy = list(legacy)
        self.migrated = migrated or {}

    @property
    def config_path_changes(self):
        return self.before != self.after


def grpc_socket(doc):
    """containerd's API socket from a parsed config.toml ([grpc] address), else the default."""
    grpc = doc.get('grpc') if isinstance(doc.get('grpc'), dict) else {}
    address = grpc.get('address')
    return address if isinstance(address, str) and address else DEFAULT_SOCKET


def configured_hosts_dir(text, path):
    """The first config_path directory of a config.toml text, else the default (unreadable: the default too)."""
    try:
        if is_empty(text, path):
            return DEFAULT_HOSTS_DIR
        doc = loads(text, path)
        return (config_path_dirs(current_config_path(doc, config_version(doc, path), path)) or [DEFAULT_HOSTS_DIR])[0]
    except TomlError:
        return DEFAULT_HOSTS_DIR


def is_empty(text, path):
    return text is None or loads(text, path) == {}


def plan_config(text, path, hosts_dir=None, new_version=2, migrate=False, own_namespaces=()):
    """Plan config.toml so that the CRI reads hosts.toml files under the hosts directory.

    text: the current file (None: missing). hosts_dir: our directory (None: the first of an existing
    config_path, else /etc/containerd/certs.d). new_version: the version for a new file.
    Legacy settings raise LegacyConflict unless migrate, which moves them to hosts.toml texts
    (``migrated``: {namespace: text}) except for own_namespaces (the registry's own directories, which
    this module writes anyway).
    """
    if is_empty(text, path):
        wanted = hosts_dir or DEFAULT_HOSTS_DIR
        eol = '\r\n' if text and '\r\n' in text else '\n'
        prefix = text if text and text.endswith('\n') else (text + eol if text else '')
        return ConfigPlan(prefix + minimal_config(new_version, wanted, eol), None, wanted, new_version, wanted)
    doc = loads(text, path)
    version = config_version(doc, path)
    socket = grpc_socket(doc)
    current = current_config_path(doc, version, path)
    if hosts_dir is None:
        hosts_dir = (config_path_dirs(current) or [DEFAULT_HOSTS_DIR])[0]
    legacy = legacy_entries(doc, version)
    migrated = {}
    if legacy:
        if not migrate:
            raise LegacyConflict(legacy_message(path, version, legacy, hosts_dir))
        text, doc, migrated = migrate_legacy(text, doc, version, path, own_namespaces)
    wanted = wanted_config_path(current, hosts_dir)
    if wanted == current and not legacy:
        return ConfigPlan(None, current, current, version, hosts_dir, socket=socket)
    if wanted != current:
        text = set_config_path(text, doc, version, wanted, path)
    return ConfigPlan(text, current or None, wanted, version, hosts_dir, legacy, migrated, socket)


# --- moving legacy settings into hosts.toml --------------------------------------------------------

def _server_of(namespace):
    return DOCKER_HUB_SERVER if namespace == DOCKER_HUB else 'https://%s' % namespace


def _host_of_url(url):
    return re.sub(r'^[a-z]+://', '', url).split('/', 1)[0]


def _tls_lines(tls, indent, path, host):
    if not isinstance(tls, dict):
        raise TomlError('%s: configs.%s.tls is not a table; the file was left as it was' % (path, string(host)))
    lines = []
    if tls.get('ca_file'):
        lines.append('%sca = %s' % (indent, string(tls['ca_file'])))
    if tls.get('cert_file'):
        if tls.get('key_file'):
            lines.append('%sclient = [[%s, %s]]' % (indent, string(tls['cert_file']), string(tls['key_file'])))
        else:
            lines.append('%sclient = %s' % (indent, string(tls['cert_file'])))
    if tls.get('insecure_skip_verify'):
        lines.append('%sskip_verify = true' % indent)
    return lines


def legacy_hosts_toml(doc, version, path):
    """{namespace: hosts.toml text} equivalent to the legacy mirrors and configs.*.tls (for pulls)."""
    registry = registry_table(doc, version)
    mirrors = registry.get('mirrors') if isinstance(registry.get('mirrors'), dict) else {}
    configs = registry.get('configs') if isinstance(registry.get('configs'), dict) else {}
    tls = dict((host, conf['tls']) for host, conf in configs.items() if isinstance(conf, dict) and 'tls' in conf)
    files = {}
    for namespace in list(mirrors) + [h for h in tls if h not in mirrors]:
        server = _server_of(namespace)
        lines = ['# Migrated by berth.registry (registry_client) from %s %s.' % (path, section_text(version)),
                 '# Yours from now on: berth.registry does not manage this file.',
                 'server = %s' % string(server)]
        if namespace in tls:
            lines.extend(_tls_lines(tls[namespace], '', path, namespace))
        entry = mirrors.get(namespace, {})
        endpoints = entry.get('endpoint', []) if isinstance(entry, dict) else None
        if not isinstance(endpoints, list) or not all(isinstance(e, str) for e in endpoints):
            raise TomlError('%s: mirrors.%s.endpoint is not a list of URLs; the file was left as it was'
                            % (path, string(namespace)))
        for url in endpoints:
            url = url.rstrip('/')
            if url == server.rstrip('/'):
                continue
            if not re.match(r'^https?://', url):
                url = 'https://' + url
            lines.extend(['', '[host.%s]' % string(url), '  capabilities = ["pull", "resolve"]'])
            host = _host_of_url(url)
            if host in tls:
                lines.extend(_tls_lines(tls[host], '  ', path, host))
        files[namespace] = '\n'.join(lines) + '\n'
    return files


def _strip_legacy(document, section):
    """Lines of the document without the legacy tables and keys under section (proven by the caller)."""
    mirrors = tuple(section) + ('mirrors',)
    configs = tuple(section) + ('configs',)
    drop = set()
    headers = document.headers
    for n, (index, kind, parts) in enumerate(headers):
        end = headers[n + 1][0] if n + 1 < len(headers) else len(document.lines)
        is_legacy_table = parts[:len(mirrors)] == mirrors or (
            parts[:len(configs)] == configs and len(parts) > len(configs) + 1 and parts[len(configs) + 1] == 'tls')
        if is_legacy_table:
            drop.update(range(index, end))
            continue
        for line_index in range(index + 1, end):
            found = key_line(document.lines[line_index])
            if not found:
                continue
            full = parts + found[0]
            if full[:len(mirrors)] == mirrors or (
                    full[:len(configs)] == configs and len(full) > len(configs) + 1 and full[len(configs) + 1] == 'tls'):
                drop.add(line_index)
    return ''.join(line for i, line in enumerate(document.lines) if i not in drop)


def migrate_legacy(text, doc, version, path, own_namespaces=()):
    """(text, doc) without the legacy settings, and {namespace: hosts.toml text} that replace them.

    Refused (TomlError) when the text cannot be edited provably; the registry's own namespaces are
    left out of the result (the module writes their hosts.toml itself).
    """
    section = REGISTRY_SECTIONS[version]
    files = legacy_hosts_toml(doc, version, path)
    expected = copy.deepcopy(doc)
    registry = _table(expected, section)
    registry.pop('mirrors', None)
    for conf in (registry.get('configs') or {}).values():
        if isinstance(conf, dict):
            conf.pop('tls', None)
    new = _proven([_strip_legacy(Document(text), section)], expected)
    if new is None:
        raise TomlError('%s: cannot remove the legacy registry settings in %s without touching anything else '
                        '(inline tables or values over several lines?): move them by hand; the file was left as it '
                        'was' % (path, section_text(version)))
    return new, expected, dict((ns, t) for ns, t in files.items() if ns not in own_namespaces)
