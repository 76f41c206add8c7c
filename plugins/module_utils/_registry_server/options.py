# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument specs: the registry_server action's (documented by plugins/modules/registry_server.py, checked
against that documentation by a unit test) and the registry_host module's (what the action sends). Pure.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._pki.keys import KEY_TYPES
from ansible_collections.berth.registry.plugins.module_utils._pki.plan import REGENERATE
from ansible_collections.berth.registry.plugins.module_utils._registry_container.fields import PULL_CHOICES, RESTART_POLICIES
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import spec_options

DEFAULT_PACKAGES = ['python3-docker', 'python3-bcrypt']
DEFAULT_METRICS_ADDRESS = '127.0.0.1:5001'
DEFAULT_UPSTREAM_PORT = 5000  # the registry on 127.0.0.1 behind the nginx front end
FRONTEND_PACKAGE = 'nginx'
# Container options the host module takes (the rest - state, restart files, config dir - follow from the layout).
HOST_CONTAINER_OPTIONS = ('name', 'image', 'pull', 'ports', 'restart_policy', 'data_dir', 'data_dir_mode', 'env',
                          'secret_env', 'labels', 'command', 'probe', 'recreate')


def users_option():
    return dict(type='list', elements='dict', default=[], options=dict(
        name=dict(type='str', required=True),
        password=dict(type='str', no_log=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        access=dict(type='str', default='push', choices=['pull', 'push']),
    ))


def connection_options():
    return dict(docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
                timeout=dict(type='int', default=60))


def server_argument_spec():
    """The registry_server action's options."""
    spec = dict(
        pki_dir=dict(type='path', required=True),
        tls=dict(type='bool', default=True),
        ca=dict(type='dict', default={}, options=dict(
            subject=dict(type='dict'),  # checked field by field by _pki.names.normalize_subject
            key_type=dict(type='str', default='ecdsa-p256', choices=list(KEY_TYPES)),
            validity_days=dict(type='int', default=3650),
            regenerate=dict(type='str', default='fail', choices=list(REGENERATE)),
            passphrase=dict(type='str', no_log=True),
        )),
        certificate=dict(type='dict', default={}, options=dict(
            name=dict(type='str'),
            dns_names=dict(type='list', elements='str', default=[]),
            ip_addresses=dict(type='list', elements='str', default=[]),
            key_type=dict(type='str', default='ecdsa-p256', choices=list(KEY_TYPES)),
            validity_days=dict(type='int', default=397),
            renew_before_days=dict(type='int', default=30),
        )),
        tls_files=dict(type='dict', options=dict(
            cert=dict(type='path', required=True),
            key=dict(type='path', required=True),
            ca=dict(type='path', required=True),
        )),
        http_secret=dict(type='str', no_log=True),
        config_dir=dict(type='path', default='/etc/docker/registry'),
        port=dict(type='int'),
        bind_address=dict(type='str', default='0.0.0.0'),
        users=users_option(),
        users_exclusive=dict(type='bool', default=True),
        htpasswd_cost=dict(type='int', default=10, no_log=False),
        auth_realm=dict(type='str', default='basic-realm'),
        allow_anonymous_push=dict(type='bool', default=False),
        storage=dict(type='dict', default={'filesystem': {}}),
        storage_delete=dict(type='bool', default=False),
        storage_redirect=dict(type='bool'),
        metrics_address=dict(type='str', default=DEFAULT_METRICS_ADDRESS),
        config=dict(type='dict', default={}),
        container=dict(type='dict', default={}, options=dict(
            name=dict(type='str', default='registry'),
            image=dict(type='str', default='registry:2'),
            pull=dict(type='str', default='missing', choices=list(PULL_CHOICES)),
            restart_policy=dict(type='str', default='always', choices=list(RESTART_POLICIES)),
            data_dir=dict(type='path', default='/var/lib/registry'),
            data_dir_mode=dict(type='raw', default='0700'),
            env=dict(type='dict', default={}),
            secret_env=dict(type='dict', default={}, no_log=True),
            labels=dict(type='dict', default={}),
            command=dict(type='list', elements='str'),
            start_timeout=dict(type='int', default=60),
        )),
        image_archive=dict(type='path'),
        extra_files=dict(type='list', elements='dict', default=[], options=dict(
            path=dict(type='str', required=True),
            content=dict(type='str', no_log=True),
            src=dict(type='path'),
            mode=dict(type='raw', default='0644'),
            restart=dict(type='bool', default=False),
            secret=dict(type='bool', default=False),
        )),
        packages=dict(type='list', elements='str', default=list(DEFAULT_PACKAGES)),
        install_packages=dict(type='bool', default=True),
        client_certificates=dict(type='dict', default={}, options=dict(
            enabled=dict(type='bool', default=False),
            nodes=dict(type='list', elements='str', default=[]),
            key_type=dict(type='str', default='ecdsa-p256', choices=list(KEY_TYPES)),
            validity_days=dict(type='int', default=397),
            renew_before_days=dict(type='int', default=30),
        )),
        frontend_upstream_port=dict(type='int', default=DEFAULT_UPSTREAM_PORT),
    )
    spec.update(connection_options())
    return spec


def host_argument_spec():
    """The registry_host module's options."""
    container = dict((k, v) for k, v in spec_options().items() if k in HOST_CONTAINER_OPTIONS)
    spec = dict(
        config_dir=dict(type='path', default='/etc/docker/registry'),
        config=dict(type='str', required=True, no_log=True),
        config_shown=dict(type='str'),
        tls=dict(type='dict', options=dict(
            cert=dict(type='str'),
            key=dict(type='str', no_log=True),
            ca=dict(type='str'),
            pending=dict(type='bool', default=False),
        )),
        users=users_option(),
        users_exclusive=dict(type='bool', default=True),
        htpasswd_cost=dict(type='int', default=10, no_log=False),
        container=dict(type='dict', required=True, options=container),
        image_archive=dict(type='path'),
        image_archive_id=dict(type='str'),
        extra_files=dict(type='list', elements='dict', default=[], options=dict(
            path=dict(type='str', required=True),
            content=dict(type='str', default='', no_log=True),
            mode=dict(type='raw', default='0644'),
            restart=dict(type='bool', default=False),
            secret=dict(type='bool', default=False),
        )),
        packages=dict(type='list', elements='str', default=list(DEFAULT_PACKAGES)),
        frontend=dict(type='dict', options=dict(
            port=dict(type='int', required=True),
            upstream_port=dict(type='int', required=True),
            server_names=dict(type='list', elements='str', required=True),
            realm=dict(type='str'),
            client_ca=dict(type='str'),
            crl=dict(type='str'),
            crl_summary=dict(type='str'),
        )),
        secrets=dict(type='list', elements='str', default=[], no_log=True),
    )
    spec.update(connection_options())
    return spec
