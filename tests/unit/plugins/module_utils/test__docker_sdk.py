"""The Docker SDK layer: connection options checked first, engine failures as messages."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils import _docker_sdk
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError


@pytest.mark.parametrize('docker_host, timeout, message', [
    ('unix:///var/run/docker.sock\nx', 60, 'docker_host'),
    ('unix:///var/run/docker.sock', 0, 'timeout: 0 must be at least 1 second'),
    ('unix:///var/run/docker.sock', True, 'timeout: True must be at least 1 second'),
    ('unix:///var/run/docker.sock', 10 ** 9, 'at most 86400'),
])
def test_connection_options_are_checked_before_connecting(docker_host, timeout, message):
    with pytest.raises(BerthError) as err:
        _docker_sdk.create_client(docker_host, timeout)
    assert message in str(err.value)


def test_an_engine_that_does_not_answer_is_named(tmp_path):
    with pytest.raises(_docker_sdk.EngineError) as err:
        _docker_sdk.create_client('unix://%s/no.sock' % tmp_path, 5)
    assert 'cannot talk to the Docker engine at unix://%s/no.sock' % tmp_path in str(err.value)


def test_a_missing_sdk_is_a_message_not_a_traceback(monkeypatch):
    monkeypatch.setattr(_docker_sdk, 'DOCKER_IMPORT_ERROR', 'Traceback ...\nImportError: No module named docker')
    with pytest.raises(_docker_sdk.DockerSdkError) as err:
        _docker_sdk.check_docker_sdk()
    assert 'docker >= 5.0.3' in str(err.value)
    monkeypatch.setattr(_docker_sdk, 'DOCKER_IMPORT_ERROR', None)
    monkeypatch.setattr(_docker_sdk, 'DOCKER_SDK_VERSION', '4.4.4')
    with pytest.raises(_docker_sdk.DockerSdkError, match='found docker 4.4.4'):
        _docker_sdk.check_docker_sdk()
