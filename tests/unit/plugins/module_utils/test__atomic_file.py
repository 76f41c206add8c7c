import os
import stat

import pytest

from ansible_collections.berth.registry.plugins.module_utils._atomic_file import (
    metadata_differences, read_bytes, write_atomic,
)


def test_write_atomic_sets_the_mode_and_replaces_the_file(tmp_path):
    path = str(tmp_path / 'key.pem')
    write_atomic(path, b'old', 0o644)
    write_atomic(path, b'secret', 0o600)
    assert read_bytes(path) == b'secret'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(str(tmp_path)) == ['key.pem']


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = str(tmp_path / 'htpasswd')
    write_atomic(path, b'alice:$2y$...\n', 0o640)
    with pytest.raises(TypeError):
        write_atomic(path, 'not bytes', 0o640)
    assert read_bytes(path) == b'alice:$2y$...\n'
    assert os.listdir(str(tmp_path)) == ['htpasswd']


def test_unknown_owner_is_an_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match="owner 'no-such-user-berth'"):
        write_atomic(str(tmp_path / 'f'), b'x', 0o644, owner='no-such-user-berth')
    assert os.listdir(str(tmp_path)) == []


def test_metadata_differences(tmp_path):
    path = str(tmp_path / 'f')
    assert metadata_differences(path, 0o600) == {}  # missing: a content difference, not this
    write_atomic(path, b'x', 0o644)
    assert metadata_differences(path, 0o600) == {'mode': ('0644', '0600')}
    assert metadata_differences(path, 0o644) == {}
    assert read_bytes(str(tmp_path / 'absent')) is None
