# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # How the client-side modules find the local dockerd
    # (argument spec: module_utils/_dockerd.py dockerd_argument_spec()).
    DOCUMENTATION = r'''
options:
  docker_host:
    description: Engine API address, C(unix://) socket or plain C(tcp://host:port) (no C(ssh://), no TLS), used to confirm and check changes.
    type: str
    default: unix:///var/run/docker.sock
  pid_file:
    description: dockerd's pid file; if it is missing the dockerd serving O(docker_host) is looked up in C(/proc).
    type: path
    default: /var/run/docker.pid
'''
