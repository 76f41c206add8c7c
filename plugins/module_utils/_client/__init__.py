# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client side behind registry_client: one unit per container runtime and per host-level part.

base.py: what every unit is (the interface, the desired state, a planned file); detect.py: which
runtimes a host has and which get configured; docker.py, containerd.py, containers.py: the runtime
units; parts.py: the CA files and auth entries they share; checks.py: what their tools answer;
hosts.py: the /etc/hosts line; record.py: the mirrors this module wrote; system.py: tools, service
restarts and signals. Stdlib only: these run on every client host.
"""
