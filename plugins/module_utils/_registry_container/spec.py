# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ContainerSpec: what the registry container must be, as validated plain values, and the module's
argument spec (the field table's options plus the options of the run itself). Pure: no I/O.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._registry_container import fields, probe, validators
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import ContainerInputError

STATES = ['started', 'stopped', 'absent']
RECREATE_CHOICES = ['options-changed', 'always', 'never']

# Options of the run, not container fields.
RUN_OPTIONS = dict(
    name=dict(type='str', default='registry'),
    probe=dict(type='dict', options=dict(
        enabled=dict(type='bool', default=True),
        scheme=dict(type='str', default='https', choices=list(probe.SCHEMES)),
        port=dict(type='int'),
        host=dict(type='str'),
        timeout=dict(type='int', default=60),
        ca_path=dict(type='path'),
    )),
    state=dict(type='str', default='started', choices=STATES),
    remove_data=dict(type='bool', default=False),
    recreate=dict(type='str', default='options-changed', choices=RECREATE_CHOICES),
)
# How the module reaches the engine (not part of the spec).
CONNECTION_OPTIONS = dict(
    docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
    timeout=dict(type='int', default=60),
)
MUTUALLY_EXCLUSIVE = [('data_dir', 'data_volume')]


def spec_options():
    """Argument spec entries of everything a ContainerSpec holds."""
    options = dict(RUN_OPTIONS)
    options.update(fields.option_specs())
    return options


def argument_spec():
    """The registry_container module's argument spec."""
    options = spec_options()
    options.update(CONNECTION_OPTIONS)
    return options


class ContainerSpec(object):
    """The desired registry container, built from plain values (keyword arguments named like the
    module's options; missing ones take the option's default) and checked at once: a bad value is
    a ContainerInputError naming the option, before any engine is contacted.

    Reusable outside the module (a combined server module, replicas): ``ContainerSpec(name=...,
    ports=[...], secret_env={...})``. Its repr never shows secret_env values.
    """

    def __init__(self, **values):
        options = spec_options()
        unknown = sorted(set(values) - set(options))
        if unknown:
            raise ContainerInputError('unknown container option(s): %s' % ', '.join(unknown))
        for key, option in options.items():
            value = values.get(key, option.get('default'))
            setattr(self, key, list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value)
        self._check()

    @classmethod
    def from_params(cls, params):
        """The spec of an AnsibleModule's params (connection options left out)."""
        return cls(**dict((key, params.get(key)) for key in spec_options() if key in params))

    def _check(self):
        self.name = validators.docker_name(self.name, 'name')
        if self.state not in STATES:
            raise ContainerInputError('state: %r is not allowed (allowed: %s)' % (self.state, ', '.join(STATES)))
        if self.recreate not in RECREATE_CHOICES:
            raise ContainerInputError('recreate: %r is not allowed (allowed: %s)'
                                      % (self.recreate, ', '.join(RECREATE_CHOICES)))
        self.remove_data = bool(self.remove_data)
        fields.check(self)
        self.probe = probe.settings(self.probe, self.ports)

    @property
    def secrets(self):
        """The secret values this spec carries (to keep them out of any message)."""
        return [v for v in self.secret_env.values() if v]

    def __repr__(self):
        shown = dict((k, v) for k, v in vars(self).items() if k != 'secret_env')
        shown['secret_env'] = sorted(self.secret_env)
        return 'ContainerSpec(%r)' % shown
