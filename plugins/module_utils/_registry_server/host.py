# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HostPlan: the registry host's side of registry_server, in one module run.

1. Packages: what is missing (python3-docker, python3-bcrypt, later nginx/haproxy/redis). A real run
   stops there and says so (the action plugin installs them with apt and runs this again); check mode
   records ``package <name>: absent -> present`` and goes on with what it can know.
2. Everything is checked before anything is written: the container spec, the users, the extra files, the
   image (present, or pullable, or an archive to load).
3. Directories, the TLS pair (key first, staged together), the CA, the htpasswd file (the htpasswd plan
   object), config.yml, extra files: each compared by content, written only when it differs.
4. The container through _registry_container's driver, with the restart hash computed from the DESIRED
   bytes of what the registry reads at start (config.yml, TLS pair): check mode predicts a recreate exactly.
   If the new container does not answer, the restart files are put back as they were and the previous
   container is restarted with them: a bad configuration does not take a running registry down.

One Differences tracker records all of it; diffs carry metadata only (fingerprints, user names, config.yml
with secret values masked), never key bytes, hashes or passwords.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
import urllib.error
import urllib.request

from ansible_collections.berth.registry.plugins.module_utils import _der_cert
from ansible_collections.berth.registry.plugins.module_utils._crypto_deps import BCRYPT_VERSION, require_bcrypt
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._docker_sdk import DOCKER_SDK_VERSION, create_client
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter, read_file
from ansible_collections.berth.registry.plugins.module_utils._frontend.host import FrontendPlan
from ansible_collections.berth.registry.plugins.module_utils._frontend.nginx import SITE_PATH, FrontendSpec
from ansible_collections.berth.registry.plugins.module_utils._frontend.service import NginxService
from ansible_collections.berth.registry.plugins.module_utils._htpasswd import decide
from ansible_collections.berth.registry.plugins.module_utils._htpasswd_file import HtpasswdPlan
from ansible_collections.berth.registry.plugins.module_utils._registry_container import host_files, image, probe
from ansible_collections.berth.registry.plugins.module_utils._registry_container.driver import ContainerDriver
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ImageError, NotAnswering
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import ContainerSpec
from ansible_collections.berth.registry.plugins.module_utils._registry_server import packages as host_packages
from ansible_collections.berth.registry.plugins.module_utils._registry_server.layout import Layout
from ansible_collections.berth.registry.plugins.module_utils._registry_server.redaction import redact_text

PENDING_HASH = 'pending'
PENDING = 'to be issued on the controller'


def _fingerprint(data):
    blocks = _der_cert.pem_blocks(data.decode('ascii', 'replace')) if data else []
    return 'sha256 %s' % _der_cert.short_fingerprint(_der_cert.fingerprint(blocks[0])) if blocks else 'no certificate'


CATALOG = '/v2/_catalog?n=1'


def storage_check(user=None, password=None, attempts=3, sleep=time.sleep):
    """A ContainerDriver ready_check: ``GET /v2/_catalog?n=1`` (as ``user`` when given) must answer 200.

    Distribution starts and answers ``/v2/`` whatever its storage says (a missing bucket, wrong S3 keys); listing
    the catalog reads the store, so the run fails at once with the store's error instead of later for clients.
    """
    headers = {}
    if user and password:
        token = base64.b64encode(('%s:%s' % (user, password)).encode('utf-8')).decode('ascii')
        headers['Authorization'] = 'Basic ' + token

    def check(spec, opener):
        url = probe.url(spec.probe) + CATALOG
        status, body = None, ''
        for attempt in range(attempts):
            if attempt:
                sleep(1)
            try:
                with opener.open(urllib.request.Request(url, headers=headers), timeout=15) as response:
                    status, body = response.status, response.read(2000)
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read(2000)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                status, body = None, str(getattr(exc, 'reason', exc))
            if status == 200:
                return None
            if status == 401:
                if not headers:
                    return None  # no password in this run to list it with: the probe's answer has to do
                return 'the registry refuses user %s: GET %s answered 401' % (user, CATALOG)
        text = body.decode('utf-8', 'replace') if isinstance(body, bytes) else body
        return ('it answers, but its storage does not: GET %s answered %s: %s'
                % (CATALOG, 'HTTP %d' % status if status else 'nothing', ' '.join(text.split())[:800]))
    return check


