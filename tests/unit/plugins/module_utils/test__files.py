import os
import shutil
import stat

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import (
    FileWriter, read_file, read_text, validate_mode,
)


@pytest.fixture(params=['module', 'controller'])
def writer(request):
    if request.param == 'controller':
        return FileWriter(None)
    with patch_module_args({'_ansible_remote_tmp': '/tmp', '_ansible_keep_remote_files': False}):
        module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    return FileWriter(module)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_sets_the_mode_and_leaves_no_staged_file(writer, tmp_path):
    path = str(tmp_path / 'key.pem')
    writer.write(writer.attrs(path, 0o644), b'old')
    writer.write(writer.attrs(path, 0o600), b'secret')
    with open(path, 'rb') as f:
        assert f.read() == b'secret'
    assert mode_of(path) == 0o600
    assert os.listdir(str(tmp_path)) == ['key.pem']


def test_a_new_private_file_is_never_readable_by_others(writer, tmp_path, monkeypatch):
    seen = []
    real_rename = os.rename

    def spy(src, dst, *args, **kwargs):
        seen.append(mode_of(src))
        return real_rename(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, 'rename', spy)
    writer.write(writer.attrs(str(tmp_path / 'new.key'), 0o600), b'secret')
    assert seen and all(m & 0o077 == 0 for m in seen)
    assert mode_of(str(tmp_path / 'new.key')) == 0o600


def test_write_together_stages_everything_before_the_first_rename(writer, tmp_path):
    key, cert = str(tmp_path / 'a.key'), str(tmp_path / 'a.crt')
    writer.write_together([(writer.attrs(key, 0o600), b'K1'), (writer.attrs(cert, 0o644), b'C1')])
    missing = str(tmp_path / 'nope' / 'a.crt')
    with pytest.raises(BerthError, match='does not exist'):
        writer.write_together([(writer.attrs(key, 0o600), b'K2'), (writer.attrs(missing, 0o644), b'C2')])
    with open(key, 'rb') as f:
        assert f.read() == b'K1'
    assert sorted(os.listdir(str(tmp_path))) == ['a.crt', 'a.key']


def test_a_symlink_is_followed_for_content_and_attributes(writer, tmp_path):
    target = tmp_path / 'real.json'
    target.write_text('{}')
    os.chmod(str(target), 0o600)
    link = tmp_path / 'daemon.json'
    os.symlink(str(target), str(link))
    writer.write(writer.attrs(str(link), 0o644), b'{"a": 1}')
    assert os.path.islink(str(link))
    assert target.read_text() == '{"a": 1}'
    assert mode_of(str(target)) == 0o644


def test_attribute_differences_are_read_only(writer, tmp_path):
    path = str(tmp_path / 'htpasswd')
    writer.write(writer.attrs(path, 0o644), b'x')
    diffs = Differences()
    assert writer.record_attributes(diffs, 'htpasswd', writer.attrs(path, 0o640))
    assert diffs.as_list() == [{'field': 'htpasswd mode', 'before': '0644', 'after': '0640'}]
    assert mode_of(path) == 0o644
    assert writer.apply_attributes(writer.attrs(path, 0o640))
    assert mode_of(path) == 0o640
    assert not writer.attribute_differences(writer.attrs(path, 0o640))


@pytest.mark.parametrize('value, expected', [
    ('0644', 0o644), ('644', 0o644), (0o600, 0o600), ('u=rw,g=r', 'u=rw,g=r'), (None, None)])
def test_validate_mode_accepts_octal_and_symbolic(value, expected):
    assert validate_mode(value) == expected


@pytest.mark.parametrize('value', ['77777', 0o10000, 'rwx', '0o9', True, '-1'])
def test_validate_mode_names_the_bad_value(value):
    with pytest.raises(BerthError, match='mode'):
        validate_mode(value)


def test_unknown_owner_is_refused_before_anything_is_written(writer, tmp_path):
    with pytest.raises(BerthError, match="user 'no-such-user-berth'"):
        writer.attrs(str(tmp_path / 'f'), 0o644, owner='no-such-user-berth')


def test_read_file_refuses_directories_and_names_them(tmp_path):
    assert read_file(str(tmp_path / 'missing')) is None
    with pytest.raises(BerthError, match='is a directory'):
        read_file(str(tmp_path), option='path')
    big = tmp_path / 'big'
    big.write_bytes(b'x' * 100)
    with pytest.raises(BerthError, match='more than the 10'):
        read_file(str(big), max_bytes=10)


def test_read_text_names_a_file_that_is_not_utf8(tmp_path):
    bad = tmp_path / 'hosts'
    bad.write_bytes(b'127.0.0.1 caf\xe9\n')
    with pytest.raises(BerthError, match='hosts is not UTF-8'):
        read_text(str(bad), option='hosts_path')


def test_backup_keeps_a_private_copy_of_the_replaced_file(writer, tmp_path, monkeypatch):
    path = str(tmp_path / 'ca.key')
    writer.write(writer.attrs(path, 0o600), b'old key')
    seen = []
    real_copy = shutil.copyfile

    def spy(src, dst, *args, **kwargs):
        result = real_copy(src, dst, *args, **kwargs)
        seen.append(mode_of(dst))
        return result
    monkeypatch.setattr(shutil, 'copyfile', spy)
    backup = writer.write(writer.attrs(path, 0o600), b'new key', backup=True)
    assert backup and backup != path and backup.startswith(path + '.')
    with open(backup, 'rb') as f:
        assert f.read() == b'old key'
    assert seen and all(m & 0o077 == 0 for m in seen) and mode_of(backup) == 0o600
    assert writer.write(writer.attrs(str(tmp_path / 'new'), 0o644), b'x', backup=True) is None


def test_without_a_mode_an_existing_file_keeps_its_own(writer, tmp_path):
    path = tmp_path / 'daemon.json'
    path.write_bytes(b'{}')
    path.chmod(0o640)
    writer.write(writer.attrs(str(path)), b'{"debug": true}')
    assert path.read_bytes() == b'{"debug": true}' and mode_of(str(path)) == 0o640
