# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure checks of the values users give the registry container: each returns the normalized value
or raises ContainerInputError naming the option, the value (unless secret) and what is allowed.
"""

from __future__ import annotations

import os
import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import validate_mode
from ansible_collections.berth.registry.plugins.module_utils._names import check_text, ip_address
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ContainerInputError

MAX_NAME = 128
_DOCKER_NAME = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_.-]*$')
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_.-]*$')
# Distribution's reference grammar (github.com/distribution/reference), without IPv6 registry hosts.
_DOMAIN = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?'
_PATH_COMPONENT = r'[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*'
_REFERENCE = re.compile(r'^(?:%s/)?%s(?:/%s)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$'
                        % (_DOMAIN, _PATH_COMPONENT, _PATH_COMPONENT))


def _wrap(check, *args, **kwargs):
    """Run a shared _names check, re-raised as ContainerInputError."""
    try:
        return check(*args, **kwargs)
    except ContainerInputError:
        raise
    except BerthError as exc:
        raise ContainerInputError(str(exc))


def text(value, option, allow_empty=False, max_length=None):
    """One line of printable text (no newline, NUL or other control character)."""
    return _wrap(check_text, value, option, allow_empty=allow_empty, max_length=max_length)


def file_mode(value, option):
    """An octal (0700) or symbolic (u=rwx) mode: int for octal, str for symbolic."""
    return _wrap(validate_mode, value, option)


def port(value, option):
    """A TCP/UDP port number 1..65535."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ContainerInputError('%s: %r is not a valid port number (allowed: 1..65535)' % (option, value))
    return value


def seconds(value, option, maximum=86400):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ContainerInputError('%s: %r must be at least 1 second and at most %d (whole seconds)' % (option, value, maximum))
    return value


def bind_address(value, option):
    """A host address to publish on: IPv4 or IPv6 (brackets allowed), no zone, normalized."""
    shown = text(value if isinstance(value, str) else str(value), option).strip()
    if shown.startswith('[') and shown.endswith(']'):
        shown = shown[1:-1]
    return _wrap(ip_address, shown, option)


def docker_name(value, option, what='container'):
    """A container or volume name as the engine allows it: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128."""
    name = text(value, option, max_length=MAX_NAME)
    if not _DOCKER_NAME.match(name):
        raise ContainerInputError('%s: %r is not a valid %s name: letters, digits and _ . - (starting with a letter '
                                  'or digit), at most %d characters' % (option, value, what, MAX_NAME))
    return name


def image_reference(value, option='image'):
    """A Docker image reference: [registry-host[:port]/]lower-case/path[:tag][@digest]."""
    ref = text(value, option, max_length=512)
    if not _REFERENCE.match(ref):
        raise ContainerInputError('%s: %r is not a valid image reference: [registry-host[:port]/]lower-case path'
                                  '[:tag][@digest], e.g. registry:2 or registry.example:5000/library/registry:2.8'
                                  % (option, value))
    return ref


def absolute_path(value, option, bind=False):
    """An absolute path (one line); a path that becomes a bind mount cannot hold ':'."""
    path = text(value, option)
    if not os.path.isabs(path):
        raise ContainerInputError('%s: %r must be an absolute path' % (option, value))
    if bind and ':' in path:
        raise ContainerInputError("%s: %r contains ':', which a Docker bind mount cannot take" % (option, value))
    return os.path.normpath(path)


def env_name(name, option):
    if not isinstance(name, str) or not name:
        raise ContainerInputError('%s: a variable name must not be empty' % option)
    if not _ENV_NAME.match(name):
        raise ContainerInputError('%s: %r is not a valid variable name: letters, digits and _ . - (starting with a '
                                  'letter or _)' % (option, name))
    return name


def env_value(value, option, secret=False):
    """The variable's value as text; no NUL (an environment cannot hold one). A secret is never shown."""
    if value is None:
        value = ''
    if isinstance(value, (dict, list)):
        raise ContainerInputError('%s: the value must be a string, not a %s' % (option, type(value).__name__))
    value = str(value)
    if '\x00' in value:
        if secret:
            raise ContainerInputError('%s: the value contains a NUL character, which an environment variable cannot '
                                      'hold (value not shown: secret)' % option)
        raise ContainerInputError('%s: %r contains a NUL character, which an environment variable cannot hold'
                                  % (option, value))
    return value


def environment(values, option, secret=False):
    """A {name: value} mapping of environment variables, names and values checked."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ContainerInputError('%s: must be a mapping of variable names to values' % option)
    return dict((env_name(k, option), env_value(v, '%s.%s' % (option, k), secret)) for k, v in values.items())


def labels(values, option, reserved=()):
    """A {key: value} mapping of container labels: printable one-line text, keys not reserved."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ContainerInputError('%s: must be a mapping of label keys to values' % option)
    result = {}
    for key, value in values.items():
        key = text(str(key) if key is not None else '', option)
        if key in reserved:
            raise ContainerInputError('%s: %r is reserved: this module sets it' % (option, key))
        result[key] = text('' if value is None else str(value), '%s.%s' % (option, key), allow_empty=True)
    return result
