# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the registry host holds, read-only (module registry_info): the certificate it serves, its users
(names only), repositories and tags in its storage, the data directory's size, the container's state.

Stdlib only. Storage is counted from the filesystem layout of Distribution's filesystem driver
(docker/registry/v2/repositories/<name>/_manifests/tags/<tag>), so no credentials are needed.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import datetime
import os

from ansible_collections.berth.registry.plugins.module_utils import _der_cert
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._docker_engine import EngineClient
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

REPOSITORIES = os.path.join('docker', 'registry', 'v2', 'repositories')


def argument_spec():
    return dict(
        data_dir=dict(type='path', default='/var/lib/registry'),
        config_dir=dict(type='path', default='/etc/docker/registry'),
        cert_path=dict(type='path'),
        htpasswd_path=dict(type='path'),
        container_name=dict(type='str', default='registry'),
        docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
        max_files=dict(type='int', default=200000),
    )


def htpasswd_users(text):
    """User names of an htpasswd file, in file order (the hashes are never kept)."""
    names = []
    for line in (text or '').splitlines():
        name, sep, dummy = line.partition(':')
        name = name.strip()
        if sep and name and not name.startswith('#') and name not in names:
            names.append(name)
    return names


def repositories(data_dir, limit=100000):
    """[{name, tags}] of the repositories under a filesystem-driver data directory (sorted by name)."""
    root = os.path.join(data_dir, REPOSITORIES)
    found = []
    for current, dirs, dummy in os.walk(root):
        if '_manifests' in dirs:
            tags_dir = os.path.join(current, '_manifests', 'tags')
            try:
                tags = len([t for t in os.listdir(tags_dir) if os.path.isdir(os.path.join(tags_dir, t))])
            except OSError:
                tags = 0
            found.append({'name': os.path.relpath(current, root), 'tags': tags})
        dirs[:] = sorted(d for d in dirs if not d.startswith('_'))
        if len(found) >= limit:
            break
    return sorted(found, key=lambda r: r['name'])


def disk_usage(path, max_files):
    """{bytes, files, complete}: allocated bytes of the tree (like du), stopping after max_files files."""
    total = files = 0
    for current, dummy, names in os.walk(path):
        for name in names:
            try:
                st = os.lstat(os.path.join(current, name))
            except OSError:
                continue
            total += getattr(st, 'st_blocks', 0) * 512 or st.st_size
            files += 1
            if files >= max_files:
                return {'bytes': total, 'files': files, 'complete': False}
    return {'bytes': total, 'files': files, 'complete': True}


def _read(path):
    """Text of a file (at most 4 MiB, undecodable bytes replaced); None when absent or unreadable."""
    try:
        with open(path, 'rb') as f:
            return f.read(4 * 1024 * 1024).decode('utf-8', 'replace')
    except OSError:
        return None


class RegistryInfo(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params

    def run(self):
        p = self.p
        if p['max_files'] < 1:
            raise BerthError('max_files: %d must be 1 or more' % p['max_files'])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert_path = p['cert_path'] or os.path.join(p['config_dir'], 'ssl', 'registry.crt')
        htpasswd_path = p['htpasswd_path'] or os.path.join(p['config_dir'], 'auth', 'htpasswd')
        certificate = self._certificate(cert_path, now)
        repos = repositories(p['data_dir']) if os.path.isdir(p['data_dir']) else []
        storage = dict(disk_usage(p['data_dir'], p['max_files']), path=p['data_dir'],
                       exists=os.path.isdir(p['data_dir']), repositories=len(repos),
                       tags=sum(r['tags'] for r in repos))
        return Differences().result(
            self.module._diff, certificate=certificate, users=htpasswd_users(_read(htpasswd_path)),
            htpasswd_path=htpasswd_path, repositories=repos, storage=storage, container=self._container())

    @staticmethod
    def _certificate(path, now):
        """The served certificate's metadata; None without a file (plain HTTP), {path, error} when unreadable."""
        if os.path.isdir(path):
            return {'path': path, 'error': '%s is a directory' % path}
        text = _read(path)
        if text is None:
            return None
        blocks = _der_cert.pem_blocks(text)
        if not blocks:
            return {'path': path, 'error': 'no PEM certificate in %s' % path}
        try:
            certificate = _der_cert.summary(_der_cert.parse_certificate(blocks[0]), now)
        except _der_cert.CertificateError as exc:
            return {'path': path, 'error': 'unreadable certificate in %s: %s' % (path, exc)}
        certificate['path'] = path
        return certificate

    def _container(self):
        name = self.p['container_name']
        try:
            status, payload = EngineClient(self.p['docker_host'], timeout=10).request('GET', '/containers/%s/json' % name)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            return {'name': name, 'found': False, 'error': str(exc)}
        if status != 200 or not isinstance(payload, dict):
            return {'name': name, 'found': False, 'error': 'engine answered %s' % status}
        state = payload.get('State') or {}
        return {'name': name, 'found': True, 'running': bool(state.get('Running')), 'status': state.get('Status'),
                'started_at': state.get('StartedAt'), 'image': (payload.get('Config') or {}).get('Image'),
                'restart_count': payload.get('RestartCount')}
