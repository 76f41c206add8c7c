"""The readiness probe: settings (pure) and the wait loop (fake opener and clock)."""

from __future__ import annotations

import urllib.error

import pytest

from ansible_collections.berth.registry.plugins.module_utils._registry_container import probe
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ContainerInputError
from ansible_collections.berth.registry.plugins.module_utils._registry_container.fields import normalize_ports


def test_default_port_and_host():
    settings = probe.settings(None, normalize_ports(None))
    assert probe.url(settings) == 'https://127.0.0.1:5000'


def test_probe_follows_a_specific_bind_address():
    ports = normalize_ports([{'host_port': 8443, 'bind_address': '::1'}, {'host_port': 5000}])
    assert probe.url(probe.settings({'scheme': 'http'}, ports)) == 'http://[::1]:8443'
    wildcard = normalize_ports([{'host_port': 5000, 'bind_address': '::'}])
    assert probe.url(probe.settings(None, wildcard)) == 'https://127.0.0.1:5000'


@pytest.mark.parametrize('settings, message', [
    (None, 'probe.port is needed when no port is published'),
    ({'port': 0}, 'probe.port: 0 is not a valid port number'),
    ({'port': 5000, 'timeout': 0}, 'probe.timeout: 0 must be at least 1 second'),
    ({'port': 5000, 'host': 'fe80::1%eth0'}, 'probe.host'),
    ({'port': 5000, 'host': 'not a host!'}, "probe.host: 'not a host!' is not a valid DNS name"),
    ({'port': 5000, 'ca_path': 'ca.crt'}, "probe.ca_path: 'ca.crt' must be an absolute path"),
    ({'port': 5000, 'scheme': 'ftp'}, "probe.scheme: 'ftp' is not allowed"),
])
def test_bad_settings(settings, message):
    with pytest.raises(ContainerInputError) as err:
        probe.settings(settings, [])
    assert message in str(err.value)


def test_disabled_probe_needs_nothing():
    assert probe.settings({'enabled': False}, [])['enabled'] is False


def test_a_ca_path_that_is_no_ca_bundle_is_refused_before_anything(tmp_path):
    (tmp_path / 'ca.crt').write_text('not a certificate\n')
    settings = probe.settings({'ca_path': str(tmp_path / 'ca.crt')}, normalize_ports(None))
    with pytest.raises(ContainerInputError, match='cannot be used as a CA bundle'):
        probe.opener(settings)


class Response(object):
    def __init__(self, status):
        self.status = status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Opener(object):
    """Answers with the queued outcomes: an int status, or an exception."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.urls = []

    def open(self, url, timeout=None):
        self.urls.append(url)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        if outcome >= 400:
            raise urllib.error.HTTPError(url, outcome, 'x', {}, None)
        return Response(outcome)


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def wait(opener, crashed=None, timeout=2):
    settings = probe.settings({'scheme': 'http', 'timeout': timeout}, normalize_ports(None))
    clock = Clock()
    return probe.wait_until_answering(settings, crashed or (lambda: None), opener, clock=clock, sleep=clock.sleep)


def test_answers_after_some_refusals_and_401_counts_as_answering():
    opener = Opener(ConnectionRefusedError('refused'), 200, 401)
    assert wait(opener) is None
    assert opener.urls[-2:] == ['http://127.0.0.1:5000/', 'http://127.0.0.1:5000/v2/']


def test_a_timeout_and_a_crash_say_what_went_wrong():
    assert 'no answer within 2 s' in wait(Opener(ConnectionRefusedError('refused')))
    assert 'answered HTTP 500' in wait(Opener(500))
    crash = wait(Opener(ConnectionRefusedError('refused')), crashed=lambda: 'the container exited (exit code 1)')
    assert crash.startswith('the container exited (exit code 1); http://127.0.0.1:5000/')
