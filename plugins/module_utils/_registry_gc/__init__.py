# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Garbage collection of a Distribution registry container, one concern per file:

- ``output``: what ``registry garbage-collect`` and ``registry --version`` print, parsed (pure)
- ``storage``: the filesystem driver's tree on the host - image indexes, blob sizes (read-only)
- ``twin``: the read-only twin of a registry container, built from its inspect (pure)
- ``ready``: waiting until a container's registry answers (stdlib)
- ``driver``: GcDriver - dry run, read-only window, ``garbage-collect`` by exec, back to read-write
- ``schedule``: the systemd timer or cron entry of the scheduled job (pure)
- ``job``: the scheduled job's entry point on the registry host (no Ansible there)
- ``module``: the glue from the registry_gc module to the driver

Everything except ``module`` imports neither Ansible nor the collection's Ansible-bound files, so the
scheduled job runs the same driver on a host that has only python3 and the Docker SDK.
Private to the collection (leading underscore): free to refactor.
"""
