#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_host
short_description: Lay out the registry host's files and run the registry container, in one call
description:
  - The registry host's half of M(berth.registry.registry_server), which renders everything on the controller
    and calls this module once. Usable alone with a C(config.yml) and a TLS pair you made yourself.
  - Checks first which O(packages) are missing (a C(python3-*) package counts as present when its module imports,
    others when dpkg lists them). A real run then stops and returns RV(missing_packages) without changing anything
    (M(berth.registry.registry_server) installs them with apt and calls again); check mode reports
    C(package <name>) from absent to present and predicts the rest.
  - Everything is validated before anything is written. Then, under O(config_dir) - C(ssl/) (0700) with the TLS
    key (0600, written before the certificate, both staged before the first rename), the certificate and the CA
    (0644); C(auth/htpasswd) (0640, bcrypt C($2y$), compared with C(checkpw), never rehashed on a rerun);
    C(config.yml) (0600, it holds secrets); O(extra_files). Each file is written only when its bytes differ.
  - Then the registry container through the Docker SDK, as M(berth.registry.registry_container) runs it. The
    restart trigger is a content hash of the bytes C(config.yml) and the TLS pair B(will) hold, so check mode
    predicts a recreate exactly and a new user restarts nothing (Distribution re-reads htpasswd).
  - When the new container does not answer, the files it reads at start are put back as they were and the
    previous container is restarted with them; the run fails with the registry's last log lines.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
  - berth.registry._registry_server
attributes:
  check_mode:
    support: full
    details:
      - Nothing is installed, written, pulled, loaded, created or started. On a host without the Docker SDK the
        container is reported as to be created; without bcrypt, an existing htpasswd file is reported as not
        compared.
  diff_mode:
    support: full
    details:
      - Metadata only - certificate fingerprints, user names, C(config.yml) with every secret value masked, a
        digest of O(extra_files); never key bytes, hashes, passwords or secret values.
  idempotent:
    support: full
