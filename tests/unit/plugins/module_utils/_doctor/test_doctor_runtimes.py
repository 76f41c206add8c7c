"""What each runtime reads, from parsed files: scheme, CA paths, stored credentials (the secret kept internal)."""

from __future__ import annotations

import base64

from ansible_collections.berth.registry.plugins.module_utils._doctor import runtimes, steps


def test_docker_scheme_from_the_engine():
    config = {'IndexConfigs': {'reg:5000': {'Secure': False}, 'docker.io': {'Secure': True}},
              'InsecureRegistryCIDRs': ['127.0.0.0/8', '10.0.0.0/8']}
    assert runtimes.docker_scheme('reg:5000', 'reg', config, ['192.0.2.1'])[0] == steps.HTTPS_INSECURE
    assert runtimes.docker_scheme('other', 'other', config, ['10.1.2.3']) == (
        steps.HTTPS_INSECURE, 'engine: 10.1.2.3 lies in the insecure range 10.0.0.0/8')
    assert runtimes.docker_scheme('other', 'other', config, ['192.0.2.1'])[0] == steps.HTTPS
    # typed without a port, listed with :443
    assert runtimes.docker_scheme('reg', 'reg', {'IndexConfigs': {'reg:443': {'Secure': False}}}, [])[0] == \
        steps.HTTPS_INSECURE
    assert runtimes.daemon_json_scheme('reg:5000', {'insecure-registries': ['reg:5000']})[0] == steps.HTTPS_INSECURE


def test_auth_entry_forms_and_helpers():
    auth = base64.b64encode(b'admin:Mk-3f9c1e-PASSWORD-7d2a').decode()
    entry = runtimes.auth_entry({'auths': {'https://reg:5000/v1/': {'auth': auth}}}, 'reg:5000', '/c.json')
    assert entry == {'source': '/c.json', 'user': 'admin', 'helper': None, '_auth': auth}
    assert runtimes.auth_entry({'credHelpers': {'reg:5000': 'ecr'}}, 'reg:5000', 'p')['helper'] == 'ecr'
    assert runtimes.auth_entry({'credsStore': 'pass'}, 'reg:5000', 'p')['helper'] == 'pass'
    assert runtimes.auth_entry({'auths': {'reg:5000': {'auth': '@@'}}}, 'reg:5000', 'p')['error']
    assert runtimes.auth_entry({'auths': {'reg:5000': {'identitytoken': 't'}}}, 'reg:5000', 'p')['token'] is True
    assert runtimes.auth_entry({'auths': {'elsewhere': {'auth': auth}}}, 'reg:5000', 'p') is None


def test_containerd_config_path_per_version_and_host_dirs():
    v2 = {'plugins': {'io.containerd.grpc.v1.cri': {'registry': {'config_path': '/etc/containerd/certs.d'}}}}
    v3 = {'plugins': {'io.containerd.cri.v1.images': {'registry': {'config_path': '/a:/b'}}}}
    assert runtimes.containerd_config_paths(v2) == (['/etc/containerd/certs.d'], 'io.containerd.grpc.v1.cri')
    assert runtimes.containerd_config_paths(v3)[0] == ['/a', '/b']
    assert runtimes.containerd_config_paths({}) == ([], None)
    assert runtimes.containerd_host_dirs('/d', 'reg', 5000) == ['/d/reg_5000_', '/d/reg:5000', '/d/_default']
    assert runtimes.containerd_host_dirs('/d', 'reg', None) == ['/d/reg', '/d/_default']


def test_hosts_toml_scheme_and_ca_paths():
    plain = {'server': 'http://reg:5000'}
    assert runtimes.hosts_toml_view(plain, '/d/reg:5000', 'https://reg:5000')[0] == steps.HTTP
    with_host = {'server': 'https://reg:5000', 'host': {'https://reg:5000': {
        'capabilities': ['pull', 'resolve'], 'ca': 'ca.crt', 'skip_verify': False}}}
    scheme, source, cas, skip = runtimes.hosts_toml_view(with_host, '/d/reg:5000', 'https://reg:5000')
    assert (scheme, cas, skip) == (steps.HTTPS, ['/d/reg:5000/ca.crt'], False)
    assert '[host."https://reg:5000"]' in source
    noverify = {'host': {'https://reg:5000': {'skip_verify': True, 'ca': ['/x.crt', '/y.crt']}}}
    assert runtimes.hosts_toml_view(noverify, '/d', 'https://reg:5000')[0] == steps.HTTPS_NOVERIFY


def test_containers_scheme_longest_prefix_and_later_files_win():
    confs = [('/etc/containers/registries.conf', {'registry': [{'location': 'reg:5000', 'insecure': True}]}),
             ('/etc/containers/registries.conf.d/50-berth.conf', {'registry': [{'prefix': 'reg:5000',
                                                                                'location': 'reg:5000'}]})]
    assert runtimes.containers_scheme(confs, 'reg:5000')[0] == steps.HTTPS
    assert runtimes.containers_scheme(confs[:1], 'reg:5000') == (
        steps.HTTPS_INSECURE, '/etc/containers/registries.conf: [[registry]] reg:5000 insecure = true')
    assert runtimes.containers_scheme(confs, 'reg:50001')[0] == steps.HTTPS
    assert runtimes.containers_scheme([('x', {'registry': ['junk', {'location': 5}]})], 'reg')[0] == steps.HTTPS


def test_json_object_and_parse_ca_text():
    assert runtimes.json_object('[1]', '/d.json')[1] == '/d.json holds a JSON list, not an object'
    assert runtimes.json_object(None, '/d.json') == ({}, None)
    assert runtimes.parse_ca_text('/x', 'nothing')['error'] == 'no PEM certificate in it'
