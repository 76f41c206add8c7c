# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ServerRequest: the registry_server action's work on the controller, without Ansible's plumbing.

From the action's validated options: the checks that need no host (a plain-HTTP registry without users is a
choice the user states; ports; metrics address), the PKI or the bring-your-own check, the shared http.secret,
config.yml built and rendered (plus its redacted rendering), extra files read, the container described -
and then the registry_host module's arguments. ``combine()`` merges the host's result into one result whose
``differences`` are the controller's plus the host's. The action plugin only runs modules and moves files.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import read_file
from ansible_collections.berth.registry.plugins.module_utils._frontend.rights import frontend_needed
from ansible_collections.berth.registry.plugins.module_utils._htpasswd import check_cost, decide
from ansible_collections.berth.registry.plugins.module_utils._names import check_text, ip_address
from ansible_collections.berth.registry.plugins.module_utils._pki.clients import ClientFleet
from ansible_collections.berth.registry.plugins.module_utils._registry_container.image import archive_image_id
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import ContainerSpec
from ansible_collections.berth.registry.plugins.module_utils._registry_server import config as config_yml
from ansible_collections.berth.registry.plugins.module_utils._registry_server import pki, storage as storage_section
from ansible_collections.berth.registry.plugins.module_utils._registry_server.layout import Layout
from ansible_collections.berth.registry.plugins.module_utils._registry_server.options import FRONTEND_PACKAGE
from ansible_collections.berth.registry.plugins.module_utils._registry_server.packages import check_names

PENDING_SECRET = 'pending-http-secret-to-be-generated'  # only rendered in check mode, never written
CLIENTS_DIR = 'clients'  # <pki_dir>/clients: the client certificates and the CRL (mutual TLS)
PENDING_PEM = 'pending: to be issued on the controller'  # check mode before the CA exists; never written


class ServerError(BerthError):
    """An input the server refuses before touching the controller's PKI or the host."""


def image_reference(image):
    """'registry' -> 'registry:latest' (what ``docker save`` records in RepoTags); tagged or digest names as given."""
    if '@' in image or ':' in image.rsplit('/', 1)[-1]:
        return image
    return image + ':latest'


def parse_address(value, option):
    """(bind address, port) of 'ADDRESS:PORT', '[IPv6]:PORT' or ':PORT' (all addresses)."""
    text = check_text(value, option)
    host, sep, port = text.rpartition(':')
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ServerError('%s: %r is not ADDRESS:PORT (e.g. 127.0.0.1:5001, [::1]:5001, or :5001 for every address)'
                          % (option, value))
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    host = ip_address(host, option) if host else '0.0.0.0'
    return host, int(port)


def present_users(users):
    return [u for u in users or [] if (u.get('state') or 'present') == 'present']


