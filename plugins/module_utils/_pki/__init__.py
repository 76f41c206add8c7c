# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Own-CA PKI on ``cryptography`` (>= 38), in layers; each file one concern.

Pure X.509 (no files, no Ansible):
  ``keys``      key types; generate, load (telling a wrong passphrase from a damaged file), dump
  ``names``     subject fields and subjectAltNames: validated input, x509 names, read back
  ``certs``     load/dump a certificate, validity, fingerprint, signature check, metadata summary
  ``kinds``     what each kind of certificate carries (``RootCA``, ``ServerCertificate``, ``ClientCertificate``)
                and ``issue()``
  ``crl``       certificate revocation lists signed by the CA: build, load, compare
The pair on disk and the decision:
  ``pair``      a key + certificate pair as found on disk; the signing CA (``load_issuer``)
  ``decisions`` how an existing pair differs from a request, recorded in a ``_diff.Differences``
One plan-apply-dump object for every pair, and its callers:
  ``plan``      ``PairPlan`` (plan, apply, result) with the regenerate policy and an optional lock
  ``options``   the modules' options: argument specs, and ``ca_plan()`` / ``cert_plan()`` that turn
                plain option values into a ``PairPlan`` (an action plugin calls these in-process)
  ``clients``   ``ClientFleet``: the client certificates of every enrolled node (mutual TLS), the index of what
                was issued and revoked, and the CRL of the nodes that left (one PairPlan per node inside)
  ``info``      the read-only view behind tls_cert_info
  ``modules``   the module drivers behind tls_ca, tls_cert and tls_cert_info

A new kind of certificate (a client certificate with EKU clientAuth for mutual TLS, the next CA of a
rollover signed by the current one) is a class in ``kinds`` plus a factory in ``options``: ``decisions``
and ``plan`` compare and write any kind through the ``Kind`` interface and need no change. A CRL is not
a key + certificate pair: it gets a file of its own here (``crl``), signed with ``pair.load_issuer()``.
Private to the collection (leading underscore): free to refactor.
"""
