# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils import _crypto_deps as deps


def test_present_libraries_pass():
    deps.require_cryptography()
    deps.require_bcrypt()


def test_missing_or_old_libraries_raise_an_error_inside_the_guard(monkeypatch):
    monkeypatch.setattr(deps, 'BCRYPT_VERSION', None)
    with pytest.raises(deps.MissingLibrary, match='bcrypt >= 3.2.2') as exc:
        deps.require_bcrypt()
    assert 'exception' in exc.value.result
    monkeypatch.setattr(deps, 'CRYPTOGRAPHY_VERSION', '37.0.4')
    with pytest.raises(deps.MissingLibrary, match='cryptography >= 38.0 is required .* found cryptography 37.0.4'):
        deps.require_cryptography()