_ERR_DETAIL = re.compile(r'err\.detail="((?:[^"\\]|\\.)*)"')


def store_error(message):
    """The message with the storage driver's own error (the last ``err.detail`` of the registry's log lines) first."""
    details = _ERR_DETAIL.findall(message)
    if not details:
        return message
    detail = re.sub(r'\\[nt]', ' ', details[-1]).replace('\\"', '"').replace('\\\\', '\\')
    return 'the storage says: %s\n%s' % (' '.join(detail.split()), message)


def _digest(data):
    return 'sha256:%s (%d bytes)' % (hashlib.sha256(data).hexdigest()[:16], len(data))


class FileChange(object):
    """One file this run lays out: where, its mode, the bytes it should hold (None: pending), how a difference
    is shown (``pem``: certificate fingerprints, ``secret``: only that it changes, ``text``: a line diff)."""

    def __init__(self, label, path, mode, data, shown, text_after=None, restart=False):
        self.label, self.path, self.mode, self.data, self.shown = label, path, mode, data, shown
        self.text_after = text_after
        self.restart = restart
        self.current = None
        self.args = None
        self.write = False


class HostPlan(object):
    """One registry_host run. ``params``: the module's options (plain values)."""

    def __init__(self, params, module=None, check_mode=False, client_factory=None, status_path=None, service=None,
                 site_path=SITE_PATH):
        self.params = params
        self.module = module
        self.check_mode = check_mode
        self.writer = FileWriter(module)
        self.client_factory = client_factory or create_client
        self.status_path = status_path or host_packages.DPKG_STATUS
        self.layout = Layout(params.get('config_dir') or '/etc/docker/registry')
        self.differences = Differences()
        self.warnings = []
        self.files = []
        self.spec = None
        self.client = None
        self.new_directories = []
        self.container_result = {}
        self.service = service
        self.site_path = site_path
        self.frontend = None

    # --- the run --------------------------------------------------------------------------------
    def run(self, diff_mode=False):
        p = self.params
        missing = host_packages.missing(p.get('packages') or [], self.status_path)
        if missing and not self.check_mode:
            return {'changed': False, 'differences': [], 'missing_packages': missing,
                    'msg': 'missing on the registry host: %s' % ', '.join(missing)}
        for name in missing:
            self.differences.add('package %s' % name, None, 'present')
        self._check_inputs()
        self._plan_directories()
        self._plan_files()
        self._plan_frontend()
        sdk = DOCKER_SDK_VERSION is not None
        if sdk:
            self.client = self.client_factory(p.get('docker_host') or 'unix:///var/run/docker.sock', p.get('timeout') or 60)
            need = self._image_needs()
            if need:
                return {'changed': False, 'differences': [], 'needs_image_archive': True, 'msg': need}
        if self.check_mode:
            if not self._frontend_present():
                self._plan_users(bcrypt_missing=BCRYPT_VERSION is None)
            if sdk:
                self._run_container()
            else:
                self.differences.add('container', None, 'running')
        else:
            self._apply()
        return self.result(diff_mode, missing)

    def result(self, diff_mode, missing=()):
        users = [u['name'] for u in self.params.get('users') or [] if (u.get('state') or 'present') == 'present']
        summary = self.container_result.get('container') or {}
        container = {'name': self.spec.name, 'found': bool(summary), 'running': summary.get('status') == 'running',
                     'status': summary.get('status'), 'started_at': summary.get('started_at'),
                     'image': self.spec.image, 'image_id': summary.get('image_id'), 'id': summary.get('id')}
        return self.differences.result(
            diff_mode, header='registry host %s' % self.layout.config_dir, config_dir=self.layout.config_dir,
            container=container, users=users, missing_packages=list(missing),
            recreated=bool(self.container_result.get('recreated')),
            frontend=self.frontend.facts()['frontend'] if self.frontend is not None else None,
            image_pulled=bool(self.container_result.get('image_pulled')),
            image_loaded=bool(self.container_result.get('image_loaded')))

    # --- checks before anything is written ----------------------------------------------------
    def _check_inputs(self):
        p = self.params
        container = dict((k, v) for k, v in (p.get('container') or {}).items() if v is not None)
        container.update(config_dir=self.layout.config_dir, restart_files=[], state='started')
        if p.get('image_archive'):
            container['image_archive'] = p['image_archive']
        self.spec = ContainerSpec(**container)
        decide([], p.get('users') or [], bool(p.get('users_exclusive')))  # every name and password, no hashing
        tls = p.get('tls')
        if tls and not tls.get('pending'):
            for key in ('cert', 'key', 'ca'):
                if not tls.get(key):
                    raise BerthError('tls.%s: required unless tls.pending' % key)
        if tls and tls.get('pending') and not self.check_mode:
            raise BerthError('tls.pending: only check mode may leave the TLS pair to be issued')

    def _image_needs(self):
        """Why the image archive must be sent first ('' when it need not); an ImageError when the image can be
        neither found nor pulled. Read-only."""
        p, spec = self.params, self.spec
        reference = image.image_reference(spec.image)
        local = image.inspect_image(self.client, reference)
        archive_id = p.get('image_archive_id')
        if archive_id is not None:  # the controller holds an archive ('' when its image ID is unknown)
            if spec.image_archive:
                return ''
            local_id = (local or {}).get('Id')
            if local is None or (spec.pull == 'always' and archive_id and archive_id != local_id):
                return 'image %s: the archive is needed (%s)' % (
                    reference, 'not on this host' if local is None else 'another image is loaded')
            spec.pull = 'never'  # the loaded image is the archive's: never pull over it
            return ''
        if local is None and spec.pull == 'never' and not spec.image_archive:
            raise ImageError('image %s is not on this host and pull=never (give image_archive or allow pulling); '
                             'nothing was changed' % reference)
        return ''

    # --- directories and files ------------------------------------------------------------------
    def _relative(self, path):
        return os.path.relpath(path, self.layout.config_dir) if path != self.layout.config_dir else '.'

    def _plan_directories(self):
        self.new_directories = []
        for path, mode in self.layout.directories():
            label = 'directory %s' % (path if path == self.layout.config_dir else self._relative(path))
            if os.path.isdir(path):
                self.writer.record_attributes(self.differences, label, self.writer.attrs(path, mode))
            elif os.path.lexists(path):
                raise BerthError('%s exists and is not a directory' % path)
            else:
                self.new_directories.append(path)
                self.differences.add(label, None, 'directory')

    def _plan_files(self):
        p, layout = self.params, self.layout
        tls = p.get('tls')
        files = []
        if tls:
            pending = bool(tls.get('pending'))
            restart = not p.get('frontend')  # behind the front end nginx reads the pair (a reload), not the registry
            files.append(FileChange('ssl/registry.key', layout.path('tls_key'), layout.mode('tls_key'),
                                    None if pending else tls['key'].encode('utf-8'), 'secret', restart=restart))
            files.append(FileChange('ssl/registry.crt', layout.path('tls_cert'), layout.mode('tls_cert'),
                                    None if pending else tls['cert'].encode('utf-8'), 'pem', restart=restart))
            files.append(FileChange('ssl/ca.crt', layout.path('ca_cert'), layout.mode('ca_cert'),
                                    None if pending else tls['ca'].encode('utf-8'), 'pem'))
        config = p['config'].encode('utf-8')
        files.append(FileChange('config.yml', layout.path('config'), layout.mode('config'), config, 'text',
                                text_after=p.get('config_shown') or redact_text(p['config']), restart=True))
        for index, extra in enumerate(p.get('extra_files') or []):
            option = 'extra_files[%d]' % index
            path = layout.extra_path(extra.get('path'), option)
            data = (extra.get('content') or '').encode('utf-8')
            files.append(FileChange(extra['path'], path, extra.get('mode') or '0644', data,
                                    'secret' if extra.get('secret') else 'digest', restart=bool(extra.get('restart'))))
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise BerthError('extra_files: a path is given twice')
        for change in files:
            change.args = self.writer.attrs(change.path, change.mode)
            change.current = read_file(change.path, change.label)
            if change.current is not None and change.current == change.data:
                self.writer.record_attributes(self.differences, change.label, change.args)
                continue
            change.write = change.data is not None
            self._record(change)
        self.files = files

    def _record(self, change):
        before, after = change.current, change.data
        if change.shown == 'secret':
            self.differences.add(change.label, None if before is None else 'present',
                                 PENDING if after is None else 'present', secret=after is not None)
        elif change.shown == 'pem':
            self.differences.add(change.label, None if before is None else _fingerprint(before),
                                 PENDING if after is None else _fingerprint(after))
        elif change.shown == 'digest':
            self.differences.add(change.label, None if before is None else _digest(before), _digest(after))
        else:
            shown_before = None
            if before is not None:
                text = before.decode('utf-8', 'replace')
                shown_before = redact_text(text) if change.label == 'config.yml' else text
            self.differences.add(change.label, shown_before, change.text_after, text=True)

    # --- the nginx front end (pull-only users, mutual TLS) ---------------------------------------
    def _plan_frontend(self):
        """FrontendPlan present when the action sends ``frontend``; absent when it does not and our site is there."""
        option = self.params.get('frontend')
        if not option and not os.path.lexists(self.site_path):
            return
        directory = os.path.join(self.layout.config_dir, 'frontend')
        spec, client_ca, crl = None, None, None
        if option:
            mutual = option.get('client_ca') is not None
            spec = FrontendSpec(option['port'], option['server_names'], self.layout.path('tls_cert'),
                                self.layout.path('tls_key'), os.path.join(directory, 'users.htpasswd'),
                                os.path.join(directory, 'push.htpasswd'), option['upstream_port'],
                                client_ca=os.path.join(directory, 'client-ca.crt') if mutual else None,
                                crl=os.path.join(directory, 'crl.pem') if mutual else None,
                                ipv6=os.path.exists('/proc/net/if_inet6'), realm=option.get('realm'))
            if mutual:
                client_ca, crl = option['client_ca'].encode('utf-8'), option['crl'].encode('utf-8')
        if self.service is None:
            self.service = NginxService(self.module.run_command, self.module.get_bin_path)
        tls_changed = any(f.write or f.data is None for f in self.files if f.label in ('ssl/registry.key', 'ssl/registry.crt'))
        self.frontend = FrontendPlan(spec, users=self.params.get('users') or [], client_ca=client_ca, crl=crl,
                                     crl_summary=(option or {}).get('crl_summary'), present=bool(option),
                                     tls_changed=tls_changed, site_path=self.site_path, directory=directory,
                                     cost=self.params.get('htpasswd_cost') or 10, writer=self.writer,
                                     service=self.service, check_mode=self.check_mode)
        if not option or self.check_mode or BCRYPT_VERSION is not None:
            self.frontend.plan(self.differences)
        else:  # a real run without bcrypt yet: planned again once the action installed it (never reached)
            require_bcrypt()

    def restart_hash(self):
        """The content hash of what the registry reads at start, from the desired bytes (None: none listed)."""
        restart = [f for f in self.files if f.restart]
        if any(f.data is None for f in restart):
            return PENDING_HASH
        return host_files.contents_hash(dict((f.path, f.data) for f in restart))

    # --- users --------------------------------------------------------------------------------
    def _htpasswd_plan(self):
        p = self.params
        return HtpasswdPlan(self.layout.path('htpasswd'), users=p.get('users') or [],
                            exclusive=bool(p.get('users_exclusive')), cost=p.get('htpasswd_cost') or 10, mode='0640',
                            writer=self.writer, check_mode=self.check_mode)

    def _plan_users(self, bcrypt_missing=False):
        path = self.layout.path('htpasswd')
        if bcrypt_missing and os.path.exists(path):
            self.differences.add('htpasswd', 'not compared (bcrypt is not installed yet)', 'users: %s' % ', '.join(
                u['name'] for u in self.params.get('users') or []))
            return None
        plan = self._htpasswd_plan()
        plan.plan()
        self.differences.extend(plan.differences, 'htpasswd: ')
        if os.path.isdir(os.path.dirname(path)):
            self.warnings.extend(plan.warnings)
        return plan

    # --- acting ---------------------------------------------------------------------------------
    def _apply(self):
        for path, mode in self.layout.directories():
            self.writer.ensure_directory(path, mode)
        if self.params.get('users') or os.path.exists(self.layout.path('htpasswd')):
            require_bcrypt()
        if not self._frontend_present():  # with the front end nginx checks the users, the registry none
            self._plan_users().apply()
        tls = [f for f in self.files if f.label in ('ssl/registry.key', 'ssl/registry.crt')]
        if any(f.write for f in tls):
            self.writer.write_together([(f.args, f.data) for f in tls])  # key first: the list's order
        for change in self.files:
            if change in tls:
                if not change.write and change.current is not None:
                    self.writer.apply_attributes(change.args)
                continue
            if change.write:
                for parent in self._missing_parents(change.path):
                    self.writer.ensure_directory(parent, 0o755)
                self.writer.write(change.args, change.data)
            elif change.current is not None:
                self.writer.apply_attributes(change.args)
        if self.frontend is not None and not self.frontend.present:
            self.frontend.apply()  # switched off: nginx leaves the registry port before the registry takes it
        try:
            self._run_container()
        except NotAnswering as exc:
            raise NotAnswering(self._restore(store_error(str(exc))), **exc.result)
        if self._frontend_present():
            self.frontend.apply()  # switched on: the registry left the port for nginx

    def _frontend_present(self):
        return self.frontend is not None and self.frontend.present

    def _missing_parents(self, path):
        parents, parent = [], os.path.dirname(path)
        while parent != self.layout.config_dir and not os.path.isdir(parent):
            parents.insert(0, parent)
            parent = os.path.dirname(parent)
        return parents

    def _run_container(self):
        user = next((u for u in self.params.get('users') or [] if u.get('password')
                     and (u.get('state') or 'present') == 'present'), {})
        driver = ContainerDriver(self.client, check_mode=self.check_mode, files=self.writer,
                                 ready_check=storage_check(user.get('name'), user.get('password')))
        try:
            found, self.container_result = driver.run(self.spec, files_hash=self.restart_hash())
        finally:
            pending_dirs = bool(self.new_directories) and self.check_mode
            self.warnings.extend(w for w in driver.warnings if not (pending_dirs and 'does not exist (yet)' in w))
        for item in found.as_list():
            field = item['field'] if item['field'] == 'container' else 'container ' + item['field']
            self.differences.add(field, item['before'], item['after'])

    def _restore(self, message):
        """After a new container that does not answer: the restart files back as they were, the previous
        container restarted with them. Returns the message with what was done."""
        restored = [f for f in self.files if f.restart and f.write and f.current is not None]
        if not restored:
            return message
        try:
            tls = [f for f in restored if f.label.startswith('ssl/')]
            if tls:
                self.writer.write_together([(f.args, f.current) for f in sorted(tls, key=lambda f: f.label != 'ssl/registry.key')])
            for change in restored:
                if change not in tls:
                    self.writer.write(change.args, change.current)
            self.client.restart(self.spec.name, timeout=10)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            return '%s\nputting the previous %s back failed: %s' % (message, ', '.join(f.label for f in restored), exc)
        return ('%s\n%s were put back as they were and the previous container %s restarted with them: it serves as '
                'before this run' % (message, ', '.join(f.label for f in restored), self.spec.name))


def run_module_body(module):
    """The registry_host module's body (inside _errors.run_module): the plan's result, its warnings as module warnings."""
    plan = HostPlan(module.params, module=module, check_mode=module.check_mode)
    try:
        return plan.run(module._diff)
    finally:
        for warning in plan.warnings:
            module.warn(warning)
