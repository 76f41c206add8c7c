#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_server
short_description: The whole registry server - PKI on the controller, files and container on the host - in one round trip
description:
  - An action plugin. On the controller, in-process - makes or keeps our own CA and the server certificate under
    O(pki_dir) (or checks bring-your-own O(tls_files) against each other), under an exclusive lock on O(pki_dir) so
    several hosts (forks) can run it at once; keeps the shared C(http.secret) in C(<pki_dir>/http.secret) (0600,
    generated once, reused by every replica); builds C(config.yml) from structured input (Distribution's own
    sections, O(storage) validated) and renders it with PyYAML, plus a rendering with every secret value masked
    for diffs.
  - Then calls M(berth.registry.registry_host) on the registry host B(once) with the file contents, the users and
    the container; that lays out the TLS pair, the CA, htpasswd and C(config.yml) and drives the container through
    the Docker SDK, recreating it only when something it reads at start changed.
  - On a fresh host the packages the host module needs (O(packages), by default C(python3-docker) and
    C(python3-bcrypt)) are installed with M(ansible.builtin.apt) and the module runs again; on a converged host that
    never happens, so a rerun is one round trip. In check mode the packages are reported as to be installed
    (C(package <name>) from absent to present) and everything else as it would change - check mode does not need
    C(python3-apt).
  - A registry without users is one anyone who reaches it can push to; it takes O(allow_anonymous_push=true), and
    the run warns (C(no TLS, no authentication) over plain HTTP).
  - The CA key never leaves the controller. No secret (password, passphrase, key bytes, bcrypt hash, S3 key,
    C(http.secret)) appears in the result or the diff, even at C(-vvv).
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._registry_server
attributes:
  check_mode:
    support: full
    details:
      - Writes nothing on the controller or the host, installs nothing. A certificate still to be issued is
        reported as such and the container as to be recreated.
  diff_mode:
    support: full
    details:
      - Metadata only - subjects, fingerprints, user names, package names, C(config.yml) with secret values masked.
  idempotent:
    support: full
  action:
    description: Runs on the controller and calls a module on the target.
    support: full