options:
  config:
    description:
      - The content of C(config.yml). Its paths are the container's (C(/etc/docker/registry/ssl/registry.crt), ...).
      - Never shown (C(no_log)); the diff shows O(config_shown) instead.
    type: str
    required: true
  config_shown:
    description: C(config.yml) with secret values masked, for the diff. Defaults to O(config) with the values of
      secret-looking keys (C(secretkey), C(password), C(secret), ...) masked line by line.
    type: str
  tls:
    description: The TLS pair and the CA, as PEM text. Leave out for plain HTTP.
    type: dict
    suboptions:
      cert:
        description: Server certificate (or full chain), to C(ssl/registry.crt).
        type: str
      key:
        description: Its private key, unencrypted, to C(ssl/registry.key) (0600). Never shown.
        type: str
      ca:
        description: The CA clients trust, to C(ssl/ca.crt).
        type: str
      pending:
        description: Check mode only - the pair is still to be issued on the controller; the files and the
          container are reported as to change.
        type: bool
        default: false
  container:
    description:
      - The registry container, as M(berth.registry.registry_container) takes it (the configuration directory is
        O(config_dir), the restart files are C(config.yml) and the TLS pair).
    type: dict
    required: true
    suboptions:
      name:
        description: Container name.
        type: str
        default: registry
      image:
        description: Image to run.
        type: str
        default: registry:2
      pull:
        description: When to pull the image.
        type: str
        choices: [missing, always, never]
        default: missing
      ports:
        description: Published ports.
        type: list
        elements: dict
        suboptions:
          host_port:
            description: Port on the host.
            type: int
            required: true
          container_port:
            description: Port in the container.
            type: int
            default: 5000
          bind_address:
            description: Host address to publish on.
            type: str
            default: 0.0.0.0
          protocol:
            description: Protocol.
            type: str
            choices: [tcp, udp]
            default: tcp
      restart_policy:
        description: Docker restart policy.
        type: str
        choices: ['no', always, unless-stopped, on-failure]
        default: always
      data_dir:
        description: Host directory for the images, mounted at C(/var/lib/registry).
        type: path
      data_dir_mode:
        description: Mode of O(container.data_dir) (the registry runs as root).
        type: raw
        default: '0700'
      env:
        description: Environment variables (shown at C(-vvv); secrets go to O(container.secret_env)).
        type: dict
        default: {}
      secret_env:
        description: Secret environment variables; never shown, a changed value recreates the container.
        type: dict
        default: {}
      labels:
        description: Extra container labels.
        type: dict
        default: {}
      command:
        description: Arguments of the image's entrypoint.
        type: list
        elements: str
        default: [serve, /etc/docker/registry/config.yml]
      recreate:
        description: When to recreate the container.
        type: str
        choices: [options-changed, always, never]
        default: options-changed
      probe:
        description: How to check that the registry answers after a (re)start (see M(berth.registry.registry_container)).
        type: dict
        suboptions:
          enabled:
            description: Whether to wait for the registry to answer.
            type: bool
            default: true
          scheme:
            description: Scheme the registry speaks.
            type: str
            choices: [http, https]
            default: https
          port:
            description: Port to probe; defaults to the first published port.
            type: int
          host:
            description: Address to probe; defaults to C(127.0.0.1) or the first specific bind address.
            type: str
          timeout:
            description: Seconds to wait.
            type: int
            default: 60
          ca_path:
            description: CA bundle to verify the registry's certificate chain with.
            type: path
  image_archive:
    description: Host path of a C(docker save) archive of O(container.image), loaded when the image is missing.
    type: path
  image_archive_id:
    description:
      - The image ID of an archive the caller holds (empty when unknown). With it and no O(image_archive), a run
        whose host lacks that image returns RV(needs_image_archive) instead of pulling, and changes nothing.
    type: str
  extra_files:
    description:
      - More files under O(config_dir), for example a front end's configuration. Their diff is a digest.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Path relative to O(config_dir), inside it.
        type: str
        required: true
      content:
        description: The file's text (never shown).
        type: str
        default: ''
      mode:
        description: File mode.
        type: raw
        default: '0644'
      restart:
        description: The registry reads it only at start - a change recreates the container.
        type: bool
        default: false
      secret:
        description: Show only that it changes.
        type: bool
        default: false
  frontend:
    description:
      - The nginx front end (Debian's C(nginx), a host service) - TLS on O(frontend.port) with the registry's pair,
        basic auth against C(<config_dir>/frontend/users.htpasswd) (every user) and, for writes,
        C(push.htpasswd) (O(users[].access=push)), mutual TLS when O(frontend.client_ca) is given; the registry
        behind it on C(127.0.0.1:<upstream_port>). Validated with C(nginx -t), reloaded gracefully only when its site,
        client CA, CRL or the TLS pair changed; never restarted.
      - Omitted - no front end; the site a previous run wrote is removed and nginx reloaded.
    type: dict
    suboptions:
      port:
        description: Where nginx listens (the registry port clients use).
        type: int
        required: true
      upstream_port:
        description: The registry's port on 127.0.0.1.
        type: int
        required: true
      server_names:
        description: Names and addresses clients type.
        type: list
        elements: str
        required: true
      realm:
        description: Basic auth realm.
        type: str
      client_ca:
        description: PEM of the CA(s) that sign client certificates (mutual TLS; with O(frontend.crl)).
        type: str
      crl:
        description: PEM of the CRL of that CA.
        type: str
      crl_summary:
        description: How the CRL is shown in differences (else a digest).
        type: str
  secrets:
    description: Values masked wherever they would appear in the result (the S3 keys and C(http.secret) inside O(config)).
    type: list
    elements: str
    default: []
requirements:
  - Docker SDK for Python >= 5.0.3 (Debian C(python3-docker)) and C(bcrypt) (C(python3-bcrypt)) on the registry host.
seealso:
  - module: berth.registry.registry_server
  - module: berth.registry.registry_container
'''

EXAMPLES = r'''
- name: A registry from a config.yml rendered elsewhere (plain HTTP, one user)
  berth.registry.registry_host:
    config: "{{ lookup('ansible.builtin.file', 'files/config.yml') }}"
    users:
      - name: ci
        password: "{{ vault_ci_password }}"
    container:
      ports:
        - host_port: 5000
      probe:
        scheme: http
'''

RETURN = r'''
changed:
  description: Whether anything differed (and was changed, outside check mode).
  returned: always
  type: bool
differences:
  description:
    - What differs, one entry per field - C(package NAME), C(directory PATH), C(ssl/registry.key) (only that it
      changes), C(ssl/registry.crt) and C(ssl/ca.crt) (fingerprints), C(config.yml) (the masked text),
      C(htpasswd) C(user NAME), C(container) and C(container FIELD) (see M(berth.registry.registry_container)).
  returned: always
  type: list
  elements: dict
  contains:
    field:
      description: What differs.
      type: str
    before:
      description: Before (masked when secret).
      type: raw
    after:
      description: After (masked when secret).
      type: raw
missing_packages:
  description: Packages the host lacks. In a real run nothing else was done and C(changed) is false.
  returned: always
  type: list
  elements: str
needs_image_archive:
  description: The host lacks the image of O(image_archive_id); nothing was done. Call again with O(image_archive).
  returned: when the archive is needed
  type: bool
container:
  description: The registry container after the run.
  returned: success
  type: dict
  contains:
    name:
      description: Container name.
      type: str
    found:
      description: Whether it exists.
      type: bool
    running:
      description: Whether it runs.
      type: bool
    status:
      description: Docker's status.
      type: str
    started_at:
      description: When it started.
      type: str
    image:
      description: The image name.
      type: str
    image_id:
      description: The image ID it runs.
      type: str
    id:
      description: Container ID.
      type: str
users:
  description: Names of the users in the htpasswd file (never passwords or hashes).
  returned: success
  type: list
  elements: str
config_dir:
  description: The configuration directory.
  returned: success
  type: str
frontend:
  description: The nginx front end (null when there is none) - C(present), C(site), C(users), C(push_users),
    C(mutual_tls), C(reloaded), C(started).
  returned: success
  type: dict
recreated:
  description: Whether the container was recreated.
  returned: success
  type: bool
image_pulled:
  description: Whether the image was pulled.
  returned: success
  type: bool
image_loaded:
  description: Whether the image was loaded from O(image_archive).
  returned: success
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._registry_server.host import run_module_body
from ansible_collections.berth.registry.plugins.module_utils._registry_server.options import host_argument_spec


def main():
    module = AnsibleModule(argument_spec=host_argument_spec(), supports_check_mode=True)
    run_module(module, lambda: run_module_body(module))


if __name__ == '__main__':
    main()
