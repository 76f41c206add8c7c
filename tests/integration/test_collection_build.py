"""The collection as users get it: `ansible-galaxy collection build`, then install into a clean venv."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile

from bed.playbook import ROOT


def sh(*cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, **kwargs)
    assert proc.returncode == 0, '%s failed:\n%s\n%s' % (' '.join(cmd), proc.stdout[-4000:], proc.stderr[-4000:])
    return proc.stdout + proc.stderr


def test_build_then_install_into_a_clean_venv(tmp_path):
    sh('ansible-galaxy', 'collection', 'build', '--output-path', str(tmp_path), cwd=ROOT)
    tarball = str(tmp_path / 'berth-registry-0.1.0.tar.gz')
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    for wanted in ('plugins/modules/registry_client.py', 'roles/server/templates/config.yml.j2',
                   'playbooks/site.yml', 'meta/runtime.yml', 'README.md'):
        assert wanted in names
    assert not [n for n in names if n.startswith(('.venv', '.build', 'scripts/')) or '__pycache__' in n]

    venv = tmp_path / 'venv'
    sh(sys.executable, '-m', 'venv', str(venv))
    with open(os.path.join(ROOT, 'requirements.txt')) as f:
        requirements = [line.split('#')[0].strip() for line in f if line.split('#')[0].strip()]
    sh(str(venv / 'bin' / 'pip'), 'install', '-q', *requirements)
    # nothing of the working tree may be visible: only what the tarball installs
    collections = tmp_path / 'collections'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_CONFIG', None)
    sh(str(venv / 'bin' / 'ansible-galaxy'), 'collection', 'install', tarball, '-p', str(collections), env=env)
    assert (collections / 'ansible_collections' / 'berth' / 'registry' / 'MANIFEST.json').is_file()
    doc = sh(str(venv / 'bin' / 'ansible-doc'), 'berth.registry.registry_client', env=env, cwd=str(tmp_path))
    assert 'berth.registry.registry_client' in doc and 'whole client side' in doc, doc
    sh(str(venv / 'bin' / 'ansible-playbook'), '--syntax-check', 'berth.registry.site', env=env, cwd=str(tmp_path))
    # a module from the installed collection does real work in the clean venv
    out = sh(str(venv / 'bin' / 'ansible'), 'localhost', '-m', 'berth.registry.tls_ca',
             '-a', 'path=%s/ca.crt privatekey_path=%s/ca.key subject={"CN":"installed"}' % (tmp_path, tmp_path),
             env=env, cwd=str(tmp_path))
    assert 'CHANGED' in out and (tmp_path / 'ca.key').stat().st_mode & 0o777 == 0o600
