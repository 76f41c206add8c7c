"""The field table: desired vs `docker inspect` comparison, secret display, create arguments, docs."""

from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._registry_container import fields
from ansible_collections.berth.registry.plugins.module_utils._registry_container.fields import (
    FILES_HASH_LABEL,
    SECRET_ENV_LABEL,
    Resolved,
)
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import ContainerSpec
from ansible_collections.berth.registry.plugins.modules import registry_container

from .fake_engine import IMAGE_CONFIG, IMAGE_ID

HASH = 'sha256:' + 'f' * 64
SECRET = 'Mk-3f9c1e-HTTPSECRET-7d2a'


def spec(**overrides):
    base = dict(name='registry', data_dir='/srv/registry', config_dir='/etc/docker/registry',
                env={'REGISTRY_LOG_LEVEL': 'info'}, labels={'team': 'ops'}, probe={'enabled': False})
    base.update(overrides)
    return ContainerSpec(**base)


def inspect_of(files_hash_label=HASH, env=('REGISTRY_LOG_LEVEL=info',), **overrides):
    """A `docker inspect` of the container the module would have created from spec()."""
    labels = {'team': 'ops', 'org.opencontainers.image.version': '2.8.2'}
    if files_hash_label:
        labels[FILES_HASH_LABEL] = files_hash_label
    data = {
        'Id': 'c' * 64, 'Name': '/registry', 'Image': IMAGE_ID,
        'State': {'Status': 'running', 'Running': True, 'StartedAt': '2026-11-28T01:00:00Z'},
        'Config': {'Env': list(env) + ['PATH=/usr/bin', 'OTEL_TRACES_EXPORTER=none'],
                   'Cmd': list(fields.DEFAULT_COMMAND), 'Labels': labels},
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


def differences(inspect, files=HASH, image_id=IMAGE_ID, **overrides):
    tracker = fields.compare(spec(**overrides), Resolved(image_id, IMAGE_CONFIG, files), inspect, Differences())
    return tracker.as_list()


def names(diffs):
    return [d['field'] for d in diffs]


def test_matching_container_has_no_differences():
    assert differences(inspect_of()) == []


def test_image_env_and_labels_are_not_ours_to_compare():
    # The image adds PATH/OTEL env and a version label; an unset env/label list must not churn.
    inspect = inspect_of(env=(), Config__Labels={'org.opencontainers.image.version': '2.8.2'})
    assert differences(inspect, files=None, env={}, labels={}) == []


def test_env_is_compared_variable_by_variable():
    assert differences(inspect_of(), env={}) == [{'field': 'env.REGISTRY_LOG_LEVEL', 'before': 'info', 'after': None}]
    assert differences(inspect_of(), env={'REGISTRY_LOG_LEVEL': 'debug'}) == [
        {'field': 'env.REGISTRY_LOG_LEVEL', 'before': 'info', 'after': 'debug'}]


def test_plain_env_values_whose_name_looks_secret_are_masked():
    diffs = differences(inspect_of(), env={'REGISTRY_LOG_LEVEL': 'info', 'REGISTRY_HTTP_SECRET': SECRET})
    assert diffs == [{'field': 'env.REGISTRY_HTTP_SECRET', 'before': None, 'after': '(secret)'}]


def test_secret_env_is_compared_without_showing_a_value():
    inspect = inspect_of(env=('REGISTRY_LOG_LEVEL=info', 'REGISTRY_HTTP_SECRET=' + SECRET, 'OPAQUE=' + SECRET + 'x'),
                         Config__Labels={'team': 'ops', FILES_HASH_LABEL: HASH,
                                         SECRET_ENV_LABEL: 'OPAQUE,REGISTRY_HTTP_SECRET'})
    same = {'REGISTRY_HTTP_SECRET': SECRET, 'OPAQUE': SECRET + 'x'}
    assert differences(inspect, secret_env=same) == []
    rotated = differences(inspect, secret_env={'REGISTRY_HTTP_SECRET': SECRET + '-2', 'OPAQUE': SECRET + 'x'})
    assert rotated == [{'field': 'secret_env.REGISTRY_HTTP_SECRET', 'before': '(secret)', 'after': '(secret, changed)'}]
    removed = differences(inspect, secret_env={'REGISTRY_HTTP_SECRET': SECRET})
    assert removed == [{'field': 'secret_env.OPAQUE', 'before': '(secret)', 'after': None}]
    assert SECRET not in json.dumps(rotated + removed)


def test_a_plain_env_variable_moved_to_secret_env_is_masked_on_both_sides():
    inspect = inspect_of(env=('REGISTRY_LOG_LEVEL=info', 'OPAQUE=' + SECRET))  # an older container, no label
    diffs = differences(inspect, secret_env={'OPAQUE': SECRET})
    assert diffs == [{'field': 'env.OPAQUE', 'before': '(secret)', 'after': None},
                     {'field': 'secret_env.OPAQUE', 'before': None, 'after': '(secret)'}]


@pytest.mark.parametrize('overrides, field', [
    ({'Image': 'sha256:' + 'b' * 64}, 'image'),
    ({'HostConfig__PortBindings': {'5000/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '5000'}]}}, 'ports'),
    ({'HostConfig__Binds': ['/srv/other:/var/lib/registry:rw', '/etc/docker/registry:/etc/docker/registry:ro']}, 'binds'),
    ({'HostConfig__RestartPolicy': {'Name': 'unless-stopped', 'MaximumRetryCount': 0}}, 'restart_policy'),
    ({'Config__Cmd': ['serve', '/etc/other.yml']}, 'command'),
    ({'Config__Labels': {'team': 'dev', FILES_HASH_LABEL: HASH}}, 'labels.team'),
])
def test_each_managed_field_is_compared(overrides, field):
    assert names(differences(inspect_of(**overrides))) == [field]


def test_changed_restart_files_are_reported_without_the_hash():
    diffs = differences(inspect_of(), files='sha256:' + '0' * 64)
    assert diffs == [{'field': 'restart_files', 'before': 'content at last start', 'after': 'changed content'}]
    assert '0' * 64 not in json.dumps(diffs) and 'f' * 64 not in json.dumps(diffs)


def test_files_hash_label_is_not_a_user_label():
    assert names(differences(inspect_of(files_hash_label=None))) == ['restart_files']
    assert names(differences(inspect_of(), files=None)) == ['restart_files']


def test_empty_host_ip_means_all_addresses_and_binds_without_mode_mean_rw():
    inspect = inspect_of(HostConfig__PortBindings={'5000/tcp': [{'HostIp': '0.0.0.0', 'HostPort': '5000'}]},
                         HostConfig__Binds=['/srv/registry:/var/lib/registry', '/etc/docker/registry:/etc/docker/registry:ro'])
    assert differences(inspect) == []


def test_restart_policy_no_matches_an_empty_name():
    inspect = inspect_of(HostConfig__RestartPolicy={'Name': '', 'MaximumRetryCount': 0})
    assert differences(inspect, restart_policy='no') == []


def test_data_volume_replaces_the_data_dir_bind():
    inspect = inspect_of(HostConfig__Binds=['regdata:/var/lib/registry:rw', '/etc/docker/registry:/etc/docker/registry:ro'])
    assert differences(inspect, data_dir=None, data_volume='regdata') == []
    assert names(differences(inspect)) == ['binds']


def test_unknown_image_in_check_mode_is_a_difference():
    diffs = differences(inspect_of(), image_id=None)
    assert diffs[0]['field'] == 'image' and diffs[0]['after'] == fields.IMAGE_TO_COME


def test_empty_command_means_the_image_command():
    assert differences(inspect_of(), command=[]) == []


def test_several_ports_compare_regardless_of_order():
    ports = [{'host_port': 443, 'container_port': 443}, {'host_port': 5000, 'bind_address': '127.0.0.1'}]
    inspect = inspect_of(HostConfig__PortBindings={
        '5000/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '5000'}],
        '443/tcp': [{'HostIp': '', 'HostPort': '443'}]})
    assert differences(inspect, ports=ports) == []


def test_the_create_request_matches_what_compare_expects():
    s = spec(env={'REGISTRY_LOG_LEVEL': 'info'}, secret_env={'REGISTRY_HTTP_SECRET': SECRET},
             ports=[{'host_port': 8443, 'container_port': 443, 'bind_address': '::1'}])
    request = fields.create_request(s, Resolved(IMAGE_ID, IMAGE_CONFIG, HASH), 'registry-berth-new')
    assert request.container == {'name': 'registry-berth-new', 'detach': True, 'image': 'registry:2',
                                 'ports': [(443, 'tcp')], 'command': list(fields.DEFAULT_COMMAND)}
    assert request.host_config == {
        'port_bindings': {'443/tcp': [('::1', 8443)]},
        'binds': ['/etc/docker/registry:/etc/docker/registry:ro', '/srv/registry:/var/lib/registry:rw'],
        'restart_policy': {'Name': 'always', 'MaximumRetryCount': 0}}
    assert request.environment == {'REGISTRY_LOG_LEVEL': 'info', 'REGISTRY_HTTP_SECRET': SECRET}
    assert request.labels == {'team': 'ops', SECRET_ENV_LABEL: 'REGISTRY_HTTP_SECRET', FILES_HASH_LABEL: HASH}


def test_every_option_of_the_table_is_in_the_argument_spec_once():
    seen = []
    for field in fields.FIELDS:
        seen.extend(field.options)
    assert len(seen) == len(set(seen))
    assert set(seen) <= set(fields.option_specs())
    assert fields.option_specs()['secret_env']['no_log'] is True


def test_return_docs_list_every_field_of_the_table():
    """RETURN's differences[].field description is generated from the table: paste the lines printed on failure."""
    documented = yaml.safe_load(registry_container.RETURN)
    expected = fields.differences_field_doc()
    assert documented['differences']['contains']['field']['description'] == expected, (
        'update RETURN in plugins/modules/registry_container.py:\n' + '\n'.join('        - ' + line for line in expected))
