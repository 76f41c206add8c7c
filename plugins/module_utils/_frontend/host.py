# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""FrontendPlan: the front end on the registry host, a part of the registry host's one module run.

present: the front end's directory (0750, group of nginx's workers), the two htpasswd files (rights.py; bcrypt
``$2y$``, compared by checkpw, 0640), the client CA and the CRL (mutual TLS), the nginx site
(/etc/nginx/conf.d/berth-registry.conf); then ``nginx -t`` (a failing site is put back as it was and nothing is
reloaded), nginx enabled at boot and started when it is not running, or reloaded gracefully when something it
reads at (re)load changed: the site, the client CA, the CRL, or the TLS pair (``tls_changed``, known to the caller).
htpasswd files are read by nginx on every request: a new or removed user needs no reload. Never a restart.

absent: the site and the front end's files go, nginx (still serving whatever else it serves) is reloaded.

The caller orders it around the registry container: switching the front end on, the container first (it leaves
the registry port for 127.0.0.1), then ``apply()``; switching it off, ``apply()`` first (the port is free again).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import hashlib
import os

from ansible_collections.berth.registry.plugins.module_utils._certs_d import fingerprints
from ansible_collections.berth.registry.plugins.module_utils._client.base import PlannedFile
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import read_file
from ansible_collections.berth.registry.plugins.module_utils._frontend.nginx import SITE_PATH, render
from ansible_collections.berth.registry.plugins.module_utils._frontend.rights import split_users
from ansible_collections.berth.registry.plugins.module_utils._htpasswd_file import HtpasswdPlan

NGINX_GROUP = 'www-data'  # Debian's nginx workers (``user www-data;``)
# the files of the front end's directory (the spec's paths are these, under ``directory``)
FILES = ('users.htpasswd', 'push.htpasswd', 'client-ca.crt', 'crl.pem')


def digest(data):
    return 'sha256:%s (%d bytes)' % (hashlib.sha256(data).hexdigest()[:16], len(data))


