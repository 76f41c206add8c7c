# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker SDK for Python: guarded import, minimum-version check, low-level client.

Only APIs present in docker 5.0.3 (Debian bookworm's python3-docker) are used by
the collection, through ``docker.APIClient``.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.compat.version import LooseVersion

__all__ = ['APIError', 'DockerException', 'NotFound', 'check_docker_sdk', 'create_client', 'parse_repository_tag']

MINIMUM_DOCKER_SDK_VERSION = '5.0.3'

try:
    import docker
    from docker.errors import APIError, DockerException, NotFound
    from docker.utils import parse_repository_tag
    DOCKER_SDK_VERSION = docker.__version__
    DOCKER_IMPORT_ERROR = None
except ImportError:
    docker = None
    DOCKER_SDK_VERSION = None
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class DockerException(Exception):
        pass

    class APIError(DockerException):
        pass

    class NotFound(APIError):
        pass

    def parse_repository_tag(repo_name):
        raise NotImplementedError


def check_docker_sdk(module):
    """Fail the module unless the Docker SDK for Python is importable and recent enough."""
    requirement = 'docker >= %s (Docker SDK for Python)' % MINIMUM_DOCKER_SDK_VERSION
    if DOCKER_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib(requirement), exception=DOCKER_IMPORT_ERROR)
    if LooseVersion(DOCKER_SDK_VERSION) < LooseVersion(MINIMUM_DOCKER_SDK_VERSION):
        module.fail_json(msg='%s is needed on the target, found docker %s' % (requirement, DOCKER_SDK_VERSION))


def create_client(module, docker_host, timeout):
    """A low-level ``docker.APIClient`` that answered a ping, or fail the module."""
    check_docker_sdk(module)
    try:
        client = docker.APIClient(base_url=docker_host, version='auto', timeout=timeout)
        client.ping()
    except Exception as exc:
        hint = ''
        if 'http+docker' in str(exc):
            hint = (' (docker %s does not work with requests >= 2.32: use docker >= 7.1, or requests < 2.32'
                    ' as Debian bookworm ships)' % DOCKER_SDK_VERSION)
        module.fail_json(msg='cannot talk to the Docker engine at %s: %s%s' % (docker_host, exc, hint))
    return client
