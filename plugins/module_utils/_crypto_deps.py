# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Optional imports of cryptography and bcrypt with minimum-version checks.

``require_cryptography()`` / ``require_bcrypt()`` raise MissingLibrary (a BerthError) inside the
module's guard; they never exit themselves.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

MIN_CRYPTOGRAPHY = (38, 0)
MIN_BCRYPT = (3, 2, 2)

try:
    import cryptography
    CRYPTOGRAPHY_VERSION = cryptography.__version__
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    CRYPTOGRAPHY_VERSION = None
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

try:
    import bcrypt
    BCRYPT_VERSION = getattr(bcrypt, '__version__', '0')
    BCRYPT_IMPORT_ERROR = None
except ImportError:
    BCRYPT_VERSION = None
    BCRYPT_IMPORT_ERROR = traceback.format_exc()


def _version_tuple(text):
    parts = []
    for piece in str(text).split('.'):
        digits = ''.join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


class MissingLibrary(BerthError):
    """A Python library the module needs is missing or too old on the host it runs on."""


def _require(name, version, minimum, import_error):
    wanted = '%s >= %s' % (name, '.'.join(str(v) for v in minimum))
    if version is None:
        raise MissingLibrary(missing_required_lib(wanted), exception=import_error)
    if _version_tuple(version) < minimum:
        raise MissingLibrary('%s is required on the host the module runs on; found %s %s' % (wanted, name, version))


def require_cryptography():
    _require('cryptography', CRYPTOGRAPHY_VERSION, MIN_CRYPTOGRAPHY, CRYPTOGRAPHY_IMPORT_ERROR)


def require_bcrypt():
    _require('bcrypt', BCRYPT_VERSION, MIN_BCRYPT, BCRYPT_IMPORT_ERROR)
