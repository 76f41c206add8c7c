"""Pure parts of the registry container logic: validation and desired-vs-inspect comparison."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from ansible_collections.berth.registry.plugins.module_utils._registry_container import (
    DEFAULT_COMMAND,
    FILES_HASH_LABEL,
    InputError,
    archive_image_id,
    compute_differences,
    current_state,
    desired_state,
    diff_of,
    files_hash,
    image_reference,
    normalize_ports,
    normalize_probe,
    probe_url,
)

IMAGE_ID = 'sha256:' + 'a' * 64
IMAGE_CONFIG = {'Env': ['PATH=/usr/bin', 'OTEL_TRACES_EXPORTER=none'], 'Cmd': list(DEFAULT_COMMAND),
                'Labels': {'org.opencontainers.image.version': '2.8.2'}}


def params(**overrides):
    base = {'name': 'registry', 'image': 'registry:2', 'data_dir': '/srv/registry', 'data_volume': None,
            'config_dir': '/etc/docker/registry', 'env': {'REGISTRY_LOG_LEVEL': 'info'}, 'labels': {'team': 'ops'},
            'command': list(DEFAULT_COMMAND), 'restart_policy': 'always', 'ports': None}
    base.update(overrides)
    return base


def inspect_of(files_hash_label='sha256:' + 'f' * 64, **overrides):
    """A `docker inspect` of the container the module would have created from params()."""
    labels = {'team': 'ops', 'org.opencontainers.image.version': '2.8.2'}
    if files_hash_label:
        labels[FILES_HASH_LABEL] = files_hash_label
    data = {
        'Id': 'c' * 64, 'Name': '/registry', 'Image': IMAGE_ID,
        'State': {'Status': 'running', 'Running': True, 'StartedAt': '2026-11-28T01:00:00Z'},
        'Config': {'Env': ['REGISTRY_LOG_LEVEL=info', 'PATH=/usr/bin', 'OTEL_TRACES_EXPORTER=none'],
                   'Cmd': list(DEFAULT_COMMAND), 'Labels': labels},
        'HostConfig': {
            'Binds': ['/srv/registry:/var/lib/registry:rw', '/etc/docker/registry:/etc/docker/registry:ro'],
            'PortBindings': {'5000/tcp': [{'HostIp': '', 'HostPort': '5000'}]},
            'RestartPolicy': {'Name': 'always', 'MaximumRetryCount': 0},
        },
    }
    for key, value in overrides.items():
        section, _sep, field = key.partition('__')
        if field:
            data[section][field] = value
        else:
            data[section] = value
    return data


def differences(inspect, files='sha256:' + 'f' * 64, image_id=IMAGE_ID, **param_overrides):
    p = params(**param_overrides)
    desired = desired_state(p, normalize_ports(p['ports']), image_id, IMAGE_CONFIG, files)
    return compute_differences(desired, current_state(inspect, IMAGE_CONFIG))


def fields(diffs):
    return [d['field'] for d in diffs]


def test_matching_container_has_no_differences():
    assert differences(inspect_of()) == []


def test_image_env_and_labels_are_not_ours_to_compare():
    # The image adds PATH/OTEL env and a version label; an unset env/label list must not churn.
    inspect = inspect_of(Config__Env=['PATH=/usr/bin', 'OTEL_TRACES_EXPORTER=none'],
                         Config__Labels={'org.opencontainers.image.version': '2.8.2'})
    assert differences(inspect, files=None, env={}, labels={}) == []


def test_env_we_no_longer_set_is_a_difference():
    diffs = differences(inspect_of(), env={})
    assert diffs == [{'field': 'env', 'before': {'REGISTRY_LOG_LEVEL': 'info'}, 'after': {}}]


def test_secret_looking_env_values_are_masked_in_the_diff():
    diffs = differences(inspect_of(), env={'REGISTRY_HTTP_SECRET': 'Tr0ub4dor&3-not-a-dummy'})
    assert diffs[0]['after'] == {'REGISTRY_HTTP_SECRET': '********'}
    assert 'Tr0ub4dor' not in json.dumps(diff_of(diffs))


@pytest.mark.parametrize('overrides, field', [
    ({'Image': 'sha256:' + 'b' * 64}, 'image'),
    ({'HostConfig__PortBindings': {'5000/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '5000'}]}}, 'ports'),
    ({'HostConfig__Binds': ['/srv/other:/var/lib/registry:rw', '/etc/docker/registry:/etc/docker/registry:ro']}, 'binds'),
    ({'HostConfig__RestartPolicy': {'Name': 'unless-stopped', 'MaximumRetryCount': 0}}, 'restart_policy'),
    ({'Config__Cmd': ['serve', '/etc/other.yml']}, 'command'),
])
def test_each_managed_field_is_compared(overrides, field):
    assert fields(differences(inspect_of(**overrides))) == [field]


def test_changed_restart_files_are_reported_without_the_hash():
    diffs = differences(inspect_of(), files='sha256:' + '0' * 64)
    assert diffs == [{'field': 'restart_files', 'before': 'content at last start', 'after': 'changed content'}]
    assert '0' * 64 not in json.dumps(diffs) and 'f' * 64 not in json.dumps(diffs)


def test_files_hash_label_is_not_a_user_label():
    assert fields(differences(inspect_of(files_hash_label=None))) == ['restart_files']
    assert fields(differences(inspect_of(), files=None)) == ['restart_files']


def test_empty_host_ip_means_all_addresses_and_binds_without_mode_mean_rw():
    inspect = inspect_of(HostConfig__PortBindings={'5000/tcp': [{'HostIp': '0.0.0.0', 'HostPort': '5000'}]},
                         HostConfig__Binds=['/srv/registry:/var/lib/registry',
                                            '/etc/docker/registry:/etc/docker/registry:ro'])
    assert differences(inspect) == []


def test_restart_policy_no_matches_an_empty_name():
    inspect = inspect_of(HostConfig__RestartPolicy={'Name': '', 'MaximumRetryCount': 0})
    assert differences(inspect, restart_policy='no') == []


def test_data_volume_replaces_the_data_dir_bind():
    inspect = inspect_of(HostConfig__Binds=['regdata:/var/lib/registry:rw', '/etc/docker/registry:/etc/docker/registry:ro'])
    assert differences(inspect, data_dir=None, data_volume='regdata') == []
    assert fields(differences(inspect)) == ['binds']


def test_unknown_image_in_check_mode_is_a_difference():
    diffs = differences(inspect_of(), image_id=None)
    assert diffs[0]['field'] == 'image' and diffs[0]['after'] == 'image still to be pulled or loaded'


def test_empty_command_means_the_image_command():
    assert differences(inspect_of(), command=[]) == []


def test_several_ports_compare_regardless_of_order():
    ports = [{'host_port': 443, 'container_port': 443}, {'host_port': 5000, 'bind_address': '127.0.0.1'}]
    inspect = inspect_of(HostConfig__PortBindings={
        '5000/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '5000'}],
        '443/tcp': [{'HostIp': '', 'HostPort': '443'}]})
    assert differences(inspect, ports=ports) == []


# ------------------------------------------------------------- validation

@pytest.mark.parametrize('port, message', [
    ({'host_port': 0}, "ports[0].host_port: 0 is not a valid port number (allowed: 1..65535)"),
    ({'host_port': 70000}, "ports[0].host_port: 70000 is not a valid port number (allowed: 1..65535)"),
    ({'host_port': 5000, 'container_port': -1}, "ports[0].container_port: -1 is not a valid port number"),
    ({'host_port': 5000, 'bind_address': 'localhost'}, "ports[0].bind_address: 'localhost' is not an IP address"),
    ({'host_port': 5000, 'protocol': 'sctp'}, "ports[0].protocol: 'sctp' is not allowed (allowed: tcp, udp)"),
])
def test_bad_ports_are_named(port, message):
    with pytest.raises(InputError) as err:
        normalize_ports([port])
    assert message in str(err.value)


def test_duplicate_port_is_refused():
    with pytest.raises(InputError, match='published twice'):
        normalize_ports([{'host_port': 5000}, {'host_port': 5000, 'container_port': 443}])


def test_default_ports_and_probe():
    ports = normalize_ports(None)
    assert ports == [{'host_port': 5000, 'container_port': 5000, 'bind_address': '0.0.0.0', 'protocol': 'tcp'}]
    probe = normalize_probe(None, ports)
    assert probe_url(probe) == 'https://127.0.0.1:5000'


def test_probe_follows_a_specific_bind_address():
    ports = normalize_ports([{'host_port': 8443, 'bind_address': '::1'}, {'host_port': 5000}])
    assert probe_url(normalize_probe({'scheme': 'http'}, ports)) == 'http://[::1]:8443'
    assert probe_url(normalize_probe(None, normalize_ports([{'host_port': 5000, 'bind_address': '::'}]))) == 'https://127.0.0.1:5000'


def test_probe_needs_a_port_when_nothing_is_published():
    with pytest.raises(InputError, match='probe.port'):
        normalize_probe(None, [])
    assert normalize_probe({'enabled': False}, [])['enabled'] is False


def test_files_hash_depends_on_content_and_names_a_missing_file(tmp_path):
    config, cert = tmp_path / 'config.yml', tmp_path / 'tls.crt'
    config.write_text('version: 0.1\n')
    cert.write_text('CERT-1\n')
    first = files_hash([str(config), str(cert)])
    assert first == files_hash([str(cert), str(config)])  # order of the list does not matter
    cert.write_text('CERT-2\n')
    assert files_hash([str(config), str(cert)]) != first
    assert files_hash([]) is None
    with pytest.raises(InputError) as err:
        files_hash([str(config), str(tmp_path / 'missing.key')])
    assert str(tmp_path / 'missing.key') in str(err.value)


def test_image_reference_adds_latest_only_without_tag_or_digest():
    assert image_reference('registry') == 'registry:latest'
    assert image_reference('registry:3') == 'registry:3'
    assert image_reference('localhost:5000/registry') == 'localhost:5000/registry:latest'
    assert image_reference('registry@sha256:' + 'a' * 64) == 'registry@sha256:' + 'a' * 64


def _archive(path, manifest):
    with tarfile.open(path, 'w') as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo('manifest.json')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_archive_image_id_from_both_save_formats(tmp_path):
    classic, oci = tmp_path / 'classic.tar', tmp_path / 'oci.tar'
    _archive(classic, [{'Config': 'b' * 64 + '.json', 'RepoTags': ['registry:2']}])
    _archive(oci, [{'Config': 'blobs/sha256/' + 'c' * 64, 'RepoTags': ['registry:2']}])
    assert archive_image_id(str(classic), 'registry:2') == 'sha256:' + 'b' * 64
    assert archive_image_id(str(oci), 'registry:2') == 'sha256:' + 'c' * 64
    with pytest.raises(InputError, match='does not hold registry:3 .it holds: registry:2'):
        archive_image_id(str(classic), 'registry:3')
    (tmp_path / 'garbage.tar').write_bytes(b'not a tar')
    assert archive_image_id(str(tmp_path / 'garbage.tar'), 'registry:2') is None
