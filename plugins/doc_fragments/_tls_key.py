# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Key and file options shared by tls_ca and tls_cert
    # (argument spec: module_utils/_pki/options.py tls_key_argument_spec()).
    DOCUMENTATION = r'''
options:
  privatekey_path:
    description:
      - Path of the PEM private key (PKCS#8). Always written with mode C(0600).
      - The key and the certificate are first written completely to temporary files
        in their directories and only then renamed into place, key first.
    type: path
    required: true
  privatekey_passphrase:
    description:
      - Passphrase that encrypts the private key (best available PKCS#8 encryption).
      - An existing unencrypted key of the right type is kept and re-written encrypted.
      - An existing encrypted key that this passphrase does not open (or with no passphrase given) is an
        error naming the file; it is never replaced.
    type: str
  key_type:
    description:
      - Type and size of the private key.
    type: str
    choices: [ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096]
    default: ecdsa-p256
  mode:
    description:
      - Mode of the certificate file (and full-chain file), as an octal string such as C('0644') (0000 to 7777)
        or a symbolic mode such as C(u=rw,go=r).
      - The private key is always C(0600).
      - A differing mode on an existing file is corrected and reported as a change.
      - A symlink is followed; its target gets the content and the attributes, the link stays.
    type: raw
    default: '0644'
  owner:
    description:
      - Owner (name or uid) of the written files; unchanged when not set.
    type: str
  group:
    description:
      - Group (name or gid) of the written files; unchanged when not set.
    type: str
requirements:
  - cryptography >= 38.0 on the host the module runs on
'''
