# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_server: the PKI and config.yml on the controller, in-process; then one registry_host module call.

Only a fresh host costs more round trips: the packages the host module reports missing are installed with
ansible.builtin.apt and the module runs again; an image archive is sent only when the host lacks its image.
The logic lives in module_utils/_registry_server/controller.py; this file runs modules and moves files.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_server.controller import ServerRequest
from ansible_collections.berth.registry.plugins.module_utils._registry_server.options import server_argument_spec
from ansible_collections.berth.registry.plugins.module_utils._registry_server.redaction import secret_values

HOST_MODULE = 'berth.registry.registry_host'
ARCHIVE_NAME = 'berth-registry-image.tar'


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec=server_argument_spec())
        check_mode = bool(self._task.check_mode)
        secrets = []
        try:
            try:
                request = ServerRequest(args, check_mode)
                secrets = request.secret_values
                request.prepare()
                outcome = self._host(request, task_vars, check_mode)
            except BerthError as exc:
                result.update(failed=True, msg=str(exc), changed=False, **exc.result)
                return self._scrub(result, args, secrets)
            result.update(outcome)
            result.setdefault('warnings', [])
            result['warnings'] = request.warnings + list(result['warnings'])
            return self._scrub(result, args, secrets)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _host(self, request, task_vars, check_mode):
        """One registry_host call; on a fresh host apt first, and the image archive when it is missing there."""
        args = request.args
        host = self._call(request.host_args(), task_vars)
        installed = []
        if host.get('missing_packages') and not check_mode:
            missing = list(host['missing_packages'])
            if not args['install_packages']:
                raise BerthError('the registry host lacks %s (install_packages is false): install them, or let the '
                                 'module install them with apt' % ', '.join(missing))
            apt = self._execute_module(module_name='ansible.legacy.apt', task_vars=task_vars, module_args=dict(
                name=missing, state='present', update_cache=True, cache_valid_time=3600))
            if apt.get('failed') or apt.get('unreachable'):
                raise BerthError('installing %s with apt failed: %s' % (', '.join(missing), apt.get('msg', apt)))
            installed = missing
            host = self._call(request.host_args(), task_vars)
        if host.get('needs_image_archive'):
            host = self._call(request.host_args(image_archive=self._send_archive(args['image_archive'])), task_vars)
        if host.get('missing_packages') and not check_mode:
            raise BerthError('the registry host still lacks %s after apt installed them: does its Python (%s) use '
                             'Debian\'s packages?' % (', '.join(host['missing_packages']),
                                                      task_vars.get('ansible_python_interpreter', 'auto')))
        outcome = request.combine(host, bool(self._task.diff), installed)
        outcome['warnings'] = list(host.get('warnings') or [])
        return outcome

    def _call(self, module_args, task_vars):
        host = self._execute_module(module_name=HOST_MODULE, module_args=module_args, task_vars=task_vars)
        if host.get('failed') or host.get('unreachable'):
            raise BerthError(host.get('msg') or 'registry_host failed', **dict(
                (k, host[k]) for k in ('differences', 'exception', 'unreachable', 'module_stderr', 'module_stdout',
                                       'rc') if k in host))
        return host

    def _send_archive(self, source):
        """The image archive copied into this task's remote temporary directory (removed at the end)."""
        tmp = self._connection._shell.tmpdir or self._make_tmp_path()
        remote = self._connection._shell.join_path(tmp, ARCHIVE_NAME)
        try:
            self._transfer_file(source, remote)
        except Exception as exc:
            raise AnsibleActionFail('copying image_archive %s to the registry host failed: %s' % (source, exc))
        self._fixup_perms2((tmp, remote))
        return remote

    @staticmethod
    def _scrub(result, args, secrets):
        """No secret the task was given (passwords, passphrase, key bytes, S3 keys, http.secret) in the result."""
        values = set(v for v in secrets if v)
        values.update(secret_values(args.get('storage')), secret_values(args.get('config')))
        values.update(str(v) for v in ((args.get('container') or {}).get('secret_env') or {}).values() if v)
        for user in args.get('users') or []:
            if user.get('password'):
                values.add(user['password'])
        for key in ('http_secret',):
            if args.get(key):
                values.add(args[key])
        if (args.get('ca') or {}).get('passphrase'):
            values.add(args['ca']['passphrase'])
        return remove_values(result, values) if values else result
