# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client side behind registry_client: one unit per container runtime and per host-level part.

base.py: what every unit is (the interface, the desired state, a planned file); docker.py: dockerd;
hosts.py: the /etc/hosts line. Stdlib only: these run on every client host.
"""
