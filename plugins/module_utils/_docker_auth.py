# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The auths entry of a Docker client config.json (what `docker login` writes)."""

from __future__ import annotations

import base64
import binascii
import copy
import json

from ansible_collections.berth.registry.plugins.module_utils._json_file import parse_json_object

DEFAULT_CONFIG_PATH = '/root/.docker/config.json'


class DockerAuthError(Exception):
    pass


def parse_config(data, path):
    return parse_json_object(data, path, DockerAuthError)


def encode_auth(username, password):
    return base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')).decode('ascii')


def stored_username(config, registry):
    """User name of the stored auth for registry, or None."""
    entry = (config.get('auths') or {}).get(registry) or {}
    try:
        decoded = base64.b64decode(entry.get('auth', ''), validate=True).decode('utf-8')
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    user, sep, dummy = decoded.partition(':')
    return user if sep else None


def has_auth(config, registry, username, password):
    entry = (config.get('auths') or {}).get(registry) or {}
    return entry.get('auth') == encode_auth(username, password)


def check_no_helper(config, registry, path):
    if config.get('credsStore'):
        raise DockerAuthError('%s sets credsStore %r: credential helpers are not supported yet; remove it or log in '
                              'with docker login' % (path, config['credsStore']))
    if registry in (config.get('credHelpers') or {}):
        raise DockerAuthError('%s sets a credential helper for %s: credential helpers are not supported yet'
                              % (path, registry))


def with_auth(config, registry, username, password):
    """Copy of config with auths[registry] = {auth: base64(user:password)}; other keys kept."""
    new = copy.deepcopy(config)
    auths = new.setdefault('auths', {})
    entry = dict(auths.get(registry) or {})
    entry['auth'] = encode_auth(username, password)
    auths[registry] = entry
    return new


def format_config(config):
    # the Docker CLI writes config.json with tab indentation
    return json.dumps(config, indent='\t') + '\n'
