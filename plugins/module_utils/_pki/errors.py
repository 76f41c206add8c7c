# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PKI's errors. Private to the collection (leading underscore): free to refactor."""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError


class PKIError(BerthError):
    """Bad input, or a file the user has to fix (wrong passphrase, unreadable, a directory): nothing was written."""


class DamagedFile(PKIError):
    """A file whose bytes are not what it should hold (truncated PEM, garbage, another PEM type).

    Unlike a wrong passphrase, nothing the user could give would make it readable: the decisions
    record it as a difference, and the regenerate policy says whether it may be replaced.
    """
