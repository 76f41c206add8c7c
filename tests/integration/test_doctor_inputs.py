"""Bad inputs of the read-only modules (registry_doctor, registry_info): one ansible-playbook run for all cases.

Bad options fail naming the option, the value and what is allowed; malformed files on the host are
read and reported, never a crash; no traceback anywhere; nothing under the case directories changes.
Runs on this machine (localhost), no bed: the doctor's network probes go to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import socket
import stat

import jsonschema
import pytest

import certfactory
from bed.playbook import run_playbook

SCHEMA = os.path.join(os.path.dirname(__file__), '..', '..', 'docs', 'report.schema.json')
PLAYBOOK = os.path.join(os.path.dirname(__file__), 'playbooks', 'registry_doctor', 'bad_inputs.yml')

# (name, args, expected words in msg) - a failure
BAD_OPTIONS = [
    ('scheme', {'registry': 'https://reg.example'}, ["registry: 'https://reg.example' must be host or host:port"]),
    ('newline', {'registry': 'reg.example\nevil'}, ['registry:', 'control character']),
    ('nul', {'registry': 'reg\x00x'}, ['registry:', 'control character']),
    ('port range', {'registry': 'reg.example:99999'}, ['registry: port 99999', 'out of range (1..65535)']),
    ('dotdot', {'registry': '../etc'}, ["registry: '../etc'"]),
    ('long name', {'registry': 'a' * 300}, ['registry:', 'not a valid DNS name']),
    ('ipv6 no brackets', {'registry': 'fe80::1:5000'}, ['registry:', 'write an IPv6 address as [address]:port']),
    ('address', {'registry': 'reg.example', 'address': 'not-an-ip'}, ["address: 'not-an-ip' is not an IPv4 or IPv6"]),
    ('address zone', {'registry': 'reg.example', 'address': 'fe80::1%eth0'}, ['address:', 'carries a zone']),
    ('ca garbage', {'registry': 'reg.example', 'ca_content': 'not a certificate'},
     ['ca_content holds no PEM certificate']),
    ('skew', {'registry': 'reg.example', 'max_clock_skew': -5}, ['max_clock_skew: -5 must be 0 or more']),
    ('timeout', {'registry': 'reg.example', 'timeout': 0}, ['timeout: 0.0 must be more than 0']),
    ('runtimes mix', {'registry': 'reg.example', 'runtimes': ['auto', 'docker']}, ['runtimes:', 'mixes auto']),
    ('runtime name', {'registry': 'reg.example', 'runtimes': ['rkt']}, ['runtimes', 'rkt']),
    ('docker_host', {'registry': 'reg.example', 'docker_host': 'ssh://host'},
     ["docker_host: 'ssh://host' must be unix://"]),
    ('label', {'registry': 'reg.example', 'label': 'x' * 300}, ['label:', 'longer than 255']),
]


def _tree(root):
    """Names, modes and bytes of everything under root (symlinks as their target)."""
    snap = {}
    for current, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(current, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                snap[path] = ('link', os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as f:
                    snap[path] = (oct(st.st_mode), f.read())
            else:
                snap[path] = (oct(st.st_mode),)
    return snap


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def _file_cases(base):
    """Malformed files on the host: each case its own directory; the doctor must report, not crash."""
    ca = certfactory.make_ca('Inputs CA')
    registry = '127.0.0.1:%d' % _free_port()
    cases = []
    contents = {
        'daemon.json list': ('docker/daemon.json', '["insecure-registries"]'),
        'daemon.json number': ('docker/daemon.json', '42'),
        'daemon.json non-utf8': ('docker/daemon.json', b'{"x": "\xff\xfe"}'),
        'daemon.json huge': ('docker/daemon.json', b'{"a": "' + b'x' * (5 * 1024 * 1024) + b'"}'),
        'config.json string': ('root/config.json', '"just a string"'),
        'config.json wrong types': ('root/config.json',
                                    json.dumps({'auths': {registry: {'auth': 12}}, 'credHelpers': ['x']})),
        'config.json auths list': ('root/config.json', json.dumps({'auths': ['a']})),
        'config.json bad base64': ('root/config.json', json.dumps({'auths': {registry: {'auth': '@@@'}}})),
        'containerd toml garbage': ('containerd/config.toml', '[[[not toml'),
        'registries.conf garbage': ('containers/registries.conf', 'registry = 3\n[[registry]]\nlocation = 5\n'),
        'hosts non-utf8': ('hosts', b'\xff\xfe 127.0.0.1 reg\n'),
        'ca not pem': ('docker/certs.d/%s/ca.crt' % registry, 'not a certificate'),
    }
    for name, (rel, data) in contents.items():
        root = os.path.join(base, name.replace(' ', '_'))
        _write(os.path.join(root, rel), data)
        cases.append((name, root))
    # a directory where a file is expected, and a symlinked CA file
    root = os.path.join(base, 'dirs_for_files')
    for rel in ('docker/daemon.json', 'root/config.json', 'hosts', 'containerd/config.toml'):
        os.makedirs(os.path.join(root, rel))
    cases.append(('directories for files', root))
    root = os.path.join(base, 'symlinked_ca')
    _write(os.path.join(root, 'elsewhere', 'ca.pem'), ca.pem)
    os.makedirs(os.path.join(root, 'docker/certs.d', registry))
    os.symlink(os.path.join(root, 'elsewhere', 'ca.pem'), os.path.join(root, 'docker/certs.d', registry, 'ca.crt'))
    cases.append(('symlinked CA', root))
    args = []
    for name, root in cases:
        args.append({'name': name, 'args': {
            'registry': registry, 'label': 'inputs', 'timeout': 2, 'runtimes': ['auto'],
            'hosts_path': os.path.join(root, 'hosts'),
            'docker_certs_dir': os.path.join(root, 'docker/certs.d'),
            'docker_daemon_config': os.path.join(root, 'docker/daemon.json'),
            'docker_config': os.path.join(root, 'root/config.json'),
            'containerd_config': os.path.join(root, 'containerd/config.toml'),
            'containerd_socket': os.path.join(root, 'containerd.sock'),
            'containers_certs_dirs': [os.path.join(root, 'containers/certs.d')],
            'containers_registries_conf': os.path.join(root, 'containers/registries.conf'),
            'containers_registries_conf_d': os.path.join(root, 'containers/registries.conf.d'),
            'containers_auth_files': [os.path.join(root, 'root/config.json')],
        }})
    return args


def _info_cases(base):
    root = os.path.join(base, 'info')
    _write(os.path.join(root, 'config/ssl/registry.crt'), 'garbage')
    _write(os.path.join(root, 'config/auth/htpasswd'), b'admin:$2y$10$abc\n\xff\xfe:x\n# comment\n')
    _write(os.path.join(root, 'data_is_a_file'), 'x')
    os.makedirs(os.path.join(root, 'dir_cert/ssl/registry.crt'))
    common = {'docker_host': 'unix://' + os.path.join(root, 'no.sock')}
    return [
        {'name': 'max_files', 'args': dict(common, max_files=0)},
        {'name': 'garbage files', 'args': dict(common, data_dir=os.path.join(root, 'data_is_a_file'),
                                               config_dir=os.path.join(root, 'config'))},
        {'name': 'dir as cert', 'args': dict(common, data_dir=os.path.join(root, 'missing'),
                                             config_dir=os.path.join(root, 'dir_cert'))},
    ]


def _report_cases(base):
    root = os.path.join(base, 'report')
    _write(os.path.join(root, 'a_file'), 'x')
    _write(os.path.join(root, 'garbage.crt'), 'garbage')
    out = os.path.join(os.path.dirname(base), 'report-out')
    return [
        {'name': 'warn days', 'args': {'dest': out, 'expiry_warn_days': -1}},
        {'name': 'fail days', 'args': {'dest': out, 'expiry_fail_days': -2}},
        {'name': 'dest is a file', 'args': {'dest': os.path.join(root, 'a_file')}},
        {'name': 'garbage and missing certificates', 'args': {
            'dest': out, 'nodes': ['ghost1', 'ghost2'], 'ca_path': os.path.join(root, 'garbage.crt'),
            'cert_path': os.path.join(root, 'missing.crt'), 'client_cert_paths': [os.path.join(root, '*.pem')],
            'expiry_fail_days': 10}},
    ]


@pytest.fixture(scope='module')
def outcome(tmp_path_factory):
    base = str(tmp_path_factory.mktemp('doctor-inputs'))
    cases = base + '/cases'
    os.makedirs(cases)
    doctor = [{'name': n, 'args': a} for n, a, dummy in BAD_OPTIONS] + _file_cases(cases)
    info = _info_cases(cases)
    report = _report_cases(cases)
    before = _tree(cases)
    inventory = os.path.join(base, 'inventory')
    with open(inventory, 'w') as f:
        f.write('localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n')
    result_file = os.path.join(base, 'result.json')
    extra = {'doctor_cases': doctor, 'info_cases': info, 'report_cases': report, 'result_file': result_file}
    res = run_playbook(PLAYBOOK, inventory=inventory, extra_vars=extra, args=('-v',))
    assert res.recap, res
    with open(result_file) as f:
        results = json.load(f)
    return {'results': results, 'before': before, 'after': _tree(cases), 'run': res, 'base': base}


def _no_traceback(result):
    for key in ('msg', 'module_stderr', 'module_stdout'):
        assert 'Traceback' not in str(result.get(key, '')), result


@pytest.mark.parametrize('name, args, words', BAD_OPTIONS, ids=[c[0] for c in BAD_OPTIONS])
def test_bad_option_fails_naming_it(outcome, name, args, words):
    result = next(r for r in outcome['results']['doctor'] if r['item']['name'] == name)
    assert result.get('failed') is True, result
    for word in words:
        assert word in result['msg'], result['msg']
    _no_traceback(result)


def test_malformed_files_are_reported_not_crashed_on(outcome):
    results = dict((r['item']['name'], r) for r in outcome['results']['doctor'])
    for name, result in results.items():
        if any(name == c[0] for c in BAD_OPTIONS):
            continue
        assert not result.get('failed'), (name, result)
        assert result['changed'] is False and result['verdict'].startswith('inputs: ')
        _no_traceback(result)
    docker = dict((n, next(r for r in results[n]['runtimes'] if r['name'] == 'docker')) for n in results
                  if not any(n == c[0] for c in BAD_OPTIONS))
    assert 'holds a JSON list, not an object' in json.dumps(docker['daemon.json list'])
    assert 'is a directory' in json.dumps(docker['directories for files'])
    assert 'larger than' in json.dumps(docker['daemon.json huge'])
    assert docker['daemon.json non-utf8']['checked'] is True  # undecodable bytes are replaced, as Go's JSON does
    assert results['symlinked CA']['runtimes'][0]['trusted'][0]['certificates'][0]['subject'] == 'CN=Inputs CA,O=berth.test'
    assert results['ca not pem']['runtimes'][0]['trusted'][0]['error'] == 'no PEM certificate in it'


def test_registry_info_bad_inputs(outcome):
    results = dict((r['item']['name'], r) for r in outcome['results']['info'])
    assert results['max_files']['failed'] is True and 'max_files: 0 must be 1 or more' in results['max_files']['msg']
    garbage = results['garbage files']
    assert not garbage.get('failed'), garbage
    assert garbage['certificate']['error'].startswith('no PEM certificate')
    assert garbage['users'] == ['admin', '\ufffd\ufffd'] and '$2y$' not in json.dumps(garbage)
    assert garbage['container']['found'] is False
    assert results['dir as cert']['certificate']['error'].endswith('is a directory')
    for result in results.values():
        _no_traceback(result)


def test_registry_report_bad_inputs(outcome):
    results = dict((r['item']['name'], r) for r in outcome['results']['report'])
    for name in ('warn days', 'fail days'):
        assert results[name]['failed'] is True
        assert 'expiry_warn_days and expiry_fail_days must be 0 or more' in results[name]['msg']
    assert results['dest is a file']['failed'] is True
    assert 'cannot write the report under' in results['dest is a file']['msg']
    garbage = results['garbage and missing certificates']
    assert not garbage.get('failed'), garbage  # unreadable certificates are listed as unknown, not below a threshold
    assert [c['status'] for c in garbage['expiry']] == ['unknown', 'unknown']
    assert garbage['summary'] == {'fail': 0, 'warn': 0, 'unknown': 2, 'ok': 0, 'total': 2}
    with open(garbage['json_path']) as f, open(SCHEMA) as s:
        jsonschema.validate(json.load(f), json.load(s))
    for result in results.values():
        _no_traceback(result)


def test_nothing_under_the_cases_changed(outcome):
    assert outcome['after'] == outcome['before']
