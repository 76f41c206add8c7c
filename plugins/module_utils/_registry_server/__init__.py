# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry server in one round trip: the registry_server action plugin (controller) and the
registry_host module (the registry host). One concern per file:

On both sides (pure, no third-party import):
  ``layout``     where each file lives on the host and in the container, with its mode; what the registry
                 reads only at start (the restart files)
  ``redaction``  which config.yml keys are secret; the config masked (structure) and redacted (text lines)
  ``storage``    Distribution's ``storage`` section: known drivers, required keys, redirect, validated
  ``packages``   which of the host's packages are missing (a python3-* package: its module imports)
Controller (the action plugin):
  ``config``     config.yml built from structured input (owned keys vs user sections), rendered with PyYAML
  ``pki``        own CA + server certificate through the _pki plans under the PKI lock, or bring-your-own
                 files checked; the shared http.secret; what the host gets (bytes) and what results show
  ``options``    the action's argument spec (documented by plugins/modules/registry_server.py) and the
                 registry_host module's argument spec
Registry host (the registry_host module):
  ``host``       HostPlan: packages, directories, files (TLS pair key first, CA, htpasswd, config.yml, extra
                 files), then the container through _registry_container's driver with the restart hash of the
                 DESIRED bytes; one Differences tracker

Where the next features go: a front end (nginx, issue 14) or a load balancer (HAProxy, issue 12) adds its
packages to ``packages``, its files through ``extra_files`` (or a ``layout`` entry) and, if it runs in a
container, a second ContainerSpec driven by the same driver; replicas share ``pki.http_secret``; CA rollover
(issue 13) adds plans in ``pki``; GC's read-only switch is a ``config`` section (storage.maintenance).
Private to the collection (leading underscore): free to refactor.
"""
