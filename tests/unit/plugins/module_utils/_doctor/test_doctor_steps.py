"""Pure verdicts: each observation gives the step and the words a person acts on."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.berth.registry.plugins.module_utils._doctor import steps

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)


def test_resolve_from_dns_that_points_elsewhere():
    item = steps.resolve_step('reg.example', '192.0.2.10', [], ['192.0.2.99'], None)
    assert item['status'] == 'fail' and item['source'] == 'DNS'
    assert 'reg.example resolves to 192.0.2.99 (from DNS (no line in /etc/hosts)), expected 192.0.2.10: correct the ' \
        'DNS record' in item['summary']


def test_resolve_expected_only_second_warns_and_several_lines_are_counted():
    entries = [(3, '192.0.2.99', '192.0.2.99 reg.example'), (4, '192.0.2.10', '192.0.2.10 reg.example')]
    item = steps.resolve_step('reg.example', '192.0.2.10', entries, ['192.0.2.99', '192.0.2.10'], None)
    assert item['status'] == 'warn'
    ok = steps.resolve_step('reg.example', None, entries, ['192.0.2.99', '192.0.2.10'], None)
    assert ok['status'] == 'ok' and '(2 lines of /etc/hosts name it; the first counts)' in ok['summary']
    assert steps.resolve_step('192.0.2.10', '192.0.2.10', [], None, None)['status'] == 'ok'


@pytest.mark.parametrize('outcome, words', [
    ('refused', 'connection refused'), ('timeout', 'within 5 s: a firewall drops'), ('unreachable', 'no route'),
    ('error', 'cannot connect'),
])
def test_tcp_outcomes(outcome, words):
    item = steps.tcp_step('192.0.2.10', 443, outcome, 'text', 5)
    assert item['status'] == 'fail' and words in item['summary']


@pytest.mark.parametrize('speaks, tls, scheme, status', [
    ('tls', True, steps.HTTPS, 'ok'),
    ('tls', True, steps.HTTPS_INSECURE, 'warn'),
    ('tls', True, steps.HTTP, 'fail'),
    ('tls', False, steps.HTTPS_INSECURE, 'fail'),
    ('http', True, steps.HTTPS, 'fail'),
    ('http', True, steps.HTTPS_INSECURE, 'fail'),
    ('http', False, steps.HTTPS, 'fail'),
    ('http', False, steps.HTTPS_INSECURE, 'ok'),
    ('http', False, steps.HTTP, 'ok'),
    ('http', False, steps.HTTPS_NOVERIFY, 'fail'),
    ('unknown', True, steps.HTTPS, 'ok'),
    ('unknown', False, steps.HTTP, 'fail'),
])
def test_http_vs_https_matrix(speaks, tls, scheme, status):
    item = steps.protocol_step('docker', 'reg:5000', 'reg:5000', speaks, tls, scheme, 'source')
    assert item['step'] == 'http-vs-https' and item['status'] == status, item['summary']


@pytest.mark.parametrize('name, pattern, match', [
    ('reg.example', 'reg.example', True), ('REG.example.', 'reg.example', True),
    ('a.reg.example', '*.reg.example', True), ('reg.example', '*.reg.example', False),
    ('a.b.reg.example', '*.reg.example', False), ('reg.example', 'r*.example', False),
])
def test_dns_match(name, pattern, match):
    assert steps.dns_match(name, pattern) is match


def test_san_by_ip_and_without_san():
    leaf = {'dns_names': [], 'ip_addresses': ['2001:db8::1'], 'subject': 'CN=x'}
    assert steps.san_step('2001:0db8::1', leaf)['status'] == 'ok'
    assert 'registry_cert_extra_ip_addresses' in steps.san_step('192.0.2.1', leaf)['summary']
    assert 'carries no subjectAltName' in steps.san_step('x', dict(leaf, ip_addresses=[]))['summary']


@pytest.mark.parametrize('status, headers, expected_tls, result', [
    (401, {'WWW-Authenticate': 'Basic realm="x"'}, True, 'ok'),
    (200, {'Docker-Distribution-Api-Version': 'registry/2.0'}, True, 'warn'),
    (200, {}, False, 'ok'),
    (404, {}, True, 'fail'),
    (503, {'Docker-Distribution-Api-Version': 'registry/2.0'}, True, 'fail'),
])
def test_auth(status, headers, expected_tls, result):
    assert steps.auth_step('reg', status, headers, None, expected_tls)['status'] == result


def test_skew_sign_and_threshold():
    behind = steps.skew_step(NOW + datetime.timedelta(seconds=300), NOW, 60)
    assert behind['status'] == 'fail' and '300 s behind' in behind['summary']
    assert steps.skew_step(NOW, NOW + datetime.timedelta(seconds=30), 60)['status'] == 'ok'
    assert steps.skew_step(None, NOW, 60)['status'] == 'skip'


def test_expiry_windows():
    leaf = {'not_before': NOW - datetime.timedelta(days=1), 'not_after': NOW + datetime.timedelta(days=10)}
    assert steps.expiry_step(leaf, NOW, 30)['status'] == 'warn'
    assert steps.expiry_step(leaf, NOW, 5)['status'] == 'ok'
    future = dict(leaf, not_before=NOW + datetime.timedelta(days=1))
    assert 'not valid before' in steps.expiry_step(future, NOW, 5)['summary']


def _runtime(name, *statuses):
    items = [steps.step(s, st, '%s %s' % (s, st)) for s, st in zip(steps.STEPS, statuses)]
    return {'name': name, 'checked': True, 'steps': steps.complete(items)}


def test_host_verdict_names_the_first_failure_and_other_runtimes():
    docker = _runtime('docker', 'ok', 'ok', 'ok', 'ok', 'ok', 'fail')
    containers = _runtime('containers', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'fail')
    status, failed, line = steps.host_verdict('client3', [docker, containers])
    assert (status, failed) == ('fail', 'tls-chain')
    assert line == 'client3: FAIL tls-chain: tls-chain fail [docker] (also containers: tls-san)'
    assert docker['steps'][6]['summary'] == 'not checked: an earlier step (tls-chain) failed'


def test_host_verdict_without_runtimes():
    status, failed, line = steps.host_verdict('c', [{'name': 'docker', 'checked': False, 'reason': 'not installed'}])
    assert (status, failed) == ('fail', 'runtime') and 'docker: not installed' in line
