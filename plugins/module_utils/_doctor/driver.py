# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The doctor's walk for one host: per runtime, the steps of a pull in order, stopping at the first failure.

Shared observations (name, TCP, what the port speaks, the certificate, GET /v2/) are made once and
reused by every runtime; per-runtime ones (the chain with that runtime's CAs, its stored credentials)
once per distinct input. Read-only: no file is written, no engine or runtime is changed.
"""

from __future__ import annotations

import datetime
import os
import platform

from ansible_collections.berth.registry.plugins.module_utils import _names
from ansible_collections.berth.registry.plugins.module_utils._certs_d import dir_names
from ansible_collections.berth.registry.plugins.module_utils._client.client_pair import CERT_FILE, KEY_FILE
from ansible_collections.berth.registry.plugins.module_utils._der_cert import (
    CertificateError, der_to_pem, parse_certificate, pem_blocks, summary,
)
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._docker_engine import EngineClient
from ansible_collections.berth.registry.plugins.module_utils._doctor import probe, runtimes, steps
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

RUNTIMES = ('docker', 'containerd', 'containers')
CREDENTIALS_TIMEOUT = 30.0
SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/bin']


def argument_spec():
    d = runtimes.DEFAULTS
    return dict(
        registry=dict(type='str', required=True),
        address=dict(type='str'),
        ca_content=dict(type='str'),
        tls=dict(type='bool', default=True),
        check_credentials=dict(type='bool', default=True),
        max_clock_skew=dict(type='int', default=60),
        expiry_warn_days=dict(type='int', default=30),
        runtimes=dict(type='list', elements='str', default=['auto'], choices=['auto'] + list(RUNTIMES)),
        timeout=dict(type='float', default=5.0),
        label=dict(type='str'),
        hosts_path=dict(type='path', default='/etc/hosts'),
        docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
        docker_certs_dir=dict(type='path', default=d['docker_certs_dir']),
        docker_daemon_config=dict(type='path', default=d['docker_daemon_config']),
        docker_config=dict(type='path', default=d['docker_config']),
        containerd_config=dict(type='path', default=d['containerd_config']),
        containerd_socket=dict(type='path', default=d['containerd_socket']),
        containers_certs_dirs=dict(type='list', elements='path', default=d['containers_certs_dirs']),
        containers_registries_conf=dict(type='path', default=d['containers_registries_conf']),
        containers_registries_conf_d=dict(type='path', default=d['containers_registries_conf_d']),
        containers_auth_files=dict(type='list', elements='path', default=d['containers_auth_files']),
    )


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def public(value):
    """The value without internal keys (a leading underscore: e.g. the stored credentials' secret)."""
    if isinstance(value, dict):
        return dict((k, public(v)) for k, v in value.items() if not str(k).startswith('_'))
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


class Doctor(object):
    def __init__(self, module, which=None, engine=None, clock=utcnow):
        self.module = module
        self.p = module.params
        self.which = which or (lambda name: module.get_bin_path(name, opt_dirs=SBIN))
        self._engine = engine
        self.clock = clock
        self._cache = {}

    # --- inputs ------------------------------------------------------------------------------
    def _validate(self):
        p = self.p
        self.host, port = _names.registry_endpoint(p['registry'], 'registry')
        self.port = port or (443 if p['tls'] else 80)
        self.endpoint = _names.endpoint_text(self.host, port)
        self.where = _names.endpoint_text(self.host, self.port)
        self.expected_address = _names.ip_address(p['address'], 'address') if p['address'] else None
        self.expected = []
        if p['ca_content']:
            blocks = pem_blocks(p['ca_content'])
            if not blocks:
                raise BerthError('ca_content holds no PEM certificate (-----BEGIN CERTIFICATE----- block)')
            for der in blocks:
                try:
                    self.expected.append(parse_certificate(der))
                except CertificateError as exc:
                    raise BerthError('ca_content holds a certificate that cannot be read: %s' % exc)
        for option in ('max_clock_skew', 'expiry_warn_days'):
            if p[option] < 0:
                raise BerthError('%s: %d must be 0 or more' % (option, p[option]))
        if not 0 < p['timeout'] <= 120:
            raise BerthError('timeout: %s must be more than 0 and at most 120 seconds' % p['timeout'])
        if 'auto' in p['runtimes'] and len(p['runtimes']) > 1:
            raise BerthError('runtimes: %s mixes auto with named runtimes; give [auto] or a list of %s'
                             % (p['runtimes'], ', '.join(RUNTIMES)))
        self.label = _names.check_text(p['label'], 'label', max_length=255) if p['label'] else platform.node()
        if not p['docker_host'].startswith(('unix://', 'tcp://')):
            raise BerthError('docker_host: %r must be unix:///path/to/docker.sock or tcp://host:port' % p['docker_host'])
        self.client_pair = self._find_client_pair(port)

    def _find_client_pair(self, port):
        """This node's client certificate for the registry (mutual TLS), where its runtimes present it from:
        (cert, key) in docker's certs.d, then in containers' certs.d directories; None when there is none."""
        dirs = [self.p['docker_certs_dir']] + list(self.p['containers_certs_dirs'] or [])
        for certs_dir in dirs:
            for name in dir_names(self.host, port):
                cert, key = os.path.join(certs_dir, name, CERT_FILE), os.path.join(certs_dir, name, KEY_FILE)
                if os.path.isfile(cert) and os.path.isfile(key):
                    return cert, key
        return None

    # --- shared observations -------------------------------------------------------------------
    def _once(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def _resolve(self):
        def observe():
            text, dummy = runtimes.read_text(self.p['hosts_path'])
            entries = probe.hosts_lines(text, self.host) if not _names.is_ip_address(self.host) else []
            addresses, error = ((([self.host]), None) if _names.is_ip_address(self.host)
                                else probe.resolve(self.host, self.port))
            return steps.resolve_step(self.host, self.expected_address, entries, addresses, error,
                                      self.p['hosts_path'])
        return self._once('resolve', observe)

    @property
    def address(self):
        return (self._resolve().get('addresses') or [None])[0]

    def _tcp(self):
        def observe():
            outcome, text = probe.tcp(self.address, self.port, self.p['timeout'])
            return steps.tcp_step(self.address, self.port, outcome, text, self.p['timeout'])
        return self._once('tcp', observe)

    def _detect(self):
        return self._once('detect', lambda: probe.detect(self.address, self.port, self.host, self.endpoint,
                                                         self.p['timeout'], self.client_pair))

    def _leaf(self):
        def parse():
            der = (self._detect()['tls'] or {}).get('der')
            if not der:
                return None
            try:
                return parse_certificate(der)
            except CertificateError:
                return None
        return self._once('leaf', parse)

    def _anonymous(self):
        def get():
            tls = self._detect()['speaks'] == 'tls'
            answer = probe.http_get(self.address, self.port, self.endpoint, tls, self.host, self.p['timeout'],
                                    client_pair=self.client_pair)
            if answer['error'] and 'CERTIFICATE_REQUIRED' in answer['error'].upper() and not self.client_pair:
                answer['error'] += ('; the registry requires a client certificate (mutual TLS) and this node has none '
                                    '(client.cert + client.key in %s/%s/)' % (self.p['docker_certs_dir'], self.endpoint))
            return answer
        return self._once('anonymous', get)

    def _verify(self, trust):
        cas = [c for f in trust.get('files', []) for c in f.get('certificates', [])]
        key = ('verify', tuple(c['fingerprint_sha256'] for c in cas), trust.get('system'))
        cadata = ''.join(der_to_pem(c['_der']) for c in cas)
        return self._once(key, lambda: probe.tls_verify(self.address, self.port, self.host, cadata,
                                                        trust.get('system'), self.p['timeout'], self.client_pair))

    def _with_credentials(self, auth):
        def get():
            tls = self._detect()['speaks'] == 'tls'
            # the registry checks a bcrypt hash for this one: allow it time under load
            return probe.http_get(self.address, self.port, self.endpoint, tls, self.host,
                                  max(CREDENTIALS_TIMEOUT, self.p['timeout']), authorization='Basic ' + auth,
                                  client_pair=self.client_pair)
        return self._once(('credentials', auth), get)

    def _engine_info(self):
        def ask():
            if self._engine is not None:
                return self._engine()
            try:
                return EngineClient(self.p['docker_host'], timeout=self.p['timeout']).info(), None
            except Exception as exc:  # pylint: disable=broad-exception-caught
                return None, str(exc)
        return self._once('engine', ask)

    # --- runtimes ------------------------------------------------------------------------------
    def _views(self):
        wanted = self.p['runtimes']
        auto = wanted == ['auto']
        opts = dict((k, self.p[k]) for k in runtimes.DEFAULTS)
        opts['docker_host_socket'] = (self.p['docker_host'][len('unix://'):]
                                      if self.p['docker_host'].startswith('unix://') else None)
        addresses = self._resolve().get('addresses') or []
        docker = runtimes.docker_view(opts, self.which, self._engine_info, self.endpoint, self.host, addresses)
        containerd = runtimes.containerd_view(opts, self.which, self.endpoint, self.host,
                                              self.port if ':' in self.endpoint.rsplit(']', 1)[-1] else None,
                                              # the client's rule (_client/detect.py): a host with dockerd
                                              # installed is a Docker host, running or not
                                              bool(docker.get('running') or self.which('dockerd')),
                                              'auto' if auto else 'listed')
        containers = runtimes.containers_view(opts, self.which, self.endpoint)
        views = [docker, containerd, containers]
        for view in views:
            listed = auto or view['name'] in wanted
            if not listed:
                view.update(checked=False, reason='not asked for (runtimes: %s)' % ', '.join(wanted))
            elif not view['present']:
                view['checked'] = not auto  # a runtime asked for by name but absent fails the host
            else:
                view['checked'] = 'reason' not in view
        return views

    def _runtime_step(self, view):
        name = view['name']
        if not view['present']:
            return steps.step('runtime', steps.FAIL, '%s was asked for but is %s' % (name, view.get('reason')))
        if not view.get('running', True):
            if name == 'docker':
                return steps.step('runtime', steps.FAIL, 'dockerd is installed but does not answer at %s (%s): start '
                                  'it' % (self.p['docker_host'], view.get('engine_error')))
            return steps.step('runtime', steps.FAIL, '%s is installed but not running (%s does not answer)'
                              % (name, self.p['containerd_socket']))
        errors = view.get('config_errors') or []
        what = {'docker': 'dockerd %s answers at %s' % (view.get('version'), self.p['docker_host']),
                'containerd': 'containerd answers at %s' % self.p['containerd_socket'],
                'containers': 'found %s (no daemon: every command rereads its files)'
                % ', '.join(view.get('tools') or [])}[name]
        if errors:
            return steps.step('runtime', steps.WARN, '%s, but: %s' % (what, '; '.join(errors)))
        return steps.step('runtime', steps.OK, what)

    def _walk(self, view, now):
        name = view['name']
        expected_tls = self.p['tls']
        walk = []

        def add(item):
            walk.append(item)
            return item['status'] != steps.FAIL

        if not add(self._runtime_step(view)):
            return walk
        if not add(self._resolve()) or not add(self._tcp()):
            return walk
        detected = self._detect()
        speaks = detected['speaks']
        plain = detected.get('http') or {}
        detail = (detected.get('tls') or {}).get('error')
        if not add(steps.protocol_step(name, self.endpoint, self.where, speaks, expected_tls, view['scheme'],
                                       view['scheme_source'], plain.get('error') or detail)):
            return walk
        tls = expected_tls and speaks == 'tls'
        if not add(steps.handshake_step(self.where, speaks, expected_tls, detected.get('tls') or {})):
            return walk
        leaf = self._leaf() if tls else None
        if tls and leaf is None:
            add(steps.step('tls-chain', steps.FAIL, 'the certificate %s presents cannot be read' % self.where))
            return walk
        if tls:
            if view['scheme'] in steps.UNVERIFIED:
                add(steps.insecure_chain_step(name, view['scheme_source']))
            else:
                result = self._verify(view['trust'])
                if result['error']:
                    add(steps.step('tls-chain', steps.FAIL, 'TLS handshake with %s verifying the chain failed: %s'
                                   % (self.where, result['error'])))
                    return walk
                if not add(steps.chain_step(name, self.endpoint, result['verified'], result['code'],
                                            result['message'], leaf, view['trust'], self.expected, now)):
                    return walk
                if not add(steps.san_step(self.host, leaf)):
                    return walk
        anonymous = self._anonymous()
        auth = add(steps.auth_step(self.where, anonymous['status'], anonymous['headers'], anonymous['error'],
                                   expected_tls))
        if not auth:
            return walk
        stored = view.get('credentials')
        status = error = None
        if self.p['check_credentials'] and stored and stored.get('_auth'):
            answer = self._with_credentials(stored['_auth'])
            status, error = answer['status'], answer['error']
        elif stored and stored.get('error'):
            error = stored['error']
        if not add(steps.credentials_step(name, self.endpoint, stored, status, error, self.p['check_credentials'],
                                          anonymous['status'] == 401)):
            return walk
        date = probe.parse_date(dict((k.lower(), v) for k, v in anonymous['headers'].items()).get('date'))
        if not add(steps.skew_step(date, self.clock(), self.p['max_clock_skew'])):
            return walk
        if tls:
            add(steps.expiry_step(leaf, now, self.p['expiry_warn_days'], name))
        return walk

    # --- the run ---------------------------------------------------------------------------------
    def run(self):
        self._validate()
        now = self.clock()
        views = self._views()
        for view in views:
            if view.get('checked'):
                view['endpoint'] = self.endpoint
                view['steps'] = steps.complete(self._walk(view, now))
                status, item = steps.first_problem(view['steps'])
                view['status'] = status
                view['failed_step'] = item['step'] if item and status == steps.FAIL else None
            if 'trust' in view:
                view['trusted'] = steps.trusted_summary(view['trust'], self.expected, now)
        status, failed_step, line = steps.host_verdict(self.label, views)
        leaf = self._cache.get('leaf')
        detected = self._cache.get('detect') or {}
        registry = {
            'endpoint': self.endpoint, 'host': self.host, 'port': self.port, 'tls': self.p['tls'],
            'expected_address': self.expected_address,
            'addresses': (self._cache.get('resolve') or {}).get('addresses'),
            'speaks': detected.get('speaks'),
            'certificate': summary(leaf, now) if leaf else None,
            'expected_cas': [summary(c, now) for c in self.expected],
            'client_certificate': self.client_pair[0] if self.client_pair else None,
        }
        for view in views:
            view.pop('trust', None)
            if isinstance(view.get('credentials'), dict):
                view['credentials'] = dict((k, v) for k, v in view['credentials'].items()
                                           if k in ('source', 'user', 'helper', 'looked_in', 'error', 'token'))
        return Differences().result(self.module._diff, msg=line, verdict=line, host=self.label, status=status,
                                    failed_step=failed_step, registry=registry, runtimes=public(views))
