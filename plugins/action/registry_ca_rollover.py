# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_ca_rollover: one step of a CA rollover, on the controller's PKI directory (no remote call)."""

from __future__ import annotations

import collections.abc
import socket
import ssl
import traceback

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.berth.registry.plugins.module_utils._crypto_deps import require_cryptography
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import read_file
from ansible_collections.berth.registry.plugins.module_utils._pki.keys import KEY_TYPES
from ansible_collections.berth.registry.plugins.module_utils._pki.names import subject_argument_spec
from ansible_collections.berth.registry.plugins.module_utils._pki.plan import REGENERATE
from ansible_collections.berth.registry.plugins.module_utils._pki.rollover import TARGETS
from ansible_collections.berth.registry.plugins.module_utils._pki.rollover_files import run_step

STEPS = ('status', 'begin', 'record', 'switch', 'retire')

ARGUMENT_SPEC = dict(
    pki_dir=dict(type='path', required=True),
    step=dict(type='str', default='status', choices=list(STEPS)),
    phase=dict(type='str', default='status', choices=list(TARGETS)),
    subject=subject_argument_spec(),
    key_type=dict(type='str', default='ecdsa-p256', choices=list(KEY_TYPES)),
    validity_days=dict(type='int', default=3650),
    regenerate=dict(type='str', default='fail', choices=list(REGENERATE)),
    passphrase=dict(type='str', no_log=True),
    clients=dict(type='list', elements='str'),
    confirmed_var=dict(type='str', default='registry_ca_rollover_trusted'),
    server_cert_path=dict(type='path'),
    served=dict(type='dict', options=dict(
        address=dict(type='str', required=True),
        port=dict(type='int', required=True),
        server_name=dict(type='str'),
        timeout=dict(type='int', default=10),
    )),
)


def served_certificate(address, port, server_name=None, timeout=10):
    """DER of the certificate a TLS server presents (nothing is verified: the caller checks who signed it)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=server_name or address) as tls:
                return tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise BerthError('served: cannot read the certificate the registry serves at %s:%d (%s); the retire step '
                         'checks it before clients drop the old CA (leave served out to check only the file on the '
                         'controller)' % (address, port, exc))


def trusted_lists(hostvars, clients, var):
    """{host: [fingerprints]} of the clients that set ``var`` (the trust list they applied) in this run."""
    found = {}
    for host in clients:
        try:
            value = hostvars[host].get(var) if host in hostvars else None
        except Exception:  # pylint: disable=broad-exception-caught  # an unrenderable variable counts as unset
            value = None
        if isinstance(value, collections.abc.Sequence) and not isinstance(value, (str, bytes)):
            found[host] = [str(v) for v in value]
    return found


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        check_mode = bool(self._task.check_mode or task_vars.get('ansible_check_mode'))
        diff_mode = bool(self._task.diff or task_vars.get('ansible_diff_mode'))
        groups = task_vars.get('groups') or {}
        clients = args['clients'] if args['clients'] is not None else list(groups.get('registry_clients') or [])
        try:
            require_cryptography()
            confirmed = None
            if args['step'] == 'record':
                confirmed = trusted_lists(task_vars.get('hostvars') or {}, clients, args['confirmed_var'])
            server_cert = served = None
            if args['step'] == 'retire':
                if args['server_cert_path']:
                    server_cert = read_file(args['server_cert_path'], 'server_cert_path')
                if args['served'] and not check_mode:
                    s = args['served']
                    served = served_certificate(s['address'], s['port'], s['server_name'], s['timeout'])
            ca_options = dict((k, args[k]) for k in ('subject', 'key_type', 'validity_days', 'regenerate', 'passphrase'))
            outcome, warnings = run_step(args['pki_dir'], args['step'], ca_options=ca_options, clients=clients,
                                         confirmed=confirmed, server_cert=server_cert, served=served,
                                         target=args['phase'], check_mode=check_mode, diff_mode=diff_mode)
        except BerthError as exc:
            result.update(exc.result)
            result.update(failed=True, msg=str(exc))
            return result
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise AnsibleActionFail('registry_ca_rollover failed unexpectedly: %s: %s' % (type(exc).__name__, exc),
                                    result=dict(exception=traceback.format_exc()))
        result.update(outcome)
        if warnings:
            result['warnings'] = list(result.get('warnings') or []) + warnings
        return result
