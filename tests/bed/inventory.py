"""Inventory and ansible.cfg for a bed: groups by role (`registry`, `registry_clients`, ...) and flavour, tuned for many nodes."""

from __future__ import annotations

import os

import yaml

from .flavours import S3_PORT
from .playbook import COLLECTIONS_PATH

ANSIBLE_CFG = """\
[defaults]
inventory = {inventory}
collections_path = {collections}
forks = {forks}
host_key_checking = False
retry_files_enabled = False
interpreter_python = auto_silent
timeout = 20
deprecation_warnings = False
nocolor = True

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ServerAliveInterval=15
control_path_dir = {control_path_dir}
"""


def _hostvars(bed, node):
    hostvars = {'ansible_host': node.ip, 'berth_flavour': node.flavour}
    if node.flavour == 'objectstore':
        hostvars['berth_s3_endpoint'] = 'http://%s:%d' % (node.ip, S3_PORT)
    return hostvars


def inventory_data(bed, extra_vars=None):
    """Groups `registry` and `registry_clients` always (maybe empty), then every other group a node
    is in (`registry_lb`, `objectstore`, ...) and `flavour_<name>` per flavour, in node order."""
    common = {
        'ansible_user': 'root',
        'ansible_ssh_private_key_file': bed.key_path,
        'ansible_python_interpreter': '/usr/bin/python3',
    }
    common.update(extra_vars or {})
    groups = {'registry': {'hosts': {}}, 'registry_clients': {'hosts': {}}}
    for node in bed.nodes:
        for group in node.groups:
            groups.setdefault(group, {'hosts': {}})['hosts'][node.name] = _hostvars(bed, node)
    return {'all': {'vars': common, 'children': groups}}


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def write_inventory(bed, path, extra_vars=None):
    _write(path, yaml.safe_dump(inventory_data(bed, extra_vars), default_flow_style=False, sort_keys=False))
    return path


def write_ansible_cfg(bed, path):
    _write(path, ANSIBLE_CFG.format(inventory=bed.inventory_path, collections=COLLECTIONS_PATH,
                                    forks=max(20, len(bed.nodes)),
                                    control_path_dir=os.path.join(bed.run_dir, 'cp')))
    return path
