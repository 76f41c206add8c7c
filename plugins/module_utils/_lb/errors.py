# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The errors the load-balancer code raises: all BerthErrors, so run_module turns them into messages."""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError


class LbInputError(BerthError):
    """An option value that is not allowed, found before anything was touched."""


class MissingPackages(BerthError):
    """A program the host needs is not installed; ``result['missing_packages']`` names the Debian packages."""

    def __init__(self, packages, programs):
        super(MissingPackages, self).__init__(
            '%s not installed on this host (Debian package%s %s); the registry_lb action installs %s unless '
            'install_packages=false' % (', '.join(programs), 's' if len(packages) > 1 else '', ', '.join(packages),
                                        'them' if len(packages) > 1 else 'it'),
            missing_packages=list(packages))


class ConfigRejected(BerthError):
    """``haproxy -c`` refused the rendered configuration; nothing was written."""


class ServiceError(BerthError):
    """Starting, reloading or restarting a service failed, or it does not answer afterwards."""


class NotHealthy(BerthError):
    """Servers did not become UP in HAProxy's view within the wait timeout."""
