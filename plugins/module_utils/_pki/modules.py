# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drivers behind tls_ca, tls_cert and tls_cert_info: module parameters in, result dict out.

Each module's main() runs ``Driver(module).run()`` inside ``_errors.run_module``; errors are raised
(PKIError), never reported here. Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._crypto_deps import require_cryptography
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import PKIError
from ansible_collections.berth.registry.plugins.module_utils._pki.info import certificate_info
from ansible_collections.berth.registry.plugins.module_utils._pki.options import ca_plan, cert_plan
from ansible_collections.berth.registry.plugins.module_utils._plans import run_plan


class _PairDriver(object):
    make_plan = None

    def __init__(self, module):
        self.module = module

    def run(self):
        require_cryptography()
        return run_plan(self.module, self.make_plan(writer=FileWriter(self.module), check_mode=self.module.check_mode,
                                                    **self.module.params))


class TlsCa(_PairDriver):
    make_plan = staticmethod(ca_plan)


class TlsCert(_PairDriver):
    make_plan = staticmethod(cert_plan)


class TlsCertInfo(object):
    def __init__(self, module):
        self.module = module

    def run(self):
        require_cryptography()
        p = self.module.params
        info, problems = certificate_info(p['path'], p['privatekey_path'], p['privatekey_passphrase'], p['ca_path'])
        result = Differences().result(self.module._diff, problems=problems, **info)
        if problems and p['fail_on_mismatch']:
            raise PKIError('; '.join(problems), **result)
        return result
