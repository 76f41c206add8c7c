#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_container
short_description: Run the CNCF Distribution registry container and restart it only when its inputs changed
description:
  - Runs the Distribution registry (the C(registry:2) or C(registry:3) image) as a Docker container through the
    Docker SDK for Python, with its data in a host directory or a named volume and its configuration directory
    mounted read-only.
  - One comparison decides whether the container is recreated - the image the name resolves to now, the published
    ports (with bind address), the mounts, the environment and labels set by this module, the restart policy, the
    command, and a content hash of O(restart_files) kept in the container label C(berth.registry.files-hash).
    Nothing else restarts it; in particular the htpasswd file does not need to be listed, Distribution re-reads
    it when its modification time changes.
  - Every input (ports, names, paths, files, image availability) is validated before anything is stopped or
    removed, so a running registry stays up when the input is bad.
  - A recreate is a swap - the new container is created under a temporary name (C(<name>-berth-new)), the old one
    is stopped but kept, the new one starts and must answer; only then is the old one removed and the new one
    renamed. When the new one does not answer, it is removed and the old one started again.
author: berth.registry maintainers (@berth)
extends_documentation_fragment:
  - berth.registry._attributes
attributes:
  check_mode:
    support: partial
    details:
      - Nothing is pulled, loaded, created, started or stopped; the same comparison runs and C(changed) is predicted.
      - With O(pull=always) and no O(image_archive), check mode cannot know whether the registry holds a newer
        image and assumes it does not.
  diff_mode:
    support: full
    details:
      - The diff lists the fields that differ. O(secret_env) values are never shown (only that a variable
        appears, changes or goes); O(env) values whose name looks secret are masked too; the O(restart_files)
        content is only reported as changed, never hashed or shown.
  idempotent:
    support: full
