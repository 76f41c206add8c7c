# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What each container runtime on a client reads for one registry: trust, scheme, stored credentials.

docker (dockerd: certs.d, insecure-registries through the engine, root's config.json), containerd
(hosts.toml under config_path) and containers (Podman, Buildah, Skopeo, CRI-O: certs.d directories,
registries.conf(.d), auth.json). Pure parsers first, then thin readers that only read files and ask
the engine; nothing is ever written. Facts: shared/notes/runtimes.md.
"""

from __future__ import annotations

import base64
import binascii
import glob
import ipaddress
import json
import os
import re

try:
    import tomllib
except ImportError:  # python < 3.11: TOML files are reported as unreadable
    tomllib = None

from ansible_collections.berth.registry.plugins.module_utils._client.detect import (
    CONTAINERS_TOOLS, kubelet_running, socket_answers,
)
from ansible_collections.berth.registry.plugins.module_utils._der_cert import (
    CertificateError, parse_certificate, pem_blocks,
)
from ansible_collections.berth.registry.plugins.module_utils._doctor.steps import (
    HTTP, HTTPS, HTTPS_INSECURE, HTTPS_NOVERIFY,
)

MAX_FILE = 4 * 1024 * 1024

DEFAULTS = dict(
    docker_certs_dir='/etc/docker/certs.d',
    docker_daemon_config='/etc/docker/daemon.json',
    docker_config='/root/.docker/config.json',
    containerd_config='/etc/containerd/config.toml',
    containerd_socket='/run/containerd/containerd.sock',
    containers_certs_dirs=['/root/.config/containers/certs.d', '/etc/containers/certs.d', '/etc/docker/certs.d'],
    containers_registries_conf='/etc/containers/registries.conf',
    containers_registries_conf_d='/etc/containers/registries.conf.d',
    containers_auth_files=['/run/containers/0/auth.json', '/root/.config/containers/auth.json',
                           '/root/.docker/config.json'],
)


# --- pure parsers -------------------------------------------------------------------------------

def parse_ca_text(path, text):
    """{path, certificates: [parsed], error} for a CA file's text."""
    certs = []
    error = None
    for der in pem_blocks(text):
        try:
            cert = parse_certificate(der)
        except CertificateError as exc:
            error = 'unreadable certificate: %s' % exc
            continue
        cert['_der'] = der  # for the chain check; internal, never returned
        certs.append(cert)
    if not certs and error is None:
        error = 'no PEM certificate in it'
    return {'path': path, 'certificates': certs, 'error': error}


def json_object(text, path):
    """(dict, error) for a JSON object file's text; ({}, None) when the file is absent (text None)."""
    if text is None:
        return {}, None
    try:
        value = json.loads(text)
    except ValueError as exc:
        return {}, '%s is not valid JSON: %s' % (path, exc)
    if not isinstance(value, dict):
        return {}, '%s holds a JSON %s, not an object' % (path, type(value).__name__)
    return value, None


def _auth_key(key):
    """'https://reg:5000/v1/' -> 'reg:5000' (how Docker and containers/image match auths keys)."""
    key = re.sub(r'^[a-z]+://', '', key.strip())
    return key.split('/', 1)[0]


def auth_entry(config, endpoint, path):
    """Stored credentials for endpoint in a config.json/auth.json object.

    Returns {source, user, helper, _auth} (``_auth`` is the secret base64 user:password, internal only,
    stripped before anything is returned) or None when this file has none.
    """
    helpers = config.get('credHelpers') if isinstance(config.get('credHelpers'), dict) else {}
    if endpoint in helpers:
        return {'source': path, 'user': None, 'helper': str(helpers[endpoint])}
    auths = config.get('auths') if isinstance(config.get('auths'), dict) else {}
    for key, entry in auths.items():
        if _auth_key(key) != endpoint or not isinstance(entry, dict):
            continue
        raw = entry.get('auth')
        if not isinstance(raw, str) or not raw:
            if entry.get('identitytoken'):
                return {'source': path, 'user': None, 'helper': None, 'token': True}
            continue
        try:
            user, sep, dummy = base64.b64decode(raw, validate=True).decode('utf-8').partition(':')
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return {'source': path, 'user': None, 'helper': None, 'error': 'auths[%s].auth is not base64 of '
                    'user:password' % key}
        if not sep:
            return {'source': path, 'user': None, 'helper': None, 'error': 'auths[%s].auth holds no user:password'
                    % key}
        return {'source': path, 'user': user, 'helper': None, '_auth': raw}
    if isinstance(config.get('credsStore'), str) and config['credsStore']:
        return {'source': path, 'user': None, 'helper': config['credsStore']}
    return None


def docker_scheme(endpoint, host, registry_config, addresses):
    """What dockerd speaks to the registry: (scheme, source), from the engine's RegistryConfig.

    An index listed in IndexConfigs decides by its Secure flag; else dockerd resolves the host and
    treats it as insecure when an address lies in InsecureRegistryCIDRs (127.0.0.0/8 by default).
    """
    indexes = registry_config.get('IndexConfigs') or {}
    names = [endpoint] + ([host + ':443'] if endpoint == host else [])
    for name in names:
        index = indexes.get(name)
        if isinstance(index, dict) and 'Secure' in index:
            if index['Secure']:
                return HTTPS, 'engine: %s is a secure registry' % name
            return HTTPS_INSECURE, 'engine: %s is in insecure-registries' % name
    for cidr in registry_config.get('InsecureRegistryCIDRs') or []:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        for address in addresses:
            try:
                if ipaddress.ip_address(address) in net:
                    return HTTPS_INSECURE, 'engine: %s lies in the insecure range %s' % (address, cidr)
            except ValueError:
                continue
    return HTTPS, 'not in insecure-registries (engine)'


def daemon_json_scheme(endpoint, daemon):
    """The same question answered from daemon.json when the engine does not answer."""
    insecure = daemon.get('insecure-registries') if isinstance(daemon.get('insecure-registries'), list) else []
    if endpoint in insecure:
        return HTTPS_INSECURE, 'daemon.json: %s is in insecure-registries (dockerd not asked)' % endpoint
    return HTTPS, 'not in insecure-registries of daemon.json (dockerd not asked)'


def registry_keys(daemon):
    return dict((k, daemon[k]) for k in ('insecure-registries', 'registry-mirrors') if k in daemon)


def containerd_config_paths(config):
    """The CRI's config_path directories from a parsed config.toml (version 1, 2 or 3)."""
    plugins = config.get('plugins') if isinstance(config.get('plugins'), dict) else {}
    for section in ('io.containerd.cri.v1.images', 'io.containerd.grpc.v1.cri', 'cri'):
        registry = (plugins.get(section) or {}).get('registry') if isinstance(plugins.get(section), dict) else None
        if isinstance(registry, dict) and isinstance(registry.get('config_path'), str):
            return [p for p in registry['config_path'].split(':') if p], section
    return [], None


def containerd_host_dirs(root, host, port):
    """Directory names containerd tries under one config_path root (hosts.go): host_port_, host:port, _default."""
    shown = '[%s]' % host if ':' in host else host
    names = (['%s_%d_' % (shown, port), '%s:%d' % (shown, port)] if port else [shown]) + ['_default']
    return [os.path.join(root, n) for n in names]


def hosts_toml_view(config, directory, host_url):
    """(scheme, source, ca paths, skip_verify) for pulls from a parsed hosts.toml.

    The first [host."url"] that can pull is tried first; with none, the server (default https://host).
    """
    hosts = config.get('host') if isinstance(config.get('host'), dict) else {}
    pull_hosts = [(url, h) for url, h in hosts.items()
                  if isinstance(h, dict) and 'pull' in (h.get('capabilities') or ['pull', 'resolve', 'push'])]
    if pull_hosts:
        url, settings = pull_hosts[0]
        where = '%s/hosts.toml [host."%s"]' % (directory, url)
    else:
        url = config.get('server') if isinstance(config.get('server'), str) else host_url
        settings = config
        where = '%s/hosts.toml server = "%s"' % (directory, url)
    ca = settings.get('ca', config.get('ca'))
    cas = [ca] if isinstance(ca, str) else [c for c in (ca or []) if isinstance(c, str)]
    cas = [c if os.path.isabs(c) else os.path.join(directory, c) for c in cas]
    skip = bool(settings.get('skip_verify', False))
    if url.startswith('http://'):
        scheme = HTTP
    else:
        scheme = HTTPS_NOVERIFY if skip else HTTPS
    return scheme, where, cas, skip


def _prefix_matches(prefix, endpoint):
    prefix = prefix.rstrip('/')
    return endpoint == prefix or endpoint.startswith(prefix + '/')


def containers_scheme(confs, endpoint):
    """(scheme, source) from [(path, parsed registries.conf)] in reading order: the longest matching
    [[registry]] prefix wins, a later file overrides an earlier one for the same prefix."""
    best = None
    for path, conf in confs:
        for entry in conf.get('registry') or []:
            if not isinstance(entry, dict):
                continue
            prefix = entry.get('prefix') or entry.get('location')
            if not isinstance(prefix, str) or not _prefix_matches(prefix, endpoint):
                continue
            if best is None or len(prefix) >= len(best[0]):
                best = (prefix, path, bool(entry.get('insecure', False)))
    if best is None:
        return HTTPS, 'no [[registry]] entry for %s in registries.conf(.d)' % endpoint
    if best[2]:
        return HTTPS_INSECURE, '%s: [[registry]] %s insecure = true' % (best[1], best[0])
    return HTTPS, '%s: [[registry]] %s (secure)' % (best[1], best[0])


# --- thin readers ---------------------------------------------------------------------------------

def read_text(path):
    """(text, error): text None when the file is absent; error for anything unreadable. Never follows into a dir."""
    try:
        with open(path, 'rb') as f:
            data = f.read(MAX_FILE + 1)
    except FileNotFoundError:
        return None, None
    except IsADirectoryError:
        return None, '%s is a directory' % path
    except OSError as exc:
        return None, '%s: %s' % (path, exc.strerror or exc)
    if len(data) > MAX_FILE:
        return None, '%s is larger than %d bytes' % (path, MAX_FILE)
    return data.decode('utf-8', 'replace'), None


def read_toml(path):
    """(dict, error); ({}, None) when absent."""
    text, error = read_text(path)
    if text is None:
        return {}, error
    if tomllib is None:
        return {}, '%s not read: python < 3.11 has no TOML parser' % path
    try:
        return tomllib.loads(text), None
    except ValueError as exc:
        return {}, '%s is not valid TOML: %s' % (path, exc)


def read_ca_files(paths):
    items = []
    for path in paths:
        text, error = read_text(path)
        if text is None:
            items.append({'path': path, 'certificates': [], 'error': error or 'missing'})
        else:
            items.append(parse_ca_text(path, text))
    return items


def ca_dir_files(directory):
    """The *.crt files of a certs.d host directory, parsed (what dockerd and containers/image read as CAs)."""
    return read_ca_files(sorted(glob.glob(os.path.join(glob.escape(directory), '*.crt'))))


def find_credentials(paths, endpoint):
    """The first of ``paths`` that stores credentials for endpoint, as auth_entry() returns; else {looked_in}."""
    errors = []
    for path in paths:
        text, error = read_text(path)
        config, parse_error = json_object(text, path)
        if error or parse_error:
            errors.append(error or parse_error)
            continue
        entry = auth_entry(config, endpoint, path)
        if entry is not None:
            return entry
    return {'source': None, 'user': None, 'helper': None, 'looked_in': list(paths), 'errors': errors}


# --- one view per runtime --------------------------------------------------------------------------

def docker_view(opts, which, engine, endpoint, host, addresses):
    """dockerd: present/running, scheme (engine's RegistryConfig), CAs in certs.d/<endpoint>, root's config.json."""
    socket_file = opts['docker_host_socket']
    present = which('dockerd') or which('docker') or (socket_file and os.path.exists(socket_file))
    view = {'name': 'docker', 'present': bool(present)}
    if not view['present']:
        view['reason'] = 'not installed (no dockerd)'
        return view
    daemon_text, daemon_error = read_text(opts['docker_daemon_config'])
    daemon, parse_error = json_object(daemon_text, opts['docker_daemon_config'])
    view['registry_keys'] = registry_keys(daemon)
    view['config_errors'] = [e for e in (daemon_error, parse_error) if e]
    info, engine_error = engine()
    view['running'] = info is not None
    if info is not None:
        view['version'] = info.get('ServerVersion')
        registry_config = info.get('RegistryConfig') or {}
        view['scheme'], view['scheme_source'] = docker_scheme(endpoint, host, registry_config, addresses)
        view['engine_registry'] = {
            'insecure': sorted(n for n, i in (registry_config.get('IndexConfigs') or {}).items()
                               if isinstance(i, dict) and not i.get('Secure', True)),
            'mirrors': list(registry_config.get('Mirrors') or []),
        }
    else:
        view['engine_error'] = engine_error
        view['scheme'], view['scheme_source'] = daemon_json_scheme(endpoint, daemon)
    directory = os.path.join(opts['docker_certs_dir'], endpoint)
    view['trust'] = {'files': ca_dir_files(directory), 'looked_in': [directory], 'system': True,
                     'source': directory}
    view['credentials'] = find_credentials([opts['docker_config']], endpoint)
    return view


def containerd_view(opts, which, endpoint, host, port, docker_running, wanted):
    """containerd: installed/running; checked under `auto` only where no dockerd runs or a kubelet uses the CRI."""
    view = {'name': 'containerd', 'present': bool(which('containerd'))}
    if not view['present']:
        view['reason'] = 'not installed'
        return view
    view['running'] = socket_answers(opts['containerd_socket'])
    config, error = read_toml(opts['containerd_config'])
    view['config_errors'] = [error] if error else []
    roots, section = containerd_config_paths(config)
    view['config_path'] = roots
    if wanted == 'auto':
        kubelet = kubelet_running()
        if docker_running and not kubelet:
            view['reason'] = ('serves dockerd only (no kubelet uses its CRI): dockerd\'s certs.d applies; list '
                              'containerd in runtimes to check its own registry configuration')
            return view
        if not view['running']:
            view['reason'] = 'installed but not running (%s does not answer)' % opts['containerd_socket']
            return view
    host_url = 'https://%s' % endpoint
    hosts_file = None
    for root in roots:
        for directory in containerd_host_dirs(root, host, port):
            if os.path.isfile(os.path.join(directory, 'hosts.toml')):
                hosts_file = directory
                break
        if hosts_file:
            break
    if hosts_file is None:
        if roots:
            where = 'no hosts.toml for %s under config_path %s' % (endpoint, ':'.join(roots))
        else:
            where = 'config_path is not set in %s, so the CRI reads no hosts.toml' % opts['containerd_config']
        view.update(scheme=HTTPS, scheme_source='%s: default https://%s' % (where, endpoint))
        view['trust'] = {'files': [], 'looked_in': [os.path.join(r, endpoint) for r in roots] or
                         [opts['containerd_config'] + ' config_path (unset)'], 'system': True, 'source': where}
    else:
        parsed, toml_error = read_toml(os.path.join(hosts_file, 'hosts.toml'))
        if toml_error:
            view['config_errors'].append(toml_error)
        scheme, source, cas, skip = hosts_toml_view(parsed, hosts_file, host_url)
        view.update(scheme=scheme, scheme_source=source, skip_verify=skip)
        view['trust'] = {'files': read_ca_files(cas), 'looked_in': [hosts_file + '/hosts.toml ca'], 'system': True,
                         'source': source}
    view['credentials'] = None  # the CRI client (kubelet) or `ctr --user` passes credentials per pull
    view['section'] = section
    return view


def containers_view(opts, which, endpoint):
    """Podman, Buildah, Skopeo, CRI-O: the first certs.d directory that has the host, registries.conf(.d), auth.json."""
    tools = [t for t in CONTAINERS_TOOLS if which(t)]
    view = {'name': 'containers', 'present': bool(tools), 'tools': tools}
    if not tools:
        view['reason'] = 'not installed (no %s)' % ', '.join(CONTAINERS_TOOLS)
        return view
    view['running'] = True  # no daemon (CRI-O rereads on SIGHUP)
    confs, errors = [], []
    paths = [opts['containers_registries_conf']] + sorted(
        glob.glob(os.path.join(glob.escape(opts['containers_registries_conf_d']), '*.conf')))
    for path in paths:
        parsed, error = read_toml(path)
        if error:
            errors.append(error)
        confs.append((path, parsed))
    view['config_errors'] = errors
    view['scheme'], view['scheme_source'] = containers_scheme(confs, endpoint)
    looked = [os.path.join(d, endpoint) for d in opts['containers_certs_dirs']]
    directory = next((d for d in looked if os.path.isdir(d)), None)
    view['trust'] = {'files': ca_dir_files(directory) if directory else [], 'looked_in': looked, 'system': True,
                     'source': directory or 'no certs.d directory for %s' % endpoint}
    view['credentials'] = find_credentials(opts['containers_auth_files'], endpoint)
    return view
