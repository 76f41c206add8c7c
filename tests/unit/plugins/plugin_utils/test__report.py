"""The fleet report's data and page: problems first, schema-valid, escaped, expiry named."""

from __future__ import annotations

import datetime
import json
import os

import jsonschema
import pytest

import certfactory
from ansible_collections.berth.registry.plugins.plugin_utils import _report, _report_html

SCHEMA = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'docs', 'report.schema.json')
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


@pytest.fixture(scope='module')
def schema():
    with open(SCHEMA) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def pki():
    ca = certfactory.make_ca('Fleet CA')
    return {'ca': ca, 'server': certfactory.make_server(ca, days=10), 'client': certfactory.make_server(ca, days=200)}


def doctor(name, status, step=None, current=True):
    fp = ('AB:' * 31 + 'AB') if current else ('EE:' * 31 + 'EE')
    steps = [{'step': 'runtime', 'status': 'ok', 'summary': 'dockerd answers'}]
    if step:
        steps.append({'step': step, 'status': status, 'summary': '<b>%s</b> broke' % step})
    return {'changed': False, 'differences': [], 'status': status, 'failed_step': step if status == 'fail' else None,
            'verdict': '%s: %s %s' % (name, status.upper(), step or 'all good'),
            'runtimes': [{'name': 'docker', 'present': True, 'checked': True, 'status': status, 'scheme': 'https',
                          'failed_step': step if status == 'fail' else None, 'steps': steps,
                          'registry_keys': {'registry-mirrors': ['https://m.example/']},
                          'credentials': {'source': '/root/.docker/config.json', 'user': 'admin'},
                          'trusted': [{'path': '/etc/docker/certs.d/reg/ca.crt', 'error': None,
                                       'certificates': [{'subject': 'CN=x', 'fingerprint_sha256': fp,
                                                         'not_after': '2030-01-01T00:00:00Z', 'days_left': 1000,
                                                         'current': current}]}]},
                         {'name': 'containerd', 'present': True, 'checked': False, 'reason': 'serves dockerd only'},
                         {'name': 'containers', 'present': False, 'checked': False, 'reason': 'not installed'}]}


def build(pki, fail_days=None, check_mode=False):
    certificates = [
        _report.certificate_entry('CA', 'ca.crt', '/pki/ca.crt', pki['ca'].pem, NOW, 30, fail_days),
        _report.certificate_entry('server certificate', 'reg', '/pki/reg.crt', pki['server'].pem, NOW, 30, fail_days),
        _report.certificate_entry('client certificate', 'client1', '/pki/clients/client1.crt', pki['client'].pem, NOW,
                                  30, fail_days),
    ]
    nodes = [
        ('client1', doctor('client1', 'ok'), {'changed': False, 'check': 'reachable and trusted'}),
        ('client2', doctor('client2', 'fail', 'tls-chain', current=False), None),
        ('client3', None, {'failed': True, 'msg': 'daemon.json is not valid JSON'}),
        ('client4', doctor('client4', 'warn', 'credentials'), None),
        ('client5', {'unreachable': True, 'msg': 'ssh: connect to host'}, None),
        ('client6', None, None),
        ('client7', doctor('client7', 'ok', current=False), None),
    ]
    info = {'changed': False, 'certificate': None, 'users': ['admin', 'ci'], 'repositories': [{'name': 'a/b', 'tags': 2}],
            'storage': {'path': '/var/lib/registry', 'bytes': 123456789, 'files': 12, 'complete': True,
                        'repositories': 1, 'tags': 2, 'exists': True},
            'container': {'name': 'registry', 'found': True, 'running': True, 'status': 'running', 'image': 'registry:2'}}
    options = dict(endpoint='reg', url='https://reg', address='192.0.2.10', tls=True, warn_days=30, fail_days=fail_days,
                   check_mode=check_mode, current_ca_fingerprints=['AB:' * 31 + 'AB'])
    return _report.build(nodes, ('registry1', info, None), certificates, options, NOW)