options:
  name:
    description: Name of the container.
    type: str
    default: registry
  image:
    description: Image to run (name with tag, or a digest reference).
    type: str
    default: registry:2
  pull:
    description:
      - V(missing) pulls the image only when it is not on the host; V(always) pulls (or loads O(image_archive)) on
        every run, recreating the container only when the name then resolves to another image ID; V(never) fails
        when the image is not on the host and no O(image_archive) is given.
    type: str
    choices: [missing, always, never]
    default: missing
  image_archive:
    description:
      - Path on the target host of a C(docker save) archive that holds O(image). It is loaded instead of pulling,
        when the image is not on the host or when O(pull=always) and the archive holds another image ID.
      - The archive must hold O(image) under that exact name, otherwise the module fails.
    type: path
  ports:
    description:
      - Published ports. When omitted, C(0.0.0.0:5000->5000/tcp). An empty list publishes nothing.
    type: list
    elements: dict
    suboptions:
      host_port:
        description: Port on the host (1..65535).
        type: int
        required: true
      container_port:
        description: Port inside the container (1..65535).
        type: int
        default: 5000
      bind_address:
        description: Host address to bind (an IPv4 or IPv6 address).
        type: str
        default: 0.0.0.0
      protocol:
        description: Transport protocol.
        type: str
        choices: [tcp, udp]
        default: tcp
  restart_policy:
    description: Docker restart policy of the container.
    type: str
    choices: ['no', always, unless-stopped, on-failure]
    default: always
  data_dir:
    description:
      - Host directory bind-mounted at C(/var/lib/registry); created when missing (parents with mode 0755).
      - When neither O(data_dir) nor O(data_volume) is given, C(/var/lib/registry) on the host.
      - It cannot contain C(:) (a Docker bind mount cannot take it).
    type: path
  data_dir_mode:
    description:
      - Mode of O(data_dir), set when it is created and kept on every run (a change is a C(chmod), not a
        recreate). Octal (V(0700)) or symbolic (V(u=rwx,g=rx)).
      - The default keeps the image blobs private to root, which the registry runs as in the C(registry:2) and
        C(registry:3) images. An image that runs the registry as another user needs a mode (and owner) that lets
        it write. V(null) leaves an existing directory's mode alone.
    type: raw
    default: '0700'

  data_volume:
    description:
      - Named Docker volume mounted at C(/var/lib/registry), instead of O(data_dir). Letters, digits and C(_ . -).
    type: str
  config_dir:
    description:
      - Host directory mounted read-only at C(/etc/docker/registry) (holds C(config.yml), TLS files, htpasswd).
        It must exist. When omitted, the image's own configuration is used.
    type: path
  env:
    description:
      - Environment variables set in the container (the image's own variables are kept).
      - These values are shown in the task's invocation at C(-vvv) and in O(env) differences (values whose name
        contains SECRET, PASSW, TOKEN, KEY, CREDENTIAL or AUTH are masked there). Put secrets such as
        C(REGISTRY_HTTP_SECRET) or S3 keys in O(secret_env).
    type: dict
    default: {}
  secret_env:
    description:
      - Secret environment variables set in the container, such as C(REGISTRY_HTTP_SECRET) or
        C(REGISTRY_STORAGE_S3_SECRETKEY). Their values never appear in the result, the diff, the differences, the
        invocation or an error message; a changed value still recreates the container (the values are compared
        with the container's environment in memory).
      - The container's label C(berth.registry.secret-env) lists their names (not values). A variable is set in
        either O(env) or O(secret_env).
    type: dict
    default: {}
  labels:
    description:
      - Labels set on the container. C(berth.registry.files-hash) and C(berth.registry.secret-env) are set by this
        module and cannot be given.
    type: dict
    default: {}
  command:
    description:
      - Arguments given to the image's entrypoint. The default works with both C(registry:2) and C(registry:3).
        An empty list uses the image's own command.
    type: list
    elements: str
    default: [serve, /etc/docker/registry/config.yml]
  restart_files:
    description:
      - Host files read by the registry at start only (C(config.yml), TLS certificate and key). A change of their
        content recreates the container. A listed file that does not exist is an error.
    type: list
    elements: path
    default: []
  probe:
    description:
      - How to check, after a (re)start, that the registry answers - C(GET /) must answer 200 and C(GET /v2/)
        200 or 401. On timeout the module fails with the container's last 30 log lines.
      - The TLS certificate is not verified unless O(probe.ca_path) is given (and even then the host name is
        not checked); trust is verified elsewhere.
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
        description: Port to probe. Defaults to the first O(ports[].host_port); required when O(ports) is empty.
        type: int
      host:
        description:
          - Address to probe. Defaults to C(127.0.0.1), or to the first O(ports[].bind_address) when that is a
            specific (non-wildcard) address.
        type: str
      timeout:
        description: Seconds to wait for the registry to answer.
        type: int
        default: 60
      ca_path:
        description: CA bundle to verify the registry's certificate chain with.
        type: path
  state:
    description:
      - V(started) creates, recreates or starts the container as needed.
      - V(stopped) stops the container when it runs (it is not created when absent).
      - V(absent) removes the container; its data is kept unless O(remove_data=true).
    type: str
    choices: [started, stopped, absent]
    default: started
  remove_data:
    description: With O(state=absent), also empty O(data_dir) (the directory itself is kept) or remove O(data_volume).
    type: bool
    default: false
  recreate:
    description:
      - V(options-changed) recreates the container when the comparison finds a difference; V(always) on every run;
        V(never) keeps an existing container (with a warning listing the differences).
    type: str
    choices: [options-changed, always, never]
    default: options-changed
  docker_host:
    description: Docker engine API address.
    type: str
    default: unix:///var/run/docker.sock
  timeout:
    description: Timeout in seconds of each Docker API call.
    type: int
    default: 60
requirements:
  - docker (Docker SDK for Python) >= 5.0.3
notes:
  - The old container is stopped before the new one starts, as they publish the same ports; the registry does not
    answer for that short time (with several replicas behind a load balancer, recreate them one at a time).
'''

EXAMPLES = r'''
- name: Run the registry with TLS, restarting it when config.yml or the TLS pair changes
  berth.registry.registry_container:
    name: registry
    image: registry:2
    image_archive: /var/cache/berth/registry-2.tar
    ports:
      - host_port: 443
        container_port: 443
    data_dir: /opt/data/registry
    config_dir: /etc/docker/registry
    restart_files:
      - /etc/docker/registry/config.yml
      - /etc/docker/registry/ssl/registry.crt
      - /etc/docker/registry/ssl/registry.key

- name: Plain HTTP registry on the loopback address only
  berth.registry.registry_container:
    name: registry-local
    ports:
      - host_port: 5000
        bind_address: 127.0.0.1
    probe:
      scheme: http

- name: Remove the registry and its data
  berth.registry.registry_container:
    name: registry
    state: absent
    remove_data: true
'''

RETURN = r'''
container:
  description: The container after the run (before it, in check mode); empty when there is none.
  returned: always
  type: dict
  contains:
    id:
      description: Container ID.
      type: str
      sample: 4f1c0e5d2b0a9c8e7f6d5c4b3a2918070605040302010099887766554433221100
    name:
      description: Container name.
      type: str
      sample: registry
    image_id:
      description: ID of the image the container runs.
      type: str
      sample: sha256:22b9c7a0f6b1d5b7a7c3b8e0e3f0d1c2b3a4958677869584736251403f2e1d0c
    started_at:
      description: When the container last started (Docker's C(State.StartedAt)).
      type: str
      sample: '2026-11-28T01:50:00.123456789Z'
    status:
      description: Docker's C(State.Status).
      type: str
      sample: running
recreated:
  description: Whether an existing container was replaced by a new one.
  returned: always
  type: bool
differences:
  description: What differs (or differed) between the options and the container; the same data as the diff.
  returned: always
  type: list
  elements: dict
  contains:
    field:
      description:
        - Which field differs. A mapping field has one entry per key, for example C(env.REGISTRY_LOG_LEVEL).
        - C(image) - ID of the image the container runs (after a pull or load, what the name resolves to then).
        - C(ports) - published ports, as address:host_port->container_port/protocol.
        - C(binds) - mounts, the data directory or volume, the configuration directory (read-only).
        - C(env.NAME) - an environment variable set by O(env) (masked when its name looks secret).
        - C(secret_env.NAME) - a variable set by O(secret_env), only whether it appears, changes or goes, never a value.
        - C(restart_policy) - Docker's restart policy.
        - C(command) - the arguments given to the image's entrypoint.
        - C(labels.NAME) - a container label set by O(labels).
        - C(restart_files) - the content of O(restart_files), shown as changed, never as its hash.
        - C(container) - the container appears (before is none) or goes (after is none).
        - C(status) - an existing container is started or stopped.
        - C(local image) - what the image name resolves to on the host, after a pull or a load.
        - C(data_dir) - the data directory is created (or, with O(remove_data), emptied).
        - C(data_dir mode) - the permissions of the data directory (O(data_dir_mode)).
        - C(data_volume) - the data volume is removed (O(remove_data)).
        - C(recreate) - O(recreate=always) recreates the container.
      type: str
    before:
      description: The current value; C((secret)) for a secret one; none when absent.
      type: raw
    after:
      description: The wanted value; C((secret)) or C((secret, changed)) for a secret one; none when absent.
      type: raw
  sample:
    - {field: restart_files, before: content at last start, after: changed content}
    - {field: secret_env.REGISTRY_HTTP_SECRET, before: '(secret)', after: '(secret, changed)'}
image_loaded:
  description: Whether O(image_archive) was loaded.
  returned: always
  type: bool
image_pulled:
  description: Whether the image was pulled.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module
from ansible_collections.berth.registry.plugins.module_utils._registry_container import module as container_module
from ansible_collections.berth.registry.plugins.module_utils._registry_container.spec import (
    MUTUALLY_EXCLUSIVE,
    argument_spec,
)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    run_module(module, lambda: container_module.run(module))


if __name__ == '__main__':
    main()
