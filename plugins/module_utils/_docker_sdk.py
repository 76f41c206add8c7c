# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker SDK for Python: guarded import, minimum-version check, a low-level client that answered.

Only APIs present in docker 5.0.3 (Debian bookworm's python3-docker) are used by
the collection, through ``docker.APIClient``. Failures are BerthErrors (no fail_json here).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.compat.version import LooseVersion

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._names import check_text

__all__ = ['APIError', 'DockerException', 'DockerSdkError', 'EngineError', 'NotFound', 'check_docker_sdk',
           'create_client', 'parse_repository_tag']

MINIMUM_DOCKER_SDK_VERSION = '5.0.3'
MAX_TIMEOUT = 86400

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


class DockerSdkError(BerthError):
    """The Docker SDK for Python is missing on the target or too old."""


class EngineError(BerthError):
    """The Docker engine cannot be reached, or refused or failed an action."""


def check_docker_sdk():
    """Raise DockerSdkError unless the Docker SDK for Python is importable and recent enough."""
    requirement = 'docker >= %s (Docker SDK for Python)' % MINIMUM_DOCKER_SDK_VERSION
    if DOCKER_IMPORT_ERROR is not None:
        raise DockerSdkError(missing_required_lib(requirement), exception=DOCKER_IMPORT_ERROR)
    if LooseVersion(DOCKER_SDK_VERSION) < LooseVersion(MINIMUM_DOCKER_SDK_VERSION):
        raise DockerSdkError('%s is needed on the target, found docker %s' % (requirement, DOCKER_SDK_VERSION))


def check_connection_options(docker_host, timeout):
    """docker_host is one line of printable text; timeout 1..86400 seconds."""
    check_text(docker_host, 'docker_host')
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT:
        raise BerthError('timeout: %r must be at least 1 second and at most %d (whole seconds)' % (timeout, MAX_TIMEOUT))


def create_client(docker_host, timeout):
    """A low-level ``docker.APIClient`` that answered a ping; DockerSdkError or EngineError otherwise."""
    check_connection_options(docker_host, timeout)
    check_docker_sdk()
    try:
        client = docker.APIClient(base_url=docker_host, version='auto', timeout=timeout)
        client.ping()
    except Exception as exc:
        hint = ''
        if 'http+docker' in str(exc):
            hint = (' (docker %s does not work with requests >= 2.32: use docker >= 7.1, or requests < 2.32'
                    ' as Debian bookworm ships)' % DOCKER_SDK_VERSION)
        raise EngineError('cannot talk to the Docker engine at %s: %s%s' % (docker_host, exc, hint))
    return client