def test_problems_first_and_counts(pki, schema):
    report = build(pki)
    jsonschema.validate(report, schema)
    names = [n['name'] for n in report['nodes']]
    assert names == ['client2', 'client3', 'client5', 'client4', 'client7', 'client6', 'client1']
    assert report['summary'] == {'fail': 3, 'warn': 2, 'unknown': 1, 'ok': 1, 'total': 7}
    by = dict((n['name'], n) for n in report['nodes'])
    assert by['client3']['verdict'] == 'client3: FAIL client failed: daemon.json is not valid JSON'
    assert by['client5']['verdict'].startswith('client5: FAIL doctor unreachable')
    assert by['client7']['status'] == 'warn' and by['client7']['trusts_current_ca'] is False
    assert by['client1']['check'] == {'passed': True, 'text': 'reachable and trusted', 'source': 'registry_client'}
    assert by['client1']['login'] == {'user': 'admin', 'source': '/root/.docker/config.json', 'valid': None}
    assert by['client1']['registry_keys'] == {'registry-mirrors': ['https://m.example/']}
    assert report['registry']['users'] == ['admin', 'ci'] and report['registry']['status'] == 'ok'
    lines = _report.lines(report)
    assert lines[0].startswith('client2: FAIL tls-chain') and 'expiry: server certificate reg: 9 days left' in \
        lines[-2].replace('10 days', '9 days')


def test_expiry_threshold_names_the_certificate(pki, schema):
    report = build(pki, fail_days=14)
    jsonschema.validate(report, schema)
    assert report['expiry']['failing'] == ['server certificate reg (/pki/reg.crt): %d days left'
                                           % report['expiry']['certificates'][1]['days_left']]
    assert [c['status'] for c in report['expiry']['certificates']] == ['ok', 'fail', 'ok']
    assert build(pki, fail_days=0)['expiry']['failing'] == []


def test_client_state_contract_fills_the_node(schema):
    state = {'runtimes': [{'name': 'docker', 'present': True, 'configured': True}],
             'trusted': [{'runtime': 'docker', 'path': '/etc/docker/certs.d/reg/ca.crt', 'fingerprint_sha256': 'CD:' * 31 + 'CD'}],
             'registry_keys': {'insecure-registries': []}, 'login': {'user': 'admin', 'config_path': '/root/.docker/config.json'},
             'check': {'passed': False, 'text': 'x509: certificate signed by unknown authority'}}
    jsonschema.validate(state, dict(schema['$defs']['registry_client_state'], **{'$defs': schema['$defs']}))
    report = _report.build([('c', None, {'changed': False, 'state': state})], None, [],
                           dict(warn_days=30, fail_days=None, current_ca_fingerprints=['CD:' * 31 + 'CD']), NOW)
    jsonschema.validate(report, schema)
    node = report['nodes'][0]
    assert node['status'] == 'fail' and node['verdict'] == 'c: FAIL check: x509: certificate signed by unknown authority'
    assert node['trusts_current_ca'] is True and node['runtimes'][0]['name'] == 'docker'
    assert node['login']['user'] == 'admin'


def test_html_is_self_contained_escaped_and_ordered(pki):
    report = build(pki, check_mode=True)
    page = _report_html.render(report)
    assert '<script' not in page and 'http://' not in page.replace('http://www.w3.org', '') and 'src=' not in page
    assert '<b>tls-chain</b>' not in page and '&lt;b&gt;tls-chain&lt;/b&gt; broke' in page
    assert page.index('data-node="client2"') < page.index('data-node="client4"') < page.index('data-node="client1"')
    assert 'id="check-mode"' in page and 'FAIL' in page and '\u2716' in page
    assert '117.7 MiB' in page and 'admin, ci' in page
    assert 'days left' in page


def test_after_site_yml_a_passed_client_check_is_ok(schema):
    report = _report.build([('c1', None, {'changed': False, 'check': 'registry.example: reachable, TLS verified'}),
                            ('c2', None, {'failed': True, 'msg': 'daemon.json is not valid JSON'}), ('c3', None, None)],
                           None, [], dict(warn_days=30, fail_days=None), NOW)
    jsonschema.validate(report, schema)
    by = dict((n['name'], n) for n in report['nodes'])
    assert by['c1']['status'] == 'ok' and by['c1']['verdict'].startswith('c1: OK check: registry.example: reachable')
    assert by['c2']['status'] == 'fail' and by['c3']['status'] == 'unknown'
