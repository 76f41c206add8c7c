#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time of a first run and a rerun of tls_ca + tls_cert (+ htpasswd), ECDSA P-256 and RSA-4096.

Two layers: ansible-playbook on implicit localhost (what a user pays), and the
module_utils directly (the crypto cost alone). Prints figures; asserts nothing: the changed-task
counts of both playbook runs and the differences a rerun finds are printed as figures
(tests/integration/test_pki.py and test_htpasswd.py assert that a rerun changes nothing).
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
from ansible_collections.berth.registry.plugins.module_utils import _pki as pki  # noqa: E402

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
    ca_crt, ca_key = os.path.join(workdir, 'ca.crt'), os.path.join(workdir, 'ca.key')
    crt, key = os.path.join(workdir, 's.crt'), os.path.join(workdir, 's.key')
    subject, dns, ips = {'CN': 'docker.gt.com'}, ['docker.gt.com'], ['127.0.0.1']

    def first():
        ca_private = pki.generate_private_key(key_type)
        ca_cert = pki.build_ca_certificate(ca_private, {'CN': 'bench CA'}, 3650)
        pki._write_together([(ca_key, pki.dump_private_key(ca_private, None), 0o600),
                             (ca_crt, pki.dump_certificate(ca_cert), 0o644)], None, None)
        server_key = pki.generate_private_key(key_type)
        cert = pki.build_server_certificate(server_key, subject, dns, ips, 397, ca_cert, ca_private)
        pki._write_together([(key, pki.dump_private_key(server_key, None), 0o600),
                             (crt, pki.dump_certificate(cert), 0o644)], None, None)

    def rerun():
        ca_pair = pki.PairOnDisk(ca_crt, ca_key, None)
        found = len(pki.ca_differences(ca_pair, {'CN': 'bench CA'}, key_type))
        ca_cert, dummy, dummy_key = pki.load_ca(ca_crt, ca_key, None)
        pair = pki.PairOnDisk(crt, key, None)
        return found + len(pki.cert_reasons(pair, ca_cert, subject, dns, ips, key_type, 30))

    first_s = timed(first)[0]
    rerun_s, differences = timed(rerun)
    return first_s, rerun_s, '-/%d' % differences


def htpasswd_figures(cost):
    users = [{'name': 'bench', 'password': 'bench-Pw-4kQ9'}]
    first, lines = timed(lambda: ht.apply([], users, ['bench'], [], [], cost))
    rerun, dummy = timed(lambda: ht.plan(lines, users, False))
    return first, rerun, '-'


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    row = '%-28s %-11s %9s %9s  %s'
    print(row % ('layer', 'key type', 'first s', 'rerun s', 'changed tasks first/rerun (playbook), '
                 'differences found by the rerun (module_utils)'))
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