class FrontendPlan(object):
    """One run of the front end. ``spec``: nginx.FrontendSpec (its paths are where the files go); ``users``: the
    registry's users with ``access``; ``client_ca``/``crl``: PEM bytes for mutual TLS (both or neither, as the
    spec says); ``crl_summary``: how the CRL is shown (else a digest); ``service``: service.NginxService."""

    def __init__(self, spec, users=(), client_ca=None, crl=None, crl_summary=None, present=True, tls_changed=False,
                 site_path=SITE_PATH, directory=None, group=NGINX_GROUP, cost=10, writer=None, service=None,
                 check_mode=False):
        self.spec = spec
        self.users = list(users or [])
        self.everyone, self.push = split_users(self.users)
        if present and spec.mutual_tls and (client_ca is None or crl is None):
            raise BerthError('client_ca and crl: mutual TLS needs the CA certificate(s) that sign the clients and the '
                             'CRL')
        self.client_ca, self.crl, self.crl_summary = client_ca, crl, crl_summary
        self.present = present
        self.tls_changed = tls_changed
        self.site_path = site_path
        self.directory = directory or os.path.dirname(spec.users_file)
        self.group = group
        self.cost = cost
        self.writer = writer
        self.service = service
        self.check_mode = check_mode
        self.differences = Differences()
        self.warnings = []
        self.files = []         # PlannedFile of the site, client CA, CRL
        self.htpasswd = []      # HtpasswdPlan of users and push users
        self.removals = []      # paths that go (absent)
        self.new_directory = False
        self.start = self.enable = self.reload = False
        self.site = None

    # --- plan -----------------------------------------------------------------------------
    def plan(self, tracker=None):
        """Read-only: record every difference (into ``tracker`` too, fields prefixed ``frontend``)."""
        if self.present:
            self._plan_present()
        else:
            self._plan_absent()
        if tracker is not None:
            tracker.extend(self.differences, 'frontend ')
        return self.differences

    def _plan_present(self):
        installed = self.service.binary is not None
        if not installed and not self.check_mode:
            raise BerthError('nginx is not installed on the registry host (the front end needs the Debian package '
                             'nginx)')
        self._plan_directory()
        for label, path, users in (('users', self.spec.users_file, self.everyone),
                                   ('push users', self.spec.push_file, self.push)):
            plan = self._htpasswd_plan(path, users, check_only=self.new_directory)
            plan.plan()
            self.differences.extend(plan.differences, '%s: ' % label)
            self.htpasswd.append(plan)
        self.site = render(self.spec)
        site = self._file(self.site_path, 'site')
        site.plan(self.differences, 'site %s' % self.site_path, self.site.encode('utf-8'),
                  None if site.current is None else site.current.decode('utf-8', 'replace'), self.site, text=True)
        if self.spec.mutual_tls:
            ca = self._file(self.spec.client_ca, 'client_ca')
            ca.plan(self.differences, 'client CA %s' % self.spec.client_ca, self.client_ca,
                    fingerprints(ca.current), fingerprints(self.client_ca))
            crl = self._file(self.spec.crl, 'crl')
            crl.plan(self.differences, 'CRL %s' % self.spec.crl, self.crl,
                     None if crl.current is None else digest(crl.current), self.crl_summary or digest(self.crl))
        # files of this directory the spec no longer names (mutual TLS switched off) go
        used = [self.spec.users_file, self.spec.push_file, self.spec.client_ca, self.spec.crl]
        self._plan_removals([os.path.join(self.directory, name) for name in FILES
                             if os.path.join(self.directory, name) not in used])
        running = installed and self.service.running()
        if not installed or not self.service.enabled():
            self.enable = True
            self.differences.add('nginx enabled at boot', False, True)
        if not running:
            self.start = True
            self.differences.add('nginx', 'not installed' if not installed else 'stopped', 'running')
        elif self.tls_changed or any(f.data is not None for f in self.files):
            self.reload = True
            self.differences.add('nginx', 'running', 'reloaded (%s)' % ', '.join(self._reasons()))

    def _reasons(self):
        reasons = [os.path.basename(f.path) for f in self.files if f.data is not None]
        return reasons + (['TLS pair'] if self.tls_changed else [])

    def _plan_directory(self):
        path = self.directory
        args = self.writer.attrs(path, 0o750, group=self.group)
        if os.path.isdir(path):
            self.writer.record_attributes(self.differences, 'directory %s' % path, args)
        elif os.path.lexists(path):
            raise BerthError('%s exists and is not a directory' % path)
        else:
            self.new_directory = True
            self.differences.add('directory %s' % path, None, 'directory')

    def _htpasswd_plan(self, path, users, check_only=False):
        # a missing directory (first run) is planned as check mode would; apply() plans again once it exists
        return HtpasswdPlan(path, users=users, exclusive=True, cost=self.cost, mode='0640', group=self.group,
                            writer=self.writer, check_mode=self.check_mode or check_only)

    def _file(self, path, option):
        planned = PlannedFile(self.writer, path, option, mode=0o644, dir_mode=0o755)
        self.files.append(planned)
        return planned

    def _plan_absent(self):
        self._plan_removals([self.site_path] + [os.path.join(self.directory, name) for name in FILES])
        if self.site_path in self.removals and self.service.binary is not None and self.service.running():
            self.reload = True
            self.differences.add('nginx', 'running', 'reloaded (site removed)')

    def _plan_removals(self, paths):
        for path in paths:
            if read_file(path, 'frontend') is not None:
                self.removals.append(path)
                self.differences.add('%s %s' % ('site' if path == self.site_path else 'file', path), 'present', None)

    # --- apply ----------------------------------------------------------------------------
    def apply(self):
        """Write, validate, start or reload (nothing in check mode or when nothing differs)."""
        if self.check_mode or not self.differences:
            return self
        if not self.present:
            for path in self.removals:
                os.unlink(path)
            if self.reload:
                self.service.reload()
            return self
        self.writer.ensure_directory(self.directory, 0o750, group=self.group)
        for path in self.removals:
            os.unlink(path)
        for index, plan in enumerate(self.htpasswd):
            if self.new_directory:
                plan = self.htpasswd[index] = self._htpasswd_plan(plan.path, plan.users)
                plan.plan()
            plan.apply()
        site = self.files[0]
        for planned in self.files[1:] + [site]:  # the site last: it names the others
            planned.apply()
        if site.data is not None:
            ok, said = self.service.test()
            if not ok:
                self._put_back(site)
                raise BerthError('nginx -t refused the front end\'s site %s, which was put back as it was (nginx was '
                                 'not reloaded): %s' % (self.site_path, said))
        if self.enable:
            self.service.enable()
        if self.start:
            self.service.start()
        elif self.reload:
            self.service.reload()
        return self

    def _put_back(self, site):
        if site.current is None:
            os.unlink(self.site_path)
        else:
            self.writer.write(site.args, site.current)

    def facts(self):
        return {'frontend': {'present': self.present, 'site': self.site_path,
                             'users': [u['name'] for u in self.everyone if (u.get('state') or 'present') == 'present'],
                             'push_users': [u['name'] for u in self.push if (u.get('state') or 'present') == 'present'],
                             'mutual_tls': bool(self.spec and self.spec.mutual_tls),
                             'reloaded': self.reload and not self.check_mode, 'started': self.start and not self.check_mode}}
