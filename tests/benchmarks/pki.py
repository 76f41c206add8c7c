#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time of a first run and a rerun of tls_ca + tls_cert (+ htpasswd), ECDSA P-256 and RSA-4096.

Two layers: ansible-playbook on implicit localhost (what a user pays), and the plan-apply
objects of module_utils directly (the crypto and file cost alone, as an action plugin pays it).
Prints figures; asserts nothing: the changed counts of the first run and the rerun are printed as
figures (tests/integration/test_pki.py and test_htpasswd.py assert that a rerun changes nothing).
Usage: tests/benchmarks/pki.py [rounds]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))

from bed.playbook import run_playbook  # noqa: E402
from ansible_collections.berth.registry.plugins.module_utils import _htpasswd as ht  # noqa: E402
from ansible_collections.berth.registry.plugins.module_utils._pki.options import ca_plan, cert_plan  # noqa: E402

PLAYBOOK = r'''
- hosts: localhost
  gather_facts: false
  tasks:
    - berth.registry.tls_ca:
        path: "{{ workdir }}/ca.crt"
        privatekey_path: "{{ workdir }}/ca.key"
        key_type: "{{ key_type }}"
        subject: {CN: bench CA}
    - berth.registry.tls_cert:
        path: "{{ workdir }}/server.crt"
        privatekey_path: "{{ workdir }}/server.key"
        ca_path: "{{ workdir }}/ca.crt"
        ca_privatekey_path: "{{ workdir }}/ca.key"
        key_type: "{{ key_type }}"
        dns_names: [docker.gt.com]
        ip_addresses: [127.0.0.1]
    - berth.registry.htpasswd:
        path: "{{ workdir }}/htpasswd"
        users: [{name: bench, password: bench-Pw-4kQ9}]
'''


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def playbook_figures(key_type, workdir):
    path = os.path.join(workdir, 'bench.yml')
    with open(path, 'w') as f:
        f.write(PLAYBOOK)
    extra = {'workdir': workdir, 'key_type': key_type}
    first, r1 = timed(lambda: run_playbook(path, extra_vars=extra))
    rerun, r2 = timed(lambda: run_playbook(path, extra_vars=extra))
    for label, result in (('first run', r1), ('rerun', r2)):
        if result.rc != 0:
            print('  (%s %s failed, rc=%d: its time is not a figure)\n%s' % (key_type, label, result.rc, result))
    return first, rerun, '%s/%s' % (outcome(r1), outcome(r2))


def outcome(result):
    return 'failed' if result.rc != 0 else str(result.changed())


def module_utils_figures(key_type, workdir):
    """The PKI's plan-apply objects as an action plugin runs them on the controller (FileWriter(None))."""
    ca = dict(path=os.path.join(workdir, 'ca.crt'), privatekey_path=os.path.join(workdir, 'ca.key'),
              subject={'CN': 'bench CA'}, key_type=key_type)
    cert = dict(path=os.path.join(workdir, 's.crt'), privatekey_path=os.path.join(workdir, 's.key'),
                ca_path=ca['path'], ca_privatekey_path=ca['privatekey_path'], key_type=key_type,
                dns_names=['docker.gt.com'], ip_addresses=['127.0.0.1'])

    def both():
        changed = []
        for plan in (ca_plan(**ca), cert_plan(**cert)):
            plan.plan()
            plan.apply()
            changed.append(plan.result(False)['changed'])
        return changed

    first, c1 = timed(both)
    rerun, c2 = timed(both)
    return first, rerun, '%d/%d' % (sum(c1), sum(c2))


def htpasswd_figures(cost):
    users = [{'name': 'bench', 'password': 'bench-Pw-4kQ9'}]
    first, lines = timed(lambda: ht.updated_lines([], users, ['bench'], [], [], cost))
    rerun, decided = timed(lambda: ht.decide(lines, users, False))
    return first, rerun, '-/%d' % sum(len(names) for names in decided)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    row = '%-28s %-11s %9s %9s  %s'
    print(row % ('layer', 'key type', 'first s', 'rerun s', 'changed first/rerun (playbook: tasks, '
                 'module_utils: CA + cert plans; htpasswd: changes the rerun finds)'))
    for key_type in ('ecdsa-p256', 'rsa-4096'):
        for label, func in (('module_utils (CA + cert)', module_utils_figures),
                            ('ansible-playbook (3 tasks)', playbook_figures)):
            for dummy in range(rounds):
                with tempfile.TemporaryDirectory(prefix='berth-bench-') as workdir:
                    first, rerun, seen = func(key_type, workdir)
                print(row % (label, key_type, '%.3f' % first, '%.3f' % rerun, seen))
    first, rerun, seen = htpasswd_figures(10)
    print(row % ('module_utils htpasswd', 'bcrypt-10', '%.3f' % first, '%.3f' % rerun, seen))


if __name__ == '__main__':
    main()
