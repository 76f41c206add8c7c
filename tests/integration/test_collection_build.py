"""The collection as users get it: `ansible-galaxy collection build`, then install into a clean venv,
and galaxy-importer (what Galaxy and Automation Hub run on every upload) on the same tarball."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile

import pytest

from bed.playbook import ROOT

IMPORTER_VENV = os.environ.get('BERTH_IMPORTER_VENV', os.path.join(ROOT, '.build', 'importer-venv'))
IMPORTER_CONFIG = os.path.join(ROOT, 'tests', 'galaxy_importer', 'galaxy-importer.cfg')
ROLES = sorted(os.listdir(os.path.join(ROOT, 'roles')))


def sh(*cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, **kwargs)
    assert proc.returncode == 0, '%s failed:\n%s\n%s' % (' '.join(cmd), proc.stdout[-4000:], proc.stderr[-4000:])
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp('build')
    sh('ansible-galaxy', 'collection', 'build', '--output-path', str(out), cwd=ROOT)
    return str(out / 'berth-registry-0.1.0.tar.gz')


def test_tarball_holds_the_collection_and_nothing_of_the_workspace(tarball):
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    for wanted in ('plugins/modules/registry_client.py', 'plugins/action/registry_server.py',
                   'playbooks/site.yml', 'meta/runtime.yml', 'README.md', 'changelogs/changelog.yaml'):
        assert wanted in names
    for role in ROLES:
        assert 'roles/%s/README.md' % role in names
    leaked = [n for n in names if n.startswith(('.venv', '.build', '.ci', '.git', 'scripts', 'tests/output'))
              or '__pycache__' in n or '.pytest_cache' in n or n.endswith('.tar.gz')]
    assert not leaked, leaked


def test_galaxy_importer_accepts_the_tarball(tarball, tmp_path):
    importer = os.path.join(IMPORTER_VENV, 'bin', 'python')
    if not os.path.exists(importer):
        pytest.fail('no galaxy-importer venv at %s: ./scripts/test integration installs it' % IMPORTER_VENV,
                    pytrace=False)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('GALAXY_IMPORTER_', 'ANSIBLE_')) and k != 'VIRTUAL_ENV'}
    env.update({
        'GALAXY_IMPORTER_CONFIG': IMPORTER_CONFIG,
        'GALAXY_IMPORTER_TMP_ROOT_DIR': str(tmp_path),
        'GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP': str(tmp_path / 'ansible-tmp'),
        # ansible-doc and ansible-lint from the importer's own venv, as on Galaxy
        'PATH': os.path.join(IMPORTER_VENV, 'bin') + os.pathsep + env.get('PATH', ''),
        'HOME': str(tmp_path),
        'ANSIBLE_NOCOLOR': '1',
    })
    proc = subprocess.run([importer, '-m', 'galaxy_importer.main', tarball], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    errors = [line for line in output.splitlines() if 'ERROR' in line]
    assert proc.returncode == 0 and not errors, 'galaxy-importer (rc=%d) reported:\n%s\n\n%s' % (
        proc.returncode, '\n'.join(errors), output[-6000:])
    assert 'Importer processing completed successfully' in output, output[-6000:]

    with open(tmp_path / 'importer_result.json') as f:
        result = json.load(f)
    contents = {(c['content_type'], c['content_name']): c for c in result['docs_blob']['contents']}
    for role in ROLES:
        readme = contents[('role', role)]
        assert readme['readme_file'] == 'README.md' and 'registry_' in readme['readme_html'], role
    modules = [name for kind, name in contents if kind == 'module']
    assert 'registry_client' in modules and all(contents[('module', m)]['doc_strings'] for m in modules)


def test_build_then_install_into_a_clean_venv(tarball, tmp_path):
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