class ServerRequest(object):
    """One registry_server run on the controller. ``args``: the action's validated options."""

    def __init__(self, args, check_mode=False):
        self.args = args
        self.check_mode = check_mode
        self.differences = Differences()
        self.warnings = []
        self.tls = None
        self.facts = {'ca': None, 'certificate': None}
        self.config = None
        self.secret_values = []
        self.layout = Layout(args['config_dir'])
        self.extra_files = []
        self.archive_id = None
        self.clients = None
        self._check()

    # --- checks that need nothing but the options ----------------------------------------------
    def _check(self):
        a = self.args
        if a['tls_files'] and not a['tls']:
            raise ServerError('tls_files: given, but tls is false (plain HTTP): turn TLS on or leave the files out')
        self.port = a['port'] if a['port'] is not None else (443 if a['tls'] else 5000)
        if not 1 <= self.port <= 65535:
            raise ServerError('port: %r must be 1..65535' % self.port)
        self.bind_address = '0.0.0.0' if a['bind_address'] in ('', None) else ip_address(a['bind_address'], 'bind_address')
        self.metrics = None
        if a['metrics_address']:
            self.metrics = parse_address(a['metrics_address'], 'metrics_address')
            if self.metrics[1] == self.port:
                raise ServerError('metrics_address: port %d is the registry\'s own port; choose another' % self.port)
        self.users = present_users(a['users'])
        if not self.users and not a['allow_anonymous_push']:
            raise ServerError(
                'no users: anyone who reaches the registry on port %d could push, overwrite and delete images%s. Give '
                'users, or set allow_anonymous_push: true (registry_allow_anonymous_push in the server role) to choose '
                'that' % (self.port, ', unencrypted (no TLS, no authentication)' if not a['tls'] else ''))
        if not self.users:
            self.warnings.append('%s: anyone who reaches port %d can push, overwrite and delete images '
                                 '(allow_anonymous_push)' % ('no TLS, no authentication' if not a['tls']
                                                             else 'no authentication', self.port))
        elif not a['tls']:
            self.warnings.append('no TLS: passwords and images cross the network unencrypted on port %d' % self.port)
        self._check_frontend()
        check_names(a['packages'])
        container = a['container']
        if container['start_timeout'] is not None and not 1 <= container['start_timeout'] <= 3600:
            raise ServerError('container.start_timeout: %r must be 1..3600 seconds' % container['start_timeout'])
        self.driver, dummy = storage_section.validate(config_yml.plain(a['storage'], 'storage'))
        self.warnings.extend(storage_section.image_warnings(self.driver, dummy[self.driver], container['image']))

    def _check_frontend(self):
        """Pull-only users or mutual TLS put nginx in front of the registry, which then listens on 127.0.0.1 only."""
        a = self.args
        self.mutual_tls = bool(a['client_certificates']['enabled'])
        self.frontend = frontend_needed(self.users, self.mutual_tls)
        self.upstream_port = None
        if not self.frontend:
            return
        why = ('client_certificates.enabled (registry_client_certificates)' if self.mutual_tls
               else 'users with access: pull (%s)' % ', '.join(u['name'] for u in self.users if u.get('access') == 'pull'))
        if not a['tls']:
            raise ServerError('%s needs tls (registry_tls): the nginx front end that enforces it terminates TLS' % why)
        if self.mutual_tls and a['tls_files']:
            raise ServerError('client_certificates.enabled (registry_client_certificates) needs our own CA (it signs the '
                              'clients\' certificates), not tls_files (bring-your-own TLS: registry_tls_cert_file)')
        if not self.users:
            raise ServerError('%s needs users: the front end asks every client for a user name and password' % why)
        port = a['frontend_upstream_port']
        if port is None or not 1 <= port <= 65535 or port == self.port:
            raise ServerError('frontend_upstream_port (registry_frontend_upstream_port): %r must be 1..65535 and not the '
                              'registry port %d (nginx listens there; the registry on 127.0.0.1:frontend_upstream_port)'
                              % (port, self.port))
        if self.metrics and self.metrics[1] == port:
            raise ServerError('metrics_address: port %d is frontend_upstream_port; choose another' % port)
        self.upstream_port = port

    # --- the controller's part --------------------------------------------------------------------
    def prepare(self):
        """Everything checked first (the options, config.yml's sections, the users, the container, the extra files,
        bring-your-own files, the image archive) - then the PKI, http.secret and config.yml. Returns self."""
        a = self.args
        sections = a['config']
        if self.frontend:  # nginx terminates TLS and checks the users; the registry serves plain HTTP on loopback
            sections = dict(sections or {})
            sections['http'] = dict((k, v) for k, v in (sections.get('http') or {}).items() if k != 'tls')
        request = config_yml.ConfigRequest(
            self.layout, self.upstream_port or self.port, tls=bool(a['tls']) and not self.frontend,
            htpasswd=bool(self.users) and not self.frontend, realm=a['auth_realm'],
            http_secret=a['http_secret'] or None, storage=a['storage'], storage_delete=a['storage_delete'],
            storage_redirect=a['storage_redirect'], metrics_port=self.metrics[1] if self.metrics else None,
            sections=sections)
        decide([], a['users'], bool(a['users_exclusive']))
        check_cost(a['htpasswd_cost'], 'htpasswd_cost')
        ContainerSpec(**dict(self.container(), config_dir=self.layout.config_dir))
        self.extra_files = [self._extra_file(i, f) for i, f in enumerate(a['extra_files'])]
        self.archive_id = self.image_archive_id()
        own = None
        if a['tls'] and a['tls_files']:
            files = a['tls_files']
            self.tls = pki.byo_tls(files['cert'], files['key'], files['ca'])
        elif a['tls']:
            own = pki.OwnPKI(a['pki_dir'], a['ca'], self._certificate(), self.check_mode)
        exists = pki.ensure_pki_dir(a['pki_dir'], self.check_mode, self.differences)
        with pki.locked(a['pki_dir'], exists):
            if own is not None:
                self.tls = own.run(exists)
                if self.mutual_tls:
                    self.clients = self._client_fleet(own, exists)
            secret, found = a['http_secret'], None
            if not secret:
                secret, found = pki.http_secret(a['pki_dir'], self.check_mode, exists)
        if self.tls is not None:
            self.differences.extend(self.tls.differences)
        if found is not None:
            self.differences.extend(found)
        if self.clients is not None:
            self.differences.extend(self.clients.differences)
            self.warnings.extend(self.clients.warnings)
        if self.tls is not None:
            self.warnings.extend(self.tls.warnings)
            self.facts = self.tls.facts
            self.secret_values.extend(self.tls.secrets())
        if a['ca'].get('passphrase'):
            self.secret_values.append(a['ca']['passphrase'])
        request.http_secret = secret or PENDING_SECRET
        self.config = request.build()
        self.config_text = config_yml.render(self.config)
        self.config_shown = config_yml.render_redacted(self.config)
        self.secret_values.extend(request.secrets())
        self.secret_values.extend(u['password'] for u in a['users'] if u.get('password'))
        self.secret_values.extend(str(v) for v in (a['container']['secret_env'] or {}).values() if v)
        return self

    def _client_fleet(self, own, exists):
        """The client certificates of the enrolled nodes and the CRL of those that left (under the PKI lock); None
        in check mode while the CA itself is still to be made."""
        c = self.args['client_certificates']
        if not exists or not os.path.exists(own.ca_path):
            self.differences.add('client certificates', None, 'issued for %s' % (', '.join(c['nodes']) or 'no node'))
            return None
        fleet = ClientFleet(os.path.join(self.args['pki_dir'], CLIENTS_DIR), c['nodes'], own.ca_path, own.ca_key,
                            self.args['ca'].get('passphrase') or None, key_type=c['key_type'],
                            validity_days=c['validity_days'], renew_before_days=c['renew_before_days'],
                            check_mode=self.check_mode)
        fleet.plan()
        fleet.apply()
        return fleet

    def frontend_option(self):
        """The registry_host module's ``frontend`` option (None: no front end)."""
        if not self.frontend:
            return None
        certificate = self.args['certificate']
        names = list(certificate.get('dns_names') or []) + list(certificate.get('ip_addresses') or [])
        option = dict(port=self.port, upstream_port=self.upstream_port, server_names=names or ['localhost'],
                      realm=self.args['auth_realm'])
        if self.mutual_tls:
            fleet = self.clients
            crl = fleet.crl_bytes if fleet is not None else None
            ca = self.tls.ca if self.tls is not None else None
            summary = None
            if fleet is not None:
                revoked = ['%s (serial %s)' % (e['node'], e['serial']) for e in fleet.result(False)['revoked']]
                summary = 'revoked: %s' % (', '.join(revoked) or 'none')
            option.update(client_ca=ca.decode('utf-8', 'replace') if ca else PENDING_PEM,
                          crl=crl.decode('utf-8', 'replace') if crl else PENDING_PEM, crl_summary=summary)
        return option

    def packages(self):
        """The Debian packages the host needs: the action's, plus nginx with the front end."""
        packages = list(self.args['packages'])
        if self.frontend and FRONTEND_PACKAGE not in packages:
            packages.append(FRONTEND_PACKAGE)
        return packages

    def _certificate(self):
        certificate = dict(self.args['certificate'])
        if not certificate.get('dns_names') and not certificate.get('ip_addresses'):
            raise ServerError('certificate: give dns_names or ip_addresses (what clients type to reach the registry)')
        return certificate

    def _extra_file(self, index, item):
        option = 'extra_files[%d]' % index
        self.layout.extra_path(item['path'], option)
        if (item['content'] is None) == (item['src'] is None):
            raise ServerError('%s: give content or src (a controller file), one of them' % option)
        content = item['content']
        if item['src'] is not None:
            data = read_file(item['src'], option + '.src')
            if data is None:
                raise ServerError('%s.src: %s does not exist on the controller' % (option, item['src']))
            try:
                content = data.decode('utf-8')
            except UnicodeDecodeError:
                raise ServerError('%s.src: %s is not UTF-8 text' % (option, item['src']))
        if item['secret']:
            self.secret_values.append(content)
        return {'path': item['path'], 'content': content, 'mode': item['mode'], 'restart': item['restart'],
                'secret': item['secret']}

    # --- what the host gets -----------------------------------------------------------------------
    def container(self):
        a, c = self.args, self.args['container']
        if self.frontend:  # only nginx on this host reaches it
            ports = [{'host_port': self.upstream_port, 'container_port': self.upstream_port, 'bind_address': '127.0.0.1'}]
        else:
            ports = [{'host_port': self.port, 'container_port': self.port, 'bind_address': self.bind_address}]
        if self.metrics:
            ports.append({'host_port': self.metrics[1], 'container_port': self.metrics[1], 'bind_address': self.metrics[0]})
        spec = dict(name=c['name'], image=c['image'], pull=c['pull'], ports=ports, restart_policy=c['restart_policy'],
                    data_dir=c['data_dir'], data_dir_mode=c['data_dir_mode'], env=c['env'], secret_env=c['secret_env'],
                    labels=c['labels'],
                    probe={'scheme': 'https' if a['tls'] and not self.frontend else 'http', 'timeout': c['start_timeout']})
        if c['command'] is not None:
            spec['command'] = c['command']
        return spec

    def image_archive_id(self):
        """The archive's image ID ('' when it cannot be read here), None without an archive."""
        path = self.args['image_archive']
        if not path:
            return None
        if not os.path.isfile(path):
            raise ServerError('image_archive: %s is not a file on the controller' % path)
        return archive_image_id(path, image_reference(self.args['container']['image'])) or ''

    def host_args(self, image_archive=None):
        """The registry_host module's arguments (secrets in its no_log options)."""
        a = self.args
        args = dict(config_dir=self.layout.config_dir, config=self.config_text, config_shown=self.config_shown,
                    tls=self.tls.host_option() if self.tls is not None else None,
                    users=a['users'], users_exclusive=a['users_exclusive'], htpasswd_cost=a['htpasswd_cost'],
                    container=self.container(), extra_files=self.extra_files,
                    packages=self.packages(), secrets=sorted(set(v for v in self.secret_values if v)),
                    docker_host=a['docker_host'], timeout=a['timeout'], frontend=self.frontend_option())
        archive_id = self.archive_id
        if archive_id is not None:
            args['image_archive_id'] = archive_id
        if image_archive:
            args['image_archive'] = image_archive
        return args

    # --- one result ---------------------------------------------------------------------------
    def combine(self, host, diff_mode, installed=()):
        """The action's result: the controller's differences, then the host's; changed from both."""
        differences = Differences().extend(self.differences)
        for name in installed:
            differences.add('package %s' % name, None, 'present')
        for item in host.get('differences') or []:
            differences.add(item['field'], item['before'], item['after'])
        result = differences.result(False)
        result.update(
            ca=self.facts.get('ca'), certificate=self.facts.get('certificate'),
            ca_rollover_phase=self.facts.get('rollover_phase'),
            users=host.get('users', [u['name'] for u in self.users]), container=host.get('container'),
            config_dir=self.layout.config_dir, storage_driver=self.driver, port=self.port,
            metrics_url='http://%s:%d/metrics' % (_url_host(self.metrics[0]), self.metrics[1]) if self.metrics else None,
            installed_packages=list(installed), missing_packages=host.get('missing_packages') or [],
            recreated=bool(host.get('recreated')), frontend=host.get('frontend'),
            client_certificates=self.clients.certificates() if self.clients is not None else None)
        if diff_mode and result['changed']:
            diffs = []
            if self.differences:
                own = self.differences.diff(header='controller %s' % self.args['pki_dir'])
                diffs.extend(own if isinstance(own, list) else [own])
            if installed:
                diffs.append({'before': {}, 'after': dict(('package %s' % n, 'present') for n in installed),
                              'before_header': 'packages', 'after_header': 'packages'})
            theirs = host.get('diff')
            if theirs:
                diffs.extend(theirs if isinstance(theirs, list) else [theirs])
            result['diff'] = diffs
        return result


def _url_host(address):
    if address in ('0.0.0.0', '::'):
        return '127.0.0.1'
    return '[%s]' % address if ':' in address else address
