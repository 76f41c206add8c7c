"""The pure parts of the garbage collection: output parsing, the read-only twin, the storage tree."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.berth.registry.plugins.module_utils._registry_gc import output, storage, twin

from .fake_engine import GC_DRY, registry_inspect

GC_REAL = """\
app/x: marking manifest sha256:%s
app/x: marking blob sha256:%s
manifest eligible for deletion: app/y@sha256:%s
3 blobs marked, 2 blobs and 1 manifests eligible for deletion
blob eligible for deletion: sha256:%s
time="2026-11-28T14:01:09Z" level=info msg="Deleting blob: /docker/registry/v2/blobs/sha256/aa/%s"
blob eligible for deletion: sha256:%s
""" % ('a' * 64, 'b' * 64, 'c' * 64, 'd' * 64, 'd' * 64, 'e' * 64)


def test_gc_output_counts_and_digests():
    parsed = output.parse_gc_output(GC_REAL)
    assert (parsed['blobs_marked'], parsed['blobs_eligible'], parsed['manifests_eligible']) == (3, 2, 1)
    assert parsed['blobs'] == ['sha256:' + 'd' * 64, 'sha256:' + 'e' * 64]
    assert parsed['manifests'] == ['sha256:' + 'c' * 64]
    assert output.parse_gc_output(GC_DRY)['blobs_eligible'] == 2


def test_gc_output_without_summary_is_an_error():
    with pytest.raises(output.GcOutputError, match='no summary line'):
        output.parse_gc_output('failed to garbage collect: open /etc/docker/registry/config.yml: no such file')


@pytest.mark.parametrize('text, version', [
    ('/bin/registry github.com/docker/distribution 2.8.2+ds1', (2, 8, 2)),
    ('registry github.com/distribution/distribution/v3 v3.0.0', (3, 0, 0)),
    ('registry github.com/distribution/distribution/v3 3.0.0-rc.1', (3, 0, 0)),
    ('something else', None),
])
def test_registry_version(text, version):
    assert output.parse_version(text) == version


def test_twin_is_the_same_container_plus_the_read_only_override():
    inspect = registry_inspect()
    body = twin.twin_config(inspect, 'registry')
    assert body['Image'] == inspect['Image'] and body['Cmd'] == inspect['Config']['Cmd']
    assert body['Entrypoint'] == ['/bin/registry']
    assert body['HostConfig']['Binds'] == inspect['HostConfig']['Binds']
    assert body['HostConfig']['PortBindings'] == inspect['HostConfig']['PortBindings']
    assert body['HostConfig']['RestartPolicy'] == {'Name': 'no', 'MaximumRetryCount': 0}
    assert body['Env'][:2] == inspect['Config']['Env']
    assert body['Env'][-1] == 'REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}'
    assert twin.is_readonly_env(body['Env']) and not twin.is_readonly_env(inspect['Config']['Env'])
    assert body['Labels'][twin.TWIN_LABEL] == 'registry'
    assert body['Labels']['berth.registry.files-hash'] == 'abc'
    assert 'Hostname' not in body and 'NetworkingConfig' not in body
    # twice: no second override
    again = twin.twin_config(dict(inspect, Config=dict(inspect['Config'], Env=body['Env'])), 'registry')
    assert sum(1 for e in again['Env'] if e.startswith(twin.READONLY_ENV)) == 1


def test_twin_joins_a_user_network_with_the_aliases_but_not_the_old_id():
    inspect = registry_inspect()
    inspect['HostConfig']['NetworkMode'] = 'registry-net'
    inspect['NetworkSettings']['Networks'] = {'registry-net': {'IPAddress': '10.0.0.5',
                                                               'Aliases': ['registry', inspect['Id'][:12]]}}
    body = twin.twin_config(inspect, 'registry')
    assert body['NetworkingConfig'] == {'EndpointsConfig': {'registry-net': {'Aliases': ['registry']}}}


def test_config_path_data_source_and_probe_target():
    inspect = registry_inspect(data_dir='/srv/data')
    assert twin.config_path(inspect) == '/etc/docker/registry/config.yml'
    assert twin.config_path({'Config': {'Cmd': ['serve']}}) == twin.DEFAULT_CONFIG
    assert twin.data_source(inspect) == '/srv/data'
    assert twin.data_source(inspect, '/elsewhere') is None
    assert twin.probe_target(inspect) == ('172.17.0.2', 443)
    host = registry_inspect()
    host['HostConfig']['NetworkMode'] = 'host'
    assert twin.probe_target(host) == ('127.0.0.1', 443)
    assert twin.probe_target({'Config': {}, 'HostConfig': {}, 'NetworkSettings': {}}) is None


def write_blob(root, digest, data):
    path = storage.blob_path(root, digest)
    os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as f:
        f.write(data)


def link_manifest(root, repository, digest):
    path = os.path.join(root, storage.V2, 'repositories', repository, '_manifests', 'revisions', 'sha256',
                        digest.split(':')[1])
    os.makedirs(path)
    with open(os.path.join(path, 'link'), 'w') as f:
        f.write(digest)


def test_image_indexes_are_found_plain_manifests_are_not(tmp_path):
    root = str(tmp_path)
    index, image, oci = 'sha256:' + '1' * 64, 'sha256:' + '2' * 64, 'sha256:' + '3' * 64
    write_blob(root, index, json.dumps({'schemaVersion': 2, 'mediaType': storage.INDEX_TYPES[0],
                                        'manifests': []}).encode())
    write_blob(root, image, json.dumps({'schemaVersion': 2, 'mediaType':
                                        'application/vnd.docker.distribution.manifest.v2+json',
                                        'config': {}, 'layers': []}).encode())
    write_blob(root, oci, json.dumps({'schemaVersion': 2, 'manifests': []}).encode())
    link_manifest(root, 'multi/arch', index)
    link_manifest(root, 'single', image)
    link_manifest(root, 'oci', oci)
    link_manifest(root, 'gone', 'sha256:' + '4' * 64)  # a link whose blob was collected
    assert storage.image_indexes(root) == [('multi/arch', index), ('oci', oci)]
    assert storage.image_indexes(str(tmp_path / 'absent')) == []
    assert storage.blob_bytes(root, [image, 'sha256:' + '9' * 64]) > 0
