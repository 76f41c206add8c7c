# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which Debian packages the registry host still lacks, without python3-apt (a minimal host has none).

A ``python3-*`` package counts as present when its module imports with the Python running this code (that
is what the module needs: a Docker SDK installed with pip is as good); any other package (nginx, haproxy,
redis-server) when dpkg's status file says ``install ok installed``. Read-only.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import importlib.util
import re

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

DPKG_STATUS = '/var/lib/dpkg/status'
# python3-<name> whose import name is not <name> with '-' -> '_'
PYTHON_MODULES = {'python3-yaml': 'yaml', 'python3-apt': 'apt_pkg', 'python3-docker': 'docker', 'python3-bcrypt': 'bcrypt'}
_NAME = re.compile(r'^[a-z0-9][a-z0-9+.-]+$')


def check_names(names, option='packages'):
    for name in names:
        if not isinstance(name, str) or not _NAME.match(name):
            raise BerthError('%s: %r is not a Debian package name (lower case letters, digits, + - .)' % (option, name))
    return list(names)


def python_module(package):
    """The module a python3-* package provides, or None for other packages."""
    if package in PYTHON_MODULES:
        return PYTHON_MODULES[package]
    if package.startswith('python3-'):
        return package[len('python3-'):].replace('-', '_')
    return None


def installed(status_text):
    """Names of the packages dpkg's status file lists as installed."""
    result, name = set(), None
    for line in status_text.splitlines():
        if line.startswith('Package:'):
            name = line.split(':', 1)[1].strip()
        elif line.startswith('Status:') and name and line.split(':', 1)[1].split()[-1:] == ['installed']:
            result.add(name)
        elif not line.strip():
            name = None
    return result


def importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(packages, status_path=DPKG_STATUS, can_import=importable):
    """The packages of the list that are not there, in the list's order."""
    result, dpkg = [], None
    for package in check_names(packages):
        module = python_module(package)
        if module is not None:
            if not can_import(module):
                result.append(package)
            continue
        if dpkg is None:
            try:
                with open(status_path, encoding='utf-8', errors='replace') as f:
                    dpkg = installed(f.read())
            except OSError:
                dpkg = False  # not a dpkg host: nothing to install with apt
        if dpkg is not False and package not in dpkg:
            result.append(package)
    return result
