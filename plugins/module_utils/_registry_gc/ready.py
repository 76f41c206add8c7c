# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Waiting until a registry container answers ``GET /v2/`` (200 or 401) on its own address, HTTPS or HTTP.

Stdlib only (the scheduled job has no Ansible). The address is the container's, not the published port: a
userland proxy accepts on the host port before the registry inside listens.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.request

ACCEPTED = (200, 401)


def _opener(scheme):
    handlers = [urllib.request.ProxyHandler({})]
    if scheme == 'https':
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # is anything answering? who signed it is not this probe's question
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


def answers(address, port, timeout=2.0):
    """None when /v2/ answers 200 or 401 over HTTPS or HTTP; else what went wrong."""
    host = '[%s]' % address if ':' in address else address
    problem = None
    for scheme in ('https', 'http'):
        try:
            with _opener(scheme).open('%s://%s:%d/v2/' % (scheme, host, port), timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except Exception as exc:  # pylint: disable=broad-exception-caught  # refused, TLS, timeout
            problem = '%s://%s:%d/v2/: %s' % (scheme, host, port, getattr(exc, 'reason', exc))
            continue
        if status in ACCEPTED:
            return None
        problem = '%s://%s:%d/v2/ answered HTTP %d' % (scheme, host, port, status)
    return problem


def wait_until_answering(target, timeout, crashed, clock=time.monotonic, sleep=time.sleep):
    """Poll ``target()`` -> (address, port) or None until the registry answers; None, or the last problem after the
    timeout or when ``crashed()`` returns why the container is gone."""
    deadline = clock() + timeout
    while True:
        where = target()
        problem = answers(*where) if where else 'the container has no address yet'
        if problem is None:
            return None
        crash = crashed()
        if crash:
            return '%s; %s' % (crash, problem)
        if clock() >= deadline:
            return 'no answer within %d s: %s' % (timeout, problem)
        sleep(0.1)
