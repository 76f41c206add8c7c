# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Distribution's ``storage`` section, as users know it: one driver (``filesystem``, ``s3``, ...) with its
parameters, checked before anything is rendered. Pure.

Facts (Distribution 2.8 and 3.0 sources): drivers in 2.8 are filesystem, inmemory, s3 (s3-aws), swift,
azure, gcs, oss; 3.0 dropped swift and oss. With a storage that can redirect (s3, gcs, azure, swift, oss)
the registry answers blob GETs with a redirect to a presigned URL of the store unless
``storage.redirect.disable: true`` - then clients never need to reach the store.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_server.layout import CONTAINER_DATA_DIR

DRIVERS = ('filesystem', 'inmemory', 's3', 'swift', 'azure', 'gcs', 'oss')
DRIVERS_2_ONLY = ('swift', 'oss')
REDIRECTING = ('s3', 'swift', 'azure', 'gcs', 'oss')
# keys of the storage section besides the driver; delete and redirect have options of their own
PARAMETERS = ('cache', 'maintenance', 'tag')
OWNED = {'delete': 'storage_delete', 'redirect': 'storage_redirect'}
REQUIRED = {
    's3': ('region', 'bucket'),
    'swift': ('username', 'password', 'authurl', 'container'),
    'azure': ('accountname', 'accountkey', 'container'),
    'gcs': ('bucket',),
    'oss': ('accesskeyid', 'accesskeysecret', 'region', 'bucket'),
}
BOOLEANS = {
    's3': ('secure', 'v4auth', 'encrypt', 'skipverify', 'forcepathstyle', 'accelerate', 'usedualstack'),
    'gcs': (), 'azure': (), 'swift': ('insecureskipverify',), 'oss': ('secure', 'encrypt', 'internal'),
    'filesystem': (), 'inmemory': (),
}
MIN_S3_CHUNKSIZE = 5 * 1024 * 1024
_URL = re.compile(r'^https?://[^\s/?#]+(/[^\s]*)?$')


class StorageError(BerthError):
    """A storage section Distribution would refuse (or run somewhere unexpected); nothing was written."""


def _where(option, *keys):
    return '.'.join((option,) + keys)


def validate(storage, option='storage'):
    """(driver, normalized copy) of a storage section; StorageError naming the key and what is allowed.

    ``None`` or ``{}`` is the default filesystem storage under the container's data directory.
    """
    if storage in (None, {}):
        storage = {'filesystem': {}}
    if not isinstance(storage, dict):
        raise StorageError('%s: must be a mapping like {filesystem: {}} or {s3: {bucket: ..., region: ...}} '
                           '(Distribution\'s storage section), got %s' % (option, type(storage).__name__))
    for key in storage:
        if not isinstance(key, str):
            raise StorageError('%s: key %r is not a string' % (option, key))
    drivers = [k for k in storage if k in DRIVERS]
    if len(drivers) != 1:
        raise StorageError('%s: give exactly one storage driver (%s); got %s'
                           % (option, ', '.join(DRIVERS), ', '.join(drivers) or 'none'))
    for key in storage:
        if key in OWNED:
            raise StorageError('%s.%s: set it with the %s option (registry_%s_... in the server role), not inside the '
                               'storage section' % (option, key, OWNED[key], OWNED[key]))
        if key not in DRIVERS and key not in PARAMETERS:
            raise StorageError('%s.%s: unknown key; allowed besides the driver: %s' % (option, key, ', '.join(PARAMETERS)))
    driver = drivers[0]
    params = storage[driver]
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise StorageError('%s: the driver\'s parameters must be a mapping, got %s'
                           % (_where(option, driver), type(params).__name__))
    params = dict(params)
    check = CHECKS.get(driver)
    missing = [k for k in REQUIRED.get(driver, ()) if params.get(k) in (None, '')]
    if missing:
        raise StorageError('%s: %s required (Distribution refuses to start without %s)'
                           % (_where(option, driver), ', '.join(missing) + (' is' if len(missing) == 1 else ' are'),
                              'it' if len(missing) == 1 else 'them'))
    for key in BOOLEANS.get(driver, ()):
        if key in params and not isinstance(params[key], bool):
            raise StorageError('%s: %r is not a boolean (true or false)' % (_where(option, driver, key), params[key]))
    if check:
        check(params, _where(option, driver))
    result = dict((k, v) for k, v in storage.items() if k != driver)
    for key in PARAMETERS:
        if key in result and not isinstance(result[key], dict):
            raise StorageError('%s: must be a mapping' % _where(option, key))
    result[driver] = params
    return driver, result


