# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The auths entry of a Docker client config.json (what `docker login` writes). Pure functions.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._json_file import parse_json_object
from ansible_collections.berth.registry.plugins.module_utils._names import check_text

DEFAULT_CONFIG_PATH = '/root/.docker/config.json'


class DockerAuthError(BerthError):
    """config.json cannot be read back, or a login cannot be stored in it."""


def _kind(value):
    return {dict: 'an object', list: 'a list', str: 'a string', bool: 'a boolean'}.get(type(value), 'a number')


def parse_config(data, path):
    """Bytes of config.json -> dict; the parts this module reads must have the types the Docker CLI writes."""
    config = parse_json_object(data, path, DockerAuthError)
    for key, wanted in (('auths', dict), ('credHelpers', dict), ('credsStore', str)):
        if key in config and config[key] is not None and not isinstance(config[key], wanted):
            raise DockerAuthError('%s: %s is %s, expected %s as the Docker CLI writes it; the file was left untouched'
                                  % (path, key, _kind(config[key]), _kind(wanted())))
    return config


def validate_login(username, password):
    """A user name and password that fit Docker's ``base64(user:password)``; BerthError naming the option."""
    check_text(username, 'login.username')
    if ':' in username:
        raise DockerAuthError("login.username: %r contains ':', which cannot be stored in Docker's user:password "
                              'auth' % username)
    if not password:
        raise DockerAuthError('login.password must not be empty')


def encode_auth(username, password):
    return base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')).decode('ascii')


def _entry(config, registry, path):
    entry = (config.get('auths') or {}).get(registry)
    if entry is None:
        return {}
    if not isinstance(entry, dict):
        raise DockerAuthError('%s: auths[%r] is %s, expected an object; the file was left untouched'
                              % (path, registry, _kind(entry)))
    if entry.get('auth') is not None and not isinstance(entry['auth'], str):
        raise DockerAuthError('%s: auths[%r].auth is %s, expected a base64 string; the file was left untouched'
                              % (path, registry, _kind(entry['auth'])))
    return entry


def stored_username(config, registry, path='config.json'):
    """User name of the stored auth for registry, or None."""
    try:
        decoded = base64.b64decode(_entry(config, registry, path).get('auth') or '', validate=True).decode('utf-8')
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    user, sep, dummy = decoded.partition(':')
    return user if sep else None


def has_auth(config, registry, username, password, path='config.json'):
    return _entry(config, registry, path).get('auth') == encode_auth(username, password)


def check_no_helper(config, registry, path):
    if config.get('credsStore'):
        raise DockerAuthError('%s sets credsStore %r: credential helpers are not supported yet; remove it or log in '
                              'with docker login' % (path, config['credsStore']))
    if registry in (config.get('credHelpers') or {}):
        raise DockerAuthError('%s sets a credential helper for %s in credHelpers: credential helpers are not '
                              'supported yet' % (path, registry))


def with_auth(config, registry, username, password, path='config.json'):
    """Copy of config with auths[registry] = {auth: base64(user:password)}; other keys kept."""
    entry = dict(_entry(config, registry, path))
    new = copy.deepcopy(config)
    if new.get('auths') is None:
        new['auths'] = {}
    entry['auth'] = encode_auth(username, password)
    new['auths'][registry] = entry
    return new


def format_config(config):
    # the Docker CLI writes config.json with tab indentation
    return json.dumps(config, indent='\t', allow_nan=False) + '\n'


def without_auth(config, registry, path='config.json'):
    """Copy of config without auths[registry] (what ``docker logout`` leaves); other keys kept."""
    _entry(config, registry, path)
    new = copy.deepcopy(config)
    (new.get('auths') or {}).pop(registry, None)
    return new
