# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The front host of a replicated registry: HAProxy in TCP pass-through, optionally the redis cache.
One concern per file:

- ``spec``: LbSpec / CacheSpec, the validated plain values, and the module's argument spec
- ``haproxy_config``: haproxy.cfg rendered from an LbSpec (pure)
- ``redis_config``: the redis drop-in rendered from a CacheSpec, read back, the include line (pure)
- ``stats``: HAProxy's ``show stat`` CSV parsed, the admin socket queried, waiting until servers are UP
- ``service``: start / reload / restart a Debian service under systemd or its init script
- ``driver``: LbDriver - compare, then validate, write, reload or start, wait
- ``errors``: the BerthError subclasses raised here

Private to the collection (leading underscore): free to refactor.
"""
