# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry's access-control front end (issue 14): nginx from the host's Debian packages, in front of
the registry, which then listens on 127.0.0.1 only. Stdlib only (it runs on the registry host).

Pure:
  ``rights``   users' rights (``access: pull | push``), split into the two htpasswd files the front end reads;
               when the front end is needed at all
  ``nginx``    the nginx site rendered from structured input (``FrontendSpec``): TLS termination, mutual TLS
               with a CRL, basic auth for everyone, writes for push users only (a pull user's write gets
               Distribution's 403 DENIED, which docker prints), proxy to the registry on 127.0.0.1
Registry host:
  ``service``  nginx as a host service, systemd or SysV init script: running, enabled, graceful reload confirmed
  ``host``     ``FrontendPlan``: the site, htpasswd files, client CA and CRL written, validated with
               ``nginx -t``, nginx started (never restarted), reloaded gracefully when what it reads at
               (re)load changed; one ``Differences`` tracker

Private to the collection (leading underscore): free to refactor.
"""
