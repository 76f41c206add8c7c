"""Image pull/load: the reference, the archive's manifest, the decision, and acting on a fake engine."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from ansible_collections.berth.registry.plugins.module_utils._registry_container import image
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import (
    ContainerInputError,
    ImageError,
)
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import ContainerSpec

from .fake_engine import IMAGE_ID, FakeClient


def test_image_reference_adds_latest_only_without_tag_or_digest():
    assert image.image_reference('registry') == 'registry:latest'
    assert image.image_reference('registry:3') == 'registry:3'
    assert image.image_reference('localhost:5000/registry') == 'localhost:5000/registry:latest'
    assert image.image_reference('registry@sha256:' + 'a' * 64) == 'registry@sha256:' + 'a' * 64


def _archive(path, manifest):
    data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    with tarfile.open(str(path), 'w') as tar:
        info = tarfile.TarInfo('manifest.json')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return str(path)


def test_archive_image_id_from_both_save_formats(tmp_path):
    classic = _archive(tmp_path / 'classic.tar', [{'Config': 'b' * 64 + '.json', 'RepoTags': ['registry:2']}])
    oci = _archive(tmp_path / 'oci.tar', [{'Config': 'blobs/sha256/' + 'c' * 64, 'RepoTags': ['registry:2']}])
    assert image.archive_image_id(classic, 'registry:2') == 'sha256:' + 'b' * 64
    assert image.archive_image_id(oci, 'registry:2') == 'sha256:' + 'c' * 64
    with pytest.raises(ContainerInputError, match='does not hold registry:3 .it holds: registry:2'):
        image.archive_image_id(classic, 'registry:3')


def test_an_archive_that_cannot_be_read_here_is_left_to_docker_load(tmp_path):
    (tmp_path / 'garbage.tar').write_bytes(b'not a tar')
    assert image.archive_image_id(str(tmp_path / 'garbage.tar'), 'registry:2') is None


@pytest.mark.parametrize('manifest, message', [
    (b'{"Config": "x"}', 'is not a list of images'),
    (b'"registry:2"', 'is not a list of images'),
    (b'[1, 2]', 'is not a list of images'),
    (b'[{"RepoTags": "registry:2", "Config": "x"}]', 'entry 0 has no list of RepoTags'),
    (b'[{"RepoTags": ["registry:2"], "Config": 7}]', 'entry 0 has no list of RepoTags or no Config path'),
    (b'[{"RepoTags": ["\xff"]}]', 'is not UTF-8'),
    (b'[{', 'is not valid JSON'),
])
def test_a_malformed_manifest_is_named(tmp_path, manifest, message):
    path = _archive(tmp_path / 'bad.tar', manifest)
    with pytest.raises(ContainerInputError) as err:
        image.archive_image_id(path, 'registry:2')
    assert 'image_archive: %s is not a docker save archive: manifest.json' % path in str(err.value)
    assert message in str(err.value)


def test_a_tar_without_manifest_is_not_an_image_archive(tmp_path):
    with tarfile.open(str(tmp_path / 'empty.tar'), 'w'):
        pass
    with pytest.raises(ContainerInputError, match='manifest.json is missing'):
        image.archive_image_id(str(tmp_path / 'empty.tar'), 'registry:2')


@pytest.mark.parametrize('pull, archive, local, archive_id, source', [
    ('missing', False, None, None, 'pull'),
    ('missing', False, 'sha256:1', None, None),
    ('always', False, 'sha256:1', None, 'pull'),
    ('never', False, 'sha256:1', None, None),
    ('missing', True, None, 'sha256:1', 'load'),
    ('never', True, None, None, 'load'),
    ('always', True, 'sha256:1', 'sha256:1', None),
    ('always', True, 'sha256:1', 'sha256:2', 'load'),
    ('always', True, 'sha256:1', None, 'load'),
])
def test_image_source(pull, archive, local, archive_id, source):
    assert image.image_source(pull, archive, 'registry:2', local, archive_id) == source


def test_pull_never_without_the_image_fails_naming_it():
    with pytest.raises(ImageError, match='image registry:9 is not on this host and pull=never'):
        image.image_source('never', False, 'registry:9', None, None)


def test_ensure_image_pulls_only_outside_check_mode():
    client = FakeClient()
    spec = ContainerSpec(image='registry:3', probe={'enabled': False})
    predicted = image.ensure_image(client, spec, None, check_mode=True)
    assert predicted.changed and predicted.id is None and not predicted.pulled
    assert not [c for c in client.calls if c[0] == 'pull']
    outcome = image.ensure_image(client, spec, None, check_mode=False)
    assert outcome.pulled and outcome.changed and outcome.id == 'sha256:' + 'b' * 64


def test_ensure_image_keeps_a_present_image():
    outcome = image.ensure_image(FakeClient(), ContainerSpec(probe={'enabled': False}), None, check_mode=False)
    assert not outcome.changed and outcome.id == IMAGE_ID and not outcome.pulled


def test_a_pull_error_event_is_an_image_error():
    client = FakeClient()
    client.pull = lambda *a, **k: iter([{'error': 'manifest unknown'}])
    with pytest.raises(ImageError, match='pulling registry:9 failed: manifest unknown'):
        image.ensure_image(client, ContainerSpec(image='registry:9', probe={'enabled': False}), None, False)
