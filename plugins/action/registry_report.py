# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_report: the fleet report, written on the controller from what the play registered (no remote call)."""

from __future__ import annotations

import collections.abc
import glob
import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.berth.registry.plugins.module_utils import _der_cert
from ansible_collections.berth.registry.plugins.plugin_utils import _report, _report_html

ARGUMENT_SPEC = dict(
    dest=dict(type='path', required=True),
    nodes=dict(type='list', elements='str'),
    registry_host=dict(type='str'),
    endpoint=dict(type='str'),
    url=dict(type='str'),
    address=dict(type='str'),
    tls=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    cert_path=dict(type='path'),
    client_cert_paths=dict(type='list', elements='path', default=[]),
    expiry_warn_days=dict(type='int', default=30),
    expiry_fail_days=dict(type='int'),
    doctor_var=dict(type='str', default='registry_doctor_result'),
    client_var=dict(type='str', default='registry_client_result'),
    info_var=dict(type='str', default='registry_info_result'),
    server_var=dict(type='str', default='registry_server_result'),
    title=dict(type='str', default='Registry fleet report'),
)


def plain(value):
    """A JSON-safe copy of a registered result (Ansible's own wrapped types become dict/list/str)."""
    if isinstance(value, collections.abc.Mapping):
        return dict((str(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _write(path, text):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def certificates_on_controller(args, now):
    """The expiry rows of the CA, the server certificate and the client certificates, and the current CA's fingerprints."""
    warn, fail = args['expiry_warn_days'], args['expiry_fail_days']
    rows, current = [], []
    if not args['tls']:
        return rows, current
    if args['ca_path']:
        text = _read(args['ca_path'])
        rows.append(_report.certificate_entry('CA', os.path.basename(args['ca_path']), args['ca_path'], text, now,
                                              warn, fail))
        current = [_der_cert.fingerprint(d) for d in _der_cert.pem_blocks(text)]
    if args['cert_path']:
        rows.append(_report.certificate_entry('server certificate', args['endpoint'] or
                                              os.path.basename(args['cert_path']), args['cert_path'],
                                              _read(args['cert_path']), now, warn, fail))
    for pattern in args['client_cert_paths']:
        for path in sorted(glob.glob(pattern)) or ([] if glob.has_magic(pattern) else [pattern]):
            name = os.path.splitext(os.path.basename(path))[0]
            rows.append(_report.certificate_entry('client certificate', name, path, _read(path), now, warn, fail))
    return rows, current


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if args['expiry_warn_days'] < 0 or (args['expiry_fail_days'] is not None and args['expiry_fail_days'] < 0):
            raise AnsibleActionFail('expiry_warn_days and expiry_fail_days must be 0 or more; got %s and %s'
                                    % (args['expiry_warn_days'], args['expiry_fail_days']))
        groups = task_vars.get('groups') or {}
        hostvars = task_vars.get('hostvars') or {}
        nodes = args['nodes']
        if nodes is None:
            nodes = list(groups.get('registry_clients') or task_vars.get('ansible_play_hosts_all') or [])
        registry_host = args['registry_host'] or next(iter(groups.get('registry') or []), None)

        def registered(host, var):
            try:
                value = hostvars[host].get(var) if host in hostvars else None
            except Exception:  # pylint: disable=broad-exception-caught
                value = None  # an undefined or unrenderable variable counts as not registered
            return plain(value) if value is not None else None

        now = _report.utcnow()
        warn, fail = args['expiry_warn_days'], args['expiry_fail_days']
        certificates, current = certificates_on_controller(args, now)
        options = dict(endpoint=args['endpoint'], url=args['url'], address=args['address'], tls=args['tls'],
                       warn_days=warn, fail_days=fail, check_mode=self._task.check_mode or
                       bool(task_vars.get('ansible_check_mode')), title=args['title'],
                       current_ca_fingerprints=current)
        nodes_input = [(h, registered(h, args['doctor_var']), registered(h, args['client_var'])) for h in nodes]
        registry_input = None
        if registry_host:
            registry_input = (registry_host, registered(registry_host, args['info_var']),
                              registered(registry_host, args['server_var']))
        report = _report.build(nodes_input, registry_input, certificates, options, now)
        dest = args['dest']
        try:
            os.makedirs(dest, mode=0o755, exist_ok=True)
            json_path, html_path = os.path.join(dest, 'report.json'), os.path.join(dest, 'report.html')
            _write(json_path, json.dumps(report, indent=1, sort_keys=False) + '\n')
            _write(html_path, _report_html.render(report))
        except OSError as exc:
            raise AnsibleActionFail('cannot write the report under %s: %s' % (dest, exc))
        lines = _report.lines(report)
        result.update(changed=False, json_path=json_path, html_path=html_path, summary=report['summary'],
                      lines=lines, expiry=report['expiry']['certificates'], check_mode=report['check_mode'],
                      expiry_failing=report['expiry']['failing'],
                      msg='%d fail, %d warn, %d unknown, %d ok: %s' % (
                          report['summary']['fail'], report['summary']['warn'], report['summary']['unknown'],
                          report['summary']['ok'], html_path))
        if report['expiry']['failing']:
            result.update(failed=True, msg='certificate expiry below registry_expiry_fail_days=%d: %s (report: %s)'
                          % (fail, '; '.join(report['expiry']['failing']), html_path))
        return result
