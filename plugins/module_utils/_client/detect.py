# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which container runtimes a client host has, and which of them registry_client configures.

``probe()`` looks (binaries on PATH, a running dockerd, a kubelet, a CRI-O process, containerd's
socket); ``select()`` applies the rules, pure:

- an explicit list configures exactly the runtimes listed, installed or not;
- ``auto`` configures every runtime installed - except containerd on a Docker host: Debian's
  docker.io runs on the system containerd, so containerd is there wherever dockerd is. There it is
  configured only when a kubelet uses its CRI (or when listed), so a containerd under dockerd is
  never restarted for nothing. A dockerd-managed containerd (/var/run/docker/containerd) reads
  nothing of ours and is never touched.
- ``state=absent`` cleans up every runtime under ``auto`` (only our own entries go, so a runtime
  without any costs nothing).
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import os
import socket
from collections import namedtuple

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError

RUNTIMES = ('docker', 'containerd', 'containers')
RUNTIME_CHOICES = ['auto'] + list(RUNTIMES)
CONTAINERS_TOOLS = ('podman', 'buildah', 'skopeo', 'crio')

HostFacts = namedtuple('HostFacts', 'dockerd_installed dockerd_running containerd_installed kubelet containers_tools')


def process_pids(name, proc='/proc'):
    """PIDs whose command name (comm) is name, in this pid namespace's /proc."""
    try:
        entries = os.listdir(proc)
    except OSError:
        return []
    pids = []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, 'comm')) as f:
                if f.read().strip() == name:
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def kubelet_running(proc='/proc'):
    """Whether a kubelet runs in this pid namespace (a CRI client of containerd)."""
    return bool(process_pids('kubelet', proc))


def socket_answers(path, timeout=2.0):
    """Whether a unix socket accepts a connection."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def probe(which, dockerd_pid, proc='/proc'):
    """HostFacts of this host. which(name) -> path or None; dockerd_pid() -> the running dockerd's PID or None."""
    return HostFacts(
        dockerd_installed=bool(which('dockerd')),
        dockerd_running=dockerd_pid() is not None,
        containerd_installed=bool(which('containerd')),
        kubelet=kubelet_running(proc),
        containers_tools=[t for t in CONTAINERS_TOOLS if which(t)],
    )


def validate_runtimes(wanted, option='runtimes'):
    """The runtimes option: ['auto'] or a list of runtime names (duplicates dropped, order kept)."""
    wanted = list(wanted or ['auto'])
    for name in wanted:
        if name not in RUNTIME_CHOICES:
            raise BerthError('%s: %r is not a runtime; give auto or a list of %s' % (option, name, ', '.join(RUNTIMES)))
    if 'auto' in wanted and len(wanted) > 1:
        raise BerthError('%s: auto cannot be combined with a list (%s): give auto alone or list the runtimes'
                         % (option, ', '.join(wanted)))
    return [n for i, n in enumerate(wanted) if n not in wanted[:i]]


def select(wanted, facts, state='present'):
    """{runtime: {present, configured, reason}} in RUNTIMES order; ``configured`` = its unit runs."""
    docker = facts.dockerd_installed or facts.dockerd_running
    present = {'docker': docker, 'containerd': facts.containerd_installed,
               'containers': bool(facts.containers_tools)}
    missing = {'docker': 'not installed (no dockerd)', 'containerd': 'not installed (no containerd)',
               'containers': 'not installed (no %s)' % ', '.join(CONTAINERS_TOOLS)}
    chosen = {}
    for name in RUNTIMES:
        if wanted != ['auto']:
            configured = name in wanted
            reason = None if configured else 'not in runtimes'
            if configured and not present[name]:
                reason = '%s: configured because runtimes lists it' % missing[name]
        elif state == 'absent':
            configured, reason = True, None
        elif not present[name]:
            configured, reason = False, missing[name]
        elif name == 'containerd' and docker and not facts.kubelet:
            configured = False
            reason = ('serves dockerd (Debian\'s docker.io runs on the system containerd) and no kubelet uses its '
                      'CRI: dockerd\'s configuration applies; list containerd in runtimes to configure it as well')
        else:
            configured = True
            reason = 'a kubelet uses its CRI' if name == 'containerd' and docker else None
        chosen[name] = {'present': present[name], 'configured': configured, 'reason': reason}
    return chosen
