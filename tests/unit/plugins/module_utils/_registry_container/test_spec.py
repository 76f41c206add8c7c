"""ContainerSpec: plain values checked at once, each bad value named with what is allowed."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ContainerInputError
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import (
    ContainerSpec,
    argument_spec,
)

SECRET = 'Mk-3f9c1e-HTTPSECRET-7d2a'


def bad(message, **values):
    with pytest.raises(ContainerInputError) as err:
        ContainerSpec(**values)
    assert message in str(err.value), str(err.value)
    return str(err.value)


def test_defaults_follow_the_argument_spec():
    spec = ContainerSpec()
    assert spec.name == 'registry' and spec.image == 'registry:2' and spec.data_dir == '/var/lib/registry'
    assert spec.ports == [{'host_port': 5000, 'container_port': 5000, 'bind_address': '0.0.0.0', 'protocol': 'tcp'}]
    assert spec.data_dir_mode == 0o700 and spec.state == 'started' and spec.env == {} and spec.secret_env == {}
    assert spec.probe['host'] == '127.0.0.1' and spec.probe['port'] == 5000


def test_from_params_takes_the_module_params_without_the_connection():
    params = dict((k, v.get('default')) for k, v in argument_spec().items())
    params.update(name='reg1', docker_host='unix:///run/docker.sock', timeout=5)
    assert ContainerSpec.from_params(params).name == 'reg1'
    bad('unknown container option(s): docker_host', docker_host='unix:///x')


@pytest.mark.parametrize('port, message', [
    ({'host_port': 0}, 'ports[0].host_port: 0 is not a valid port number (allowed: 1..65535)'),
    ({'host_port': 70000}, 'ports[0].host_port: 70000 is not a valid port number (allowed: 1..65535)'),
    ({'host_port': '5000'}, "ports[0].host_port: '5000' is not a valid port number"),
    ({'host_port': True}, 'ports[0].host_port: True is not a valid port number'),
    ({'host_port': 5000, 'container_port': -1}, 'ports[0].container_port: -1 is not a valid port number'),
    ({'host_port': 5000, 'bind_address': 'localhost'}, "ports[0].bind_address: 'localhost' is not an IPv4 or IPv6 address"),
    ({'host_port': 5000, 'bind_address': 'fe80::1%eth0'}, 'carries a zone'),
    ({'host_port': 5000, 'bind_address': '127.0.0.1\n127.0.0.2'}, 'contains a control character'),
    ({'host_port': 5000, 'protocol': 'sctp'}, "ports[0].protocol: 'sctp' is not allowed (allowed: tcp, udp)"),
    ({'container_port': 5000}, 'ports[0].host_port is required'),
])
def test_bad_ports_are_named(port, message):
    bad(message, ports=[port])


def test_ports_are_normalized_and_a_duplicate_is_refused():
    spec = ContainerSpec(ports=[{'host_port': 8443, 'bind_address': '[::1]'}], probe={'scheme': 'http'})
    assert spec.ports[0]['bind_address'] == '::1' and spec.probe['host'] == '::1'
    bad('ports[1]: 0.0.0.0:5000/tcp is published twice', ports=[{'host_port': 5000}, {'host_port': 5000, 'container_port': 443}])


@pytest.mark.parametrize('name, message', [
    ('reg istry', "name: 'reg istry' is not a valid container name: letters, digits and _ . -"),
    ('../etc', "name: '../etc' is not a valid container name"),
    ('reg\nistry', 'contains a control character'),
    ('r' * 129, 'is longer than 128 characters'),
    ('', 'name must not be empty'),
    (None, 'must be a string'),
])
def test_bad_names(name, message):
    bad(message, name=name)


@pytest.mark.parametrize('image', ['registry:2', 'registry', 'localhost:5000/library/registry:2.8.2',
                                   'registry@sha256:' + 'a' * 64, 'my-org/my_image:v1.0-rc1', 'registry:3'])
def test_good_image_references(image):
    assert ContainerSpec(image=image).image == image


@pytest.mark.parametrize('image, message', [
    ('Registry:2', 'lower-case'), ('registry:2\nx', 'control character'), ('', 'must not be empty'),
    ('registry:', 'not a valid image reference'), ('a//b', 'not a valid image reference'),
    ('registry:2 --privileged', 'not a valid image reference'),
])
def test_bad_image_references(image, message):
    bad(message, image=image)


@pytest.mark.parametrize('values, message', [
    ({'data_dir': 'data'}, "data_dir: 'data' must be an absolute path"),
    ({'data_dir': '/srv/a:b'}, "data_dir: '/srv/a:b' contains ':'"),
    ({'data_dir': '/'}, "data_dir: '/' cannot be the registry's data directory"),
    ({'data_dir': '/srv/..'}, "data_dir: '/' cannot be the registry's data directory"),
    ({'config_dir': '/etc/a:b'}, "config_dir: '/etc/a:b' contains ':'"),
    ({'data_dir': None, 'data_volume': '/etc'}, "data_volume: '/etc' is not a valid volume name"),
    ({'data_dir': '/srv', 'data_volume': 'v'}, 'data_dir and data_volume: give one of them'),
    ({'data_dir_mode': '999'}, "data_dir_mode: '999' is not a file mode"),
    ({'data_dir_mode': '77777'}, 'out of range'),
    ({'restart_files': ['config.yml']}, "restart_files: 'config.yml' must be an absolute path"),
    ({'image_archive': 'image.tar'}, "image_archive: 'image.tar' must be an absolute path"),
    ({'env': {'A=B': 'x'}}, "env: 'A=B' is not a valid variable name"),
    ({'env': {'': 'x'}}, 'env: a variable name must not be empty'),
    ({'env': {'A': 'x\x00y'}}, "env.A: 'x\\x00y' contains a NUL character"),
    ({'env': {'A': {'b': 1}}}, 'env.A: the value must be a string, not a dict'),
    ({'labels': {'': 'x'}}, 'labels must not be empty'),
    ({'labels': {'team': 'a\nb'}}, 'labels.team'),
    ({'labels': {'berth.registry.secret-env': 'x'}}, "labels: 'berth.registry.secret-env' is reserved"),
    ({'command': ['serve', 'a\x00b']}, 'command[1]'),
    ({'state': 'paused'}, "state: 'paused' is not allowed (allowed: started, stopped, absent)"),
    ({'recreate': 'sometimes'}, "recreate: 'sometimes' is not allowed"),
    ({'pull': 'often'}, "pull: 'often' is not allowed"),
    ({'restart_policy': 'sometimes'}, "restart_policy: 'sometimes' is not allowed"),
])
def test_bad_values_name_the_option(values, message):
    bad(message, **values)


def test_secret_env_values_never_appear_in_a_message_or_the_repr():
    message = bad('secret_env.REGISTRY_HTTP_SECRET: the value contains a NUL character',
                  secret_env={'REGISTRY_HTTP_SECRET': SECRET + '\x00'})
    assert SECRET not in message
    message = bad('env and secret_env both set REGISTRY_HTTP_SECRET', env={'REGISTRY_HTTP_SECRET': 'x'},
                  secret_env={'REGISTRY_HTTP_SECRET': SECRET})
    assert SECRET not in message
    spec = ContainerSpec(secret_env={'REGISTRY_HTTP_SECRET': SECRET})
    assert SECRET not in repr(spec) and 'REGISTRY_HTTP_SECRET' in repr(spec)
    assert spec.secrets == [SECRET]


def test_a_symbolic_data_dir_mode_is_kept_as_text():
    assert ContainerSpec(data_dir_mode='u=rwx,g=rx').data_dir_mode == 'u=rwx,g=rx'
    assert ContainerSpec(data_dir_mode=None).data_dir_mode is None