def _check_filesystem(params, where):
    root = params.setdefault('rootdirectory', CONTAINER_DATA_DIR)
    if not isinstance(root, str) or not (root == CONTAINER_DATA_DIR or root.startswith(CONTAINER_DATA_DIR + '/')):
        raise StorageError('%s.rootdirectory: %r is outside %s, the data directory mounted into the container: the '
                           'images would be lost with the container' % (where, root, CONTAINER_DATA_DIR))
    if '..' in root.split('/'):
        raise StorageError('%s.rootdirectory: %r must not contain ".."' % (where, root))
    if 'maxthreads' in params and (isinstance(params['maxthreads'], bool) or not isinstance(params['maxthreads'], int)
                                   or params['maxthreads'] < 25):
        raise StorageError('%s.maxthreads: %r must be a whole number of at least 25' % (where, params['maxthreads']))


def _check_s3(params, where):
    endpoint = params.get('regionendpoint')
    if endpoint not in (None, '') and (not isinstance(endpoint, str) or not _URL.match(endpoint)):
        raise StorageError('%s.regionendpoint: %r is not an http:// or https:// URL' % (where, endpoint))
    for key in ('accesskey', 'secretkey'):
        if key in params and params[key] is not None and not isinstance(params[key], str):
            raise StorageError('%s.%s must be a string' % (where, key))
    if bool(params.get('accesskey')) != bool(params.get('secretkey')):
        raise StorageError('%s: give accesskey and secretkey together (or neither, for an instance role)' % where)
    if 'chunksize' in params:
        size = params['chunksize']
        if isinstance(size, bool) or not isinstance(size, int) or size < MIN_S3_CHUNKSIZE:
            raise StorageError('%s.chunksize: %r must be a whole number of bytes, at least %d (5 MiB)'
                               % (where, size, MIN_S3_CHUNKSIZE))
    root = params.get('rootdirectory')
    if root not in (None, '') and (not isinstance(root, str) or not root.startswith('/')):
        raise StorageError('%s.rootdirectory: %r must start with "/"' % (where, root))


CHECKS = {'filesystem': _check_filesystem, 's3': _check_s3}


def redirect_section(driver, redirect):
    """The ``storage.redirect`` value: None (leave it out) or {'disable': bool}.

    ``redirect`` None means the default: off for a store that redirects (clients never need to reach it).
    """
    if driver not in REDIRECTING:
        return None
    if redirect is None:
        redirect = False
    return {'disable': not redirect}


def image_warnings(driver, params, image):
    """Warnings about the image's Distribution version: swift and oss are gone in 3.0; 3.0's s3 driver needs
    forcepathstyle with a regionendpoint (2.8 uses path style whenever regionendpoint is set)."""
    tag = (image or '').rsplit('/', 1)[-1].partition(':')[2]
    if not tag.startswith('3'):
        return []
    if driver in DRIVERS_2_ONLY:
        return ['storage driver %s is not in Distribution 3.0 (image %s): the registry will not start' % (driver, image)]
    if driver == 's3' and params.get('regionendpoint') and 'forcepathstyle' not in params:
        return ['storage.s3.regionendpoint with image %s: Distribution 3.0 wants forcepathstyle: true for an '
                'S3-compatible store (2.8 needs none)' % image]
    return []
