# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The errors the registry container code raises: all BerthErrors, so run_module turns them into messages."""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._docker_sdk import EngineError
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError


class ContainerInputError(BerthError):
    """An option value that is not allowed, found before anything was touched."""


class ImageError(EngineError):
    """The image cannot be pulled or loaded, or does not resolve after that."""


class SwapError(EngineError):
    """Creating, starting, stopping, renaming or removing a container failed."""


class NotAnswering(BerthError):
    """The registry did not answer after a (re)start; the message carries its last log lines."""
