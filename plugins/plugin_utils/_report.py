# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report's data (action plugin registry_report): pure functions, controller side.

Input: per host, the registered results of registry_client, registry_doctor, registry_info and the
server (whatever of them the play has), and the certificates on the controller. Output: one JSON
document (docs/report.schema.json) with problems first. Rendering is _report_html.py's job.
"""

from __future__ import annotations

import datetime

from ansible_collections.berth.registry.plugins.module_utils import _der_cert

SCHEMA_VERSION = 1
ORDER = {'fail': 0, 'warn': 1, 'unknown': 2, 'ok': 3}
RESULT_KEYS = ('changed', 'failed', 'unreachable', 'skipped', 'msg')


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def expiry_status(days_left, warn_days, fail_days):
    if days_left is None:
        return 'unknown'
    if days_left < 0 or (fail_days is not None and days_left < fail_days):
        return 'fail'
    if days_left < warn_days:
        return 'warn'
    return 'ok'


def certificate_entry(kind, name, path, pem, now, warn_days, fail_days):
    """One row of the expiry table from PEM text (the first certificate), or with an error."""
    entry = {'kind': kind, 'name': name, 'path': path}
    blocks = _der_cert.pem_blocks(pem) if pem else []
    if not blocks:
        entry.update(status='unknown', error='no certificate at %s' % path, days_left=None)
        return entry
    try:
        info = _der_cert.summary(_der_cert.parse_certificate(blocks[0]), now)
    except _der_cert.CertificateError as exc:
        entry.update(status='unknown', error=str(exc), days_left=None)
        return entry
    entry.update(subject=info['subject'], not_after=info['not_after'], days_left=info['days_left'],
                 fingerprint_sha256=info['fingerprint_sha256'],
                 status=expiry_status(info['days_left'], warn_days, fail_days))
    return entry


def _task_failure(result):
    """Why a registered result is not usable: unreachable, failed or skipped (None when it is)."""
    if not result:
        return None
    if result.get('unreachable'):
        return 'unreachable: %s' % result.get('msg', '')
    if result.get('failed'):
        return 'failed: %s' % result.get('msg', '')
    if result.get('skipped'):
        return 'skipped'
    return None


def _trust(runtimes, current):
    """[{runtime, path, subject, fingerprint_sha256, days_left, current}] and whether every checked runtime
    trusts the current CA (None when nothing is known)."""
    rows = []
    verdicts = []
    for runtime in runtimes:
        if not runtime.get('checked') and not runtime.get('trusted'):
            continue
        has_current = False
        for item in _list(runtime.get('trusted')):
            for cert in _list(item.get('certificates')):
                is_current = bool(cert.get('current')) or cert.get('fingerprint_sha256') in current
                has_current = has_current or is_current
                rows.append({'runtime': runtime.get('name'), 'path': item.get('path'), 'subject': cert.get('subject'),
                             'fingerprint_sha256': cert.get('fingerprint_sha256'), 'days_left': cert.get('days_left'),
                             'current': is_current})
        if runtime.get('checked'):
            verdicts.append(has_current)
    if not current and not any(row['current'] for row in rows):
        return rows, None  # no current CA known (plain HTTP, or no ca_path): nothing to judge against
    return rows, (all(verdicts) if verdicts else None)


def node_entry(name, doctor, client, current):
    """One node of the report from its doctor and client results (either may be missing)."""
    node = {'name': name, 'status': 'unknown', 'verdict': None, 'failed_step': None, 'runtimes': [],
            'trusted': [], 'trusts_current_ca': None, 'registry_keys': {}, 'login': None, 'check': None,
            'doctor': None, 'client': None}
    doctor_problem = _task_failure(doctor)
    if doctor and not doctor_problem:
        runtimes = _list(doctor.get('runtimes'))
        node.update(status=doctor.get('status') if doctor.get('status') in ORDER else 'unknown',
                    verdict=doctor.get('verdict'), failed_step=doctor.get('failed_step'))
        node['runtimes'] = [{'name': r.get('name'), 'present': bool(r.get('present')), 'checked': bool(r.get('checked')),
                             'status': r.get('status') if r.get('checked') else None,
                             'failed_step': r.get('failed_step'), 'reason': r.get('reason'),
                             'scheme': r.get('scheme'), 'steps': _list(r.get('steps'))} for r in runtimes]
        node['trusted'], node['trusts_current_ca'] = _trust(runtimes, current)
        docker = next((r for r in runtimes if r.get('name') == 'docker'), {})
        node['registry_keys'] = _dict(docker.get('registry_keys'))
        login = next((r for r in runtimes if r.get('checked') and _dict(r.get('credentials')).get('source')), None)
        if login:
            step = next((s for s in _list(login.get('steps')) if s.get('step') == 'credentials'), {})
            node['login'] = {'user': login['credentials'].get('user'), 'source': login['credentials'].get('source'),
                             'valid': {'ok': True, 'fail': False}.get(step.get('status'))}
        node['doctor'] = {'status': doctor.get('status'), 'verdict': doctor.get('verdict')}
    elif doctor_problem:
        node.update(status='fail', verdict='%s: FAIL doctor %s' % (name, doctor_problem))
        node['doctor'] = {'status': 'fail', 'verdict': node['verdict']}
    client_problem = _task_failure(client)
    if client:
        state = _dict(client.get('state'))
        node['client'] = {'changed': bool(client.get('changed')), 'failed': bool(client.get('failed')),
                          'msg': client.get('msg') if client_problem else None}
        check = _dict(state.get('check'))
        if check:
            node['check'] = {'passed': check.get('passed'), 'text': check.get('text'), 'source': 'registry_client'}
        elif isinstance(client.get('check'), str):  # registry_client's result before the state contract
            node['check'] = {'passed': not client_problem, 'text': client['check'], 'source': 'registry_client'}
        if isinstance(state.get('registry_keys'), dict) and not node['registry_keys']:
            node['registry_keys'] = state['registry_keys']
        elif not node['registry_keys'] and isinstance(_dict(client.get('daemon')).get('config'), dict):
            config = client['daemon']['config']
            node['registry_keys'] = dict((k, config[k]) for k in ('insecure-registries', 'registry-mirrors')
                                         if k in config)
        if isinstance(state.get('login'), dict) and node['login'] is None:
            node['login'] = {'user': state['login'].get('user'), 'source': state['login'].get('config_path'),
                             'valid': None}
        if not node['trusted'] and isinstance(state.get('trusted'), list):
            node['trusted'] = [dict(t, current=t.get('fingerprint_sha256') in current) for t in state['trusted']
                               if isinstance(t, dict)]
            node['trusts_current_ca'] = any(t['current'] for t in node['trusted']) if node['trusted'] else None
        if not node['runtimes'] and isinstance(state.get('runtimes'), list):
            node['runtimes'] = [{'name': r.get('name'), 'present': bool(r.get('present', True)),
                                 'checked': False, 'status': None, 'failed_step': None,
                                 'reason': 'from registry_client', 'scheme': None, 'steps': []}
                                for r in state['runtimes'] if isinstance(r, dict)]
        if client_problem and node['status'] != 'fail':
            node['status'] = 'fail'
            node['verdict'] = node['verdict'] or '%s: FAIL client %s' % (name, client_problem)
        elif node['check'] and node['check']['passed'] is False and node['status'] in ('ok', 'unknown'):
            node['status'] = 'fail'
            node['verdict'] = '%s: FAIL check: %s' % (name, node['check']['text'])
    if node['verdict'] is None and node['check'] and node['check']['passed'] is True and not client_problem:
        # no doctor in this run (site.yml): the client's own check through its engine passed
        node['status'] = 'ok'
        node['verdict'] = '%s: OK check: %s [registry_client; playbooks/doctor.yml walks every step]' % (
            name, node['check']['text'])
    if node['verdict'] is None:
        node['verdict'] = '%s: UNKNOWN no doctor result (run playbooks/doctor.yml)' % name
    if node['trusts_current_ca'] is False and node['status'] == 'ok':
        node['status'] = 'warn'
    return node


def registry_entry(name, info, server, endpoint, url, address, tls):
    """The registry part: what registry_info (or the server's result) says, if anything."""
    source = info if info and not _task_failure(info) else (server if server and not _task_failure(server) else {})
    storage = _dict(source.get('storage'))
    container = _dict(source.get('container'))
    certificate = _dict(source.get('certificate'))
    entry = {'host': name, 'endpoint': endpoint, 'url': url, 'address': address, 'tls': tls,
             'certificate': certificate if certificate.get('fingerprint_sha256') else None,
             'users': [str(u) for u in _list(source.get('users'))],
             'repositories': [r for r in _list(source.get('repositories')) if isinstance(r, dict)],
             'storage': storage or None, 'container': container or None,
             'problem': _task_failure(info) or (None if source else 'no registry_info result')
             or certificate.get('error')}
    if entry['problem']:
        entry['status'] = 'unknown' if not source else 'fail'
    elif container and not container.get('running'):
        entry['status'] = 'fail'
    else:
        entry['status'] = 'ok'
    return entry


def build(nodes_input, registry_input, certificates, options, now=None):
    """The report document.

    nodes_input: [(name, doctor result, client result)]; registry_input: (name, info, server) or None;
    certificates: expiry rows (certificate_entry); options: endpoint, url, address, tls, warn_days, fail_days,
    check_mode, title, current_ca_fingerprints.
    """
    now = now or utcnow()
    current = set(options.get('current_ca_fingerprints') or [])
    nodes = [node_entry(name, _dict(doctor), _dict(client), current) for name, doctor, client in nodes_input]
    nodes.sort(key=lambda n: (ORDER[n['status']], n['name']))
    counts = dict((k, sum(1 for n in nodes if n['status'] == k)) for k in ORDER)
    counts['total'] = len(nodes)
    registry = None
    if registry_input:
        name, info, server = registry_input
        registry = registry_entry(name, _dict(info), _dict(server), options.get('endpoint'), options.get('url'),
                                  options.get('address'), options.get('tls'))
    failing = ['%s %s (%s): %s' % (c['kind'], c['name'], c.get('path'),
                                   'no certificate' if c.get('days_left') is None else '%d days left' % c['days_left'])
               for c in certificates
               if options.get('fail_days') is not None and c.get('days_left') is not None
               and c['days_left'] < options['fail_days']]
    return {
        'schema_version': SCHEMA_VERSION,
        'title': options.get('title') or 'Registry fleet report',
        'generated_at': _der_cert.iso(now),
        'check_mode': bool(options.get('check_mode')),
        'summary': counts,
        'registry': registry,
        'expiry': {'warn_days': options.get('warn_days'), 'fail_days': options.get('fail_days'),
                   'certificates': certificates, 'failing': failing},
        'nodes': nodes,
    }


def lines(report):
    """One line per node (problems first), then the expiry lines: what the run prints."""
    out = [n['verdict'] for n in report['nodes']]
    for cert in report['expiry']['certificates']:
        if cert.get('days_left') is None:
            out.append('expiry: %s %s: %s' % (cert['kind'], cert['name'], cert.get('error')))
        else:
            out.append('expiry: %s %s: %d days left (%s)%s' % (
                cert['kind'], cert['name'], cert['days_left'], cert.get('not_after'),
                '' if cert['status'] == 'ok' else ' ' + cert['status'].upper()))
    return out
