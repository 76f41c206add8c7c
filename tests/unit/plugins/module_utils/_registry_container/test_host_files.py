"""What the spec names on the host: restart files and their hash, directories, archive, CA."""

from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.berth.registry.plugins.module_utils._registry_container import host_files
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ContainerInputError
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import ContainerSpec


def test_files_hash_depends_on_content_and_names_a_missing_file(tmp_path):
    config, cert = tmp_path / 'config.yml', tmp_path / 'tls.crt'
    config.write_text('version: 0.1\n')
    cert.write_text('CERT-1\n')
    first = host_files.files_hash([str(config), str(cert)])
    assert first == host_files.files_hash([str(cert), str(config)])  # order of the list does not matter
    cert.write_text('CERT-2\n')
    assert host_files.files_hash([str(config), str(cert)]) != first
    assert host_files.files_hash([]) is None
    with pytest.raises(ContainerInputError) as err:
        host_files.files_hash([str(config), str(tmp_path / 'missing.key')])
    assert str(tmp_path / 'missing.key') in str(err.value)


def test_files_hash_is_the_one_existing_containers_carry(tmp_path):
    """Same formula as before the split: upgrading the collection recreates no container."""
    config = tmp_path / 'config.yml'
    config.write_bytes(b'version: 0.1\n')
    digest = hashlib.sha256()
    encoded = str(config).encode()
    digest.update(b'%d:%s%d:' % (len(encoded), encoded, 13))
    digest.update(b'version: 0.1\n')
    assert host_files.files_hash([str(config)]) == 'sha256:' + digest.hexdigest()


def test_a_symlinked_restart_file_is_followed(tmp_path):
    (tmp_path / 'real.yml').write_text('a\n')
    os.symlink(str(tmp_path / 'real.yml'), str(tmp_path / 'link.yml'))
    assert host_files.files_hash([str(tmp_path / 'link.yml')])


def spec(tmp_path, **values):
    base = dict(data_dir=str(tmp_path / 'data'), config_dir=str(tmp_path / 'conf'), probe={'enabled': False})
    base.update(values)
    return ContainerSpec(**base)


def test_missing_inputs_are_listed_for_check_mode(tmp_path):
    missing = host_files.check(spec(tmp_path, restart_files=[str(tmp_path / 'conf' / 'config.yml')],
                                    image_archive=str(tmp_path / 'image.tar')))
    assert missing == ['config_dir: %s does not exist' % (tmp_path / 'conf'),
                       'restart_files: %s does not exist' % (tmp_path / 'conf' / 'config.yml'),
                       'image_archive: %s does not exist' % (tmp_path / 'image.tar')]


@pytest.mark.parametrize('values, message', [
    (lambda d: {'restart_files': [d]}, 'is a directory, expected a regular file'),
    (lambda d: {'restart_files': ['/dev/zero']}, 'restart_files: /dev/zero is not a regular file'),
    (lambda d: {'image_archive': d}, 'image_archive: %s is a directory'),
    (lambda d: {'config_dir': os.path.join(d, 'file')}, 'config_dir: %s/file exists and is not a directory'),
    (lambda d: {'data_dir': os.path.join(d, 'file')}, 'data_dir: %s/file exists and is not a directory'),
])
def test_wrong_kinds_of_file_fail_even_in_check_mode(tmp_path, values, message):
    (tmp_path / 'file').write_text('x\n')
    with pytest.raises(ContainerInputError) as err:
        host_files.check(spec(tmp_path, **values(str(tmp_path))))
    assert (message % tmp_path if '%s' in message else message) in str(err.value)


def test_emptying_refuses_the_root_and_keeps_the_directory(tmp_path):
    (tmp_path / 'docker' / 'registry').mkdir(parents=True)
    (tmp_path / 'blob').write_text('x')
    os.symlink('/etc', str(tmp_path / 'link'))
    host_files.empty_directory(str(tmp_path))
    assert os.listdir(str(tmp_path)) == [] and os.path.isdir('/etc')
    with pytest.raises(ContainerInputError, match='resolves to /'):
        host_files.empty_directory('/')


def test_a_data_dir_that_resolves_to_the_root_is_refused_before_anything(tmp_path):
    os.symlink('/', str(tmp_path / 'root'))
    with pytest.raises(ContainerInputError, match='resolves to / : it cannot be the registry'):
        host_files.check(spec(tmp_path, data_dir=str(tmp_path / 'root')))


def test_contents_hash_is_the_hash_of_files_holding_those_bytes(tmp_path):
    config, key = tmp_path / 'config.yml', tmp_path / 'registry.key'
    config.write_bytes(b'version: 0.1\n')
    key.write_bytes(b'-----BEGIN PRIVATE KEY-----\n')
    wanted = {str(key): b'-----BEGIN PRIVATE KEY-----\n', str(config): b'version: 0.1\n'}
    assert host_files.contents_hash(wanted) == host_files.files_hash([str(config), str(key)])
    assert host_files.contents_hash(dict(wanted, **{str(config): b'version: 0.1\n\n'})) != host_files.files_hash(
        [str(config), str(key)])
    assert host_files.contents_hash({}) is None
