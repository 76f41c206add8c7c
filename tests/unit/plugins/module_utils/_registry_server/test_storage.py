"""Distribution's storage section: one driver, required keys, redirect, what 3.0 dropped."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._registry_server import storage
from ansible_collections.berth.registry.plugins.module_utils._registry_server.storage import StorageError

S3 = {'s3': {'regionendpoint': 'http://192.0.2.9:7480', 'region': 'us-east-1', 'bucket': 'registry',
             'accesskey': 'Mk-3f9c1e-S3ACCESS-7d2a', 'secretkey': 'Mk-a1b2c3-S3SECRET-9e8f', 'secure': False,
             'v4auth': True, 'rootdirectory': '/registry', 'chunksize': 10485760}}


def test_default_is_filesystem_under_the_data_mount():
    assert storage.validate(None) == ('filesystem', {'filesystem': {'rootdirectory': '/var/lib/registry'}})
    assert storage.validate({'filesystem': None})[1] == {'filesystem': {'rootdirectory': '/var/lib/registry'}}


def test_s3_as_users_paste_it():
    driver, section = storage.validate(dict(S3, cache={'blobdescriptor': 'inmemory'}))
    assert driver == 's3' and section['s3'] == S3['s3'] and section['cache'] == {'blobdescriptor': 'inmemory'}
    assert storage.redirect_section('s3', None) == {'disable': True}
    assert storage.redirect_section('s3', True) == {'disable': False}
    assert storage.redirect_section('filesystem', None) is None


@pytest.mark.parametrize('value, words', [
    ('s3', ['must be a mapping']),
    ({}, None),
    ({'s3': {'bucket': 'b'}}, ['storage.s3', 'region is required']),
    ({'s3': {'region': 'r'}}, ['bucket is required']),
    ({'s3': {'region': 'r', 'bucket': 'b', 'secure': 'no'}}, ['storage.s3.secure', "'no' is not a boolean"]),
    ({'s3': {'region': 'r', 'bucket': 'b', 'accesskey': 'a'}}, ['accesskey and secretkey together']),
    ({'s3': {'region': 'r', 'bucket': 'b', 'chunksize': 1024}}, ['chunksize', 'at least 5242880']),
    ({'s3': {'region': 'r', 'bucket': 'b', 'regionendpoint': 'rgw:7480'}}, ['regionendpoint', 'not an http']),
    ({'s3': {'region': 'r', 'bucket': 'b'}, 'filesystem': {}}, ['exactly one storage driver', 'got s3, filesystem']),
    ({'nfs': {}}, ['exactly one storage driver', 'got none']),
    ({'filesystem': {}, 'delete': {'enabled': True}}, ['storage.delete', 'storage_delete']),
    ({'filesystem': {}, 'redirect': {'disable': True}}, ['storage.redirect', 'storage_redirect']),
    ({'filesystem': {}, 'bogus': {}}, ['storage.bogus: unknown key']),
    ({'filesystem': {'rootdirectory': '/data'}}, ['rootdirectory', '/data', 'outside /var/lib/registry']),
    ({'filesystem': {'rootdirectory': '/var/lib/registry/../x'}}, ['must not contain ".."']),
    ({'azure': {'accountname': 'a'}}, ['accountkey, container are required']),
    ({'s3': []}, ['must be a mapping']),
])
def test_refused_with_the_key_and_what_is_allowed(value, words):
    if words is None:
        assert storage.validate(value)[0] == 'filesystem'
        return
    with pytest.raises(StorageError) as info:
        storage.validate(value)
    for word in words:
        assert word in str(info.value)
    assert 'Mk-' not in str(info.value)


def test_warnings_for_distribution_3():
    assert storage.image_warnings('swift', {}, 'registry:3')[0].startswith('storage driver swift is not in Distribution 3.0')
    assert 'forcepathstyle' in storage.image_warnings('s3', S3['s3'], 'registry:3.0.0')[0]
    assert storage.image_warnings('s3', S3['s3'], 'registry:2') == []
    assert storage.image_warnings('s3', dict(S3['s3'], forcepathstyle=True), 'registry:3') == []