options:
  pki_dir:
    description:
      - Controller directory of the CA, the server certificate and C(http.secret) (created 0700).
    type: path
    required: true
  tls:
    description: Serve HTTPS. C(false) serves plain HTTP (no certificate, no TLS section).
    type: bool
    default: true
  ca:
    description: Our own CA (ignored with O(tls_files)). Never replaced behind your back - see O(ca.regenerate).
    type: dict
    default: {}
    suboptions:
      subject:
        description:
          - CA subject, the fields of M(berth.registry.tls_ca)'s O(berth.registry.tls_ca#module:subject) (C(C), C(ST),
            C(L), C(O), C(OU), C(CN)). Defaults to C(CN=<certificate name> CA), C(O=berth.registry).
        type: dict
      key_type:
        description: CA key type.
        type: str
        choices: [ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096]
        default: ecdsa-p256
      validity_days:
        description: CA validity.
        type: int
        default: 3650
      regenerate:
        description:
          - What an existing CA that differs from the request does - C(fail) (nothing written), C(keep),
            C(on_change), C(always). A new CA breaks every client that trusts the old one.
          - While a CA rollover is under way (C(rollover.json) in O(pki_dir), see M(berth.registry.registry_ca_rollover))
            the CA is the rollover's - C(ca.crt) must be the CA of its phase, it is neither made nor replaced here, and
            the certificate is (re-)issued under it.
        type: str
        choices: [fail, keep, on_change, always]
        default: fail
      passphrase:
        description:
          - Passphrase of the CA key (C(ca.key) written encrypted; an existing plain key is encrypted with it). A
            wrong one fails and replaces nothing. Never shown; keep it in Ansible Vault.
        type: str
  certificate:
    description: The server certificate our CA signs (ignored with O(tls_files)).
    type: dict
    default: {}
    suboptions:
      name:
        description: Base name of its files under O(pki_dir) (C(<name>.crt), C(<name>.key)). Defaults to the first
          DNS name, else the first IP address.
        type: str
      dns_names:
        description: DNS subjectAltNames (what clients type). The CN is the first one when it fits 64 characters.
        type: list
        elements: str
        default: []
      ip_addresses:
        description: IP subjectAltNames.
        type: list
        elements: str
        default: []
      key_type:
        description: Server key type.
        type: str
        choices: [ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096]
        default: ecdsa-p256
      validity_days:
        description: Certificate validity.
        type: int
        default: 397
      renew_before_days:
        description: Re-issue when it expires within this many days (the container is then recreated once).
        type: int
        default: 30
  tls_files:
    description: Bring your own TLS - controller paths, checked against each other (key matches, CA signed it, not
      expired) before anything is deployed.
    type: dict
    suboptions:
      cert:
        description: Server certificate (or full chain).
        type: path
        required: true
      key:
        description: Its private key (unencrypted; the registry reads it as is).
        type: path
        required: true
      ca:
        description: The CA clients trust.
        type: path
        required: true
  http_secret:
    description: C(http.secret) to use instead of the one kept in C(<pki_dir>/http.secret). Never shown.
    type: str
  port:
    description: Port the registry listens on, published on O(bind_address). Defaults to 443 with TLS, 5000 without.
    type: int
  bind_address:
    description: Host address the port is published on (C(127.0.0.1) behind a front end on the same host).
    type: str
    default: 0.0.0.0
  auth_realm:
    description: C(auth.htpasswd.realm).
    type: str
    default: basic-realm
  allow_anonymous_push:
    description:
      - Run without users - anyone who reaches the port can push, overwrite and delete images. Refused unless
        C(true); the run then warns, C(no TLS, no authentication) over plain HTTP.
    type: bool
    default: false
  storage:
    description:
      - Distribution's C(storage) section - exactly one driver (C(filesystem), C(inmemory), C(s3), C(swift), C(azure),
        C(gcs), C(oss); C(swift) and C(oss) are gone in Distribution 3.0) with its parameters, plus C(cache),
        C(maintenance), C(tag) if wanted. C(filesystem) keeps the images under the data directory.
      - Required keys are checked (C(s3) - C(region), C(bucket)). Secret values (C(accesskey), C(secretkey),
        C(sessiontoken), C(accountkey), C(password), C(credentials), ...) are never shown.
      - A wrong bucket or wrong keys make the registry fail to start; the run fails with the registry's log lines,
        and the previous container keeps serving with the previous configuration.
    type: dict
    default:
      filesystem: {}
  storage_delete:
    description:
      - C(storage.delete.enabled). Off by default - a pushed tag cannot be deleted through the API. Deleting tags
        and manifests (and so freeing space with garbage collection) needs it on; with it on, anyone allowed to push
        can delete.
    type: bool
    default: false
  storage_redirect:
    description:
      - Let clients fetch blobs from the store directly (presigned redirects) - they must then reach it. Default off
        for a store that redirects (C(storage.redirect.disable=true)); not used with C(filesystem).
    type: bool
  metrics_address:
    description:
      - C(ADDRESS:PORT) on the host where the registry's debug server - Prometheus metrics at C(/metrics) - is
        published (C(http.debug.addr) plus C(http.debug.prometheus)). The default is the host's loopback only; C(:5001)
        or C(0.0.0.0:5001) lets a Prometheus elsewhere scrape it. Empty turns it off.
    type: str
    default: 127.0.0.1:5001
  config:
    description:
      - More of C(config.yml) - Distribution's own sections as you would write them (C(log), C(http.headers),
        C(http.host), C(http.tls.minimumtls), C(health), C(redis), C(notifications), C(proxy), C(storage.cache),
        C(storage.maintenance), ...). Values are data, never pasted as text - a value with a newline stays one value.
      - Keys this module sets are refused here - C(version), C(http.addr), C(http.secret), C(http.debug),
        C(http.tls.certificate), C(http.tls.key), C(auth), the storage driver, C(storage.delete), C(storage.redirect).
    type: dict
    default: {}
  container:
    description: The registry container.
    type: dict
    default: {}
    suboptions:
      name:
        description: Container name.
        type: str
        default: registry
      image:
        description: Image (C(registry:2) or C(registry:3)).
        type: str
        default: registry:2
      pull:
        description: When to pull the image.
        type: str
        choices: [missing, always, never]
        default: missing
      restart_policy:
        description: Docker restart policy.
        type: str
        choices: ['no', always, unless-stopped, on-failure]
        default: always
      data_dir:
        description: Host directory of the images (survives recreation).
        type: path
        default: /var/lib/registry
      data_dir_mode:
        description: Its mode (the registry runs as root).
        type: raw
        default: '0700'
      env:
        description: Extra environment (shown at C(-vvv)).
        type: dict
        default: {}
      secret_env:
        description: Secret environment; never shown, a changed value recreates the container.
        type: dict
        default: {}
      labels:
        description: Extra container labels.
        type: dict
        default: {}
      command:
        description: Arguments of the image's entrypoint (default C(serve /etc/docker/registry/config.yml)).
        type: list
        elements: str
      start_timeout:
        description: Seconds to wait for the registry to answer after a (re)start.
        type: int
        default: 60
  image_archive:
    description:
      - Controller path of a C(docker save) archive of O(container.image), for air-gapped hosts. Sent only when the
        host lacks that image (into the task's temporary directory, removed afterwards), then loaded.
    type: path
  extra_files:
    description: More files under O(config_dir) (a front end's configuration, ...). Their diff is a digest.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Path relative to O(config_dir).
        type: str
        required: true
      content:
        description: Text of the file (never shown). Give this or O(extra_files[].src).
        type: str
      src:
        description: Controller file to copy instead of O(extra_files[].content).
        type: path
      mode:
        description: File mode.
        type: raw
        default: '0644'
      restart:
        description: Read only at start - a change recreates the container.
        type: bool
        default: false
      secret:
        description: Its content is secret (also kept out of any message).
        type: bool
        default: false
  install_packages:
    description: Install missing O(packages) with apt. C(false) fails naming them instead.
    type: bool
    default: true
  client_certificates:
    description:
      - Mutual TLS. Each node of O(client_certificates.nodes) gets a client certificate (EKU clientAuth, CN = the node)
        signed by our CA, made on the controller under O(pki_dir)/clients/ (C(<node>.crt), C(<node>.key) 0600);
        certificates of nodes no longer listed are revoked into C(clients/crl.pem).
      - The nginx front end on the registry host then requires a certificate of our CA that the CRL does not revoke;
        a client without one fails the TLS handshake. Needs O(tls) and our own CA (not O(tls_files)).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Issue client certificates and require them.
        type: bool
        default: false
      nodes:
        description: The enrolled nodes (inventory names); removing one revokes its certificate on the next run.
        type: list
        elements: str
        default: []
      key_type:
        description: Key type of the client keys.
        type: str
        choices: [ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096]
        default: ecdsa-p256
      validity_days:
        description: Validity of a client certificate.
        type: int
        default: 397
      renew_before_days:
        description: Renew a client certificate this many days before it expires (the CRL is re-signed likewise).
        type: int
        default: 30
  frontend_upstream_port:
    description:
      - With the nginx front end (any O(users[].access=pull) user, or O(client_certificates.enabled)) the registry
        listens on C(127.0.0.1:<this port>) only, plain HTTP, and nginx terminates TLS on O(port).
    type: int
    default: 5000
notes:
  - The module of the same name documents the action; the registry host runs M(berth.registry.registry_host).
requirements:
  - On the controller - C(cryptography) >= 38, PyYAML. On the registry host - python3 and Docker; the rest is
    installed (O(packages)).
seealso:
  - module: berth.registry.registry_host
  - module: berth.registry.tls_ca
  - module: berth.registry.tls_cert
  - module: berth.registry.registry_container
'''

EXAMPLES = r'''
- name: Registry with our own CA, one user, filesystem storage
  berth.registry.registry_server:
    pki_dir: ~/.berth/registry.example.internal
    certificate:
      dns_names: [registry.example.internal]
      ip_addresses: [192.0.2.10]
    ca:
      passphrase: "{{ vault_registry_ca_passphrase }}"
    users:
      - name: admin
        password: "{{ vault_registry_admin_password }}"
    config:
      log:
        level: info
        accesslog:
          disabled: false
  register: registry_server_result

- name: On an S3-compatible store (Ceph RGW, MinIO), clients never reaching it
  berth.registry.registry_server:
    pki_dir: ~/.berth/registry.example.internal
    certificate:
      dns_names: [registry.example.internal]
    users: "{{ registry_users }}"
    storage:
      s3:
        regionendpoint: http://rgw.example.internal:7480
        region: us-east-1
        bucket: registry
        accesskey: "{{ vault_s3_access_key }}"
        secretkey: "{{ vault_s3_secret_key }}"
        secure: false
        v4auth: true
        rootdirectory: /registry
'''

RETURN = r'''
changed:
  description: Whether anything differed on the controller or the host (and was changed, outside check mode).
  returned: always
  type: bool
differences:
  description:
    - The controller's differences (C(pki_dir), C(ca) ..., C(certificate) ..., C(http.secret)), the packages
      installed (C(package NAME)), then the host's (see M(berth.registry.registry_host)). Secret values masked.
  returned: always
  type: list
  elements: dict
ca:
  description: The CA clients trust (metadata; null with plain HTTP or while it is only planned).
  returned: success
  type: dict
  contains:
    subject:
      description: Subject.
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint.
      type: str
    not_after:
      description: Expiry.
      type: str
    days_left:
      description: Whole days until expiry.
      type: int
    path:
      description: Controller path.
      type: str
certificate:
  description: The server certificate (same keys as RV(ca), plus C(dns_names), C(ip_addresses)).
  returned: success
  type: dict
ca_rollover_phase:
  description: The phase of a CA rollover under way (C(trust), C(switch), C(retire)); null when none is.
  returned: success
  type: str
users:
  description: User names (never passwords).
  returned: success
  type: list
  elements: str
container:
  description: The registry container after the run (see M(berth.registry.registry_host)).
  returned: success
  type: dict
installed_packages:
  description: Packages installed with apt in this run.
  returned: success
  type: list
  elements: str
missing_packages:
  description: Check mode - packages a real run would install.
  returned: success
  type: list
  elements: str
metrics_url:
  description: Where the Prometheus metrics are, seen from the registry host (null when off).
  returned: success
  type: str
storage_driver:
  description: The storage driver.
  returned: success
  type: str
port:
  description: The registry's port.
  returned: success
  type: int
config_dir:
  description: The configuration directory on the host.
  returned: success
  type: str
recreated:
  description: Whether the container was recreated.
  returned: success
  type: bool
frontend:
  description:
    - The nginx front end (null when there is none) - C(present), C(site), C(users), C(push_users), C(mutual_tls),
      C(reloaded), C(started).
  returned: success
  type: dict
client_certificates:
  description:
    - Mutual TLS - per enrolled node C(path), C(privatekey_path) (on the controller), C(serial),
      C(fingerprint_sha256), C(not_after); null when off. Never key bytes.
  returned: success
  type: dict
'''
