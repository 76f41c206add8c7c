"""The bed's offline apt repository: what roles may `apt install` on a node, with nothing to reach.

The bed network is internal, as an air-gapped site is. So that roles install packages on a node
exactly as on a user's host (`apt-get update && apt-get install -y python3-docker`), the bed
builds a flat repository on this machine once per package list: a container of the base node
image resolves the whole dependency closure of PACKAGES (against an empty dpkg status, so any
node flavour finds every dependency it lacks), downloads it from the Debian mirror and indexes it.
Every node mounts it read-only at flavours.APT_MOUNT and lists it as its only apt source.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

from . import images
from .engine import DOCKER, docker

# What the collection's roles install on a bed node (issue 9: the server role on a bare host;
# issues 12/14: HAProxy, nginx, redis on the registry host; issue 11: containerd on a client; issue 13: cron).
PACKAGES = (
    'python3-docker', 'python3-bcrypt', 'python3-cryptography', 'python3-apt',
    'nginx', 'haproxy', 'redis-server', 'apache2-utils',
    'containerd', 'runc', 'docker.io',
    # issue 13: the scheduled garbage collection on a registry host without systemd
    'cron',
)

BUILD = r"""
set -e
export DEBIAN_FRONTEND=noninteractive
mirror="-o Dir::Etc::SourceList=/etc/berth/mirror.list -o Dir::Etc::SourceParts=/nonexistent"
apt-get $mirror update -qq
apt-get $mirror install -y -qq --no-install-recommends apt-utils >/dev/null
: > /tmp/empty-status
mkdir -p /out/partial
apt-get $mirror install -y -qq --download-only --no-install-recommends \
    -o Dir::State::status=/tmp/empty-status -o Dir::Cache::archives=/out $BERTH_PACKAGES >/dev/null
rm -rf /out/partial /out/lock
cd /out
apt-ftparchive packages . > Packages
gzip -9kn Packages
apt-ftparchive -o APT::FTPArchive::Release::Origin=berth-bed release . > Release
"""


def repo_hash(packages=PACKAGES):
    recipe = '\n--\n'.join([' '.join(sorted(packages)), BUILD, images.recipe_hash('base')])
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def repo_dir(bed_dir, packages=PACKAGES):
    return os.path.join(bed_dir, 'apt-' + repo_hash(packages))


def build_repo(dest, packages=PACKAGES):
    """Download the closure of packages into dest (a flat repo with Packages and Release)."""
    partial = dest + '.partial'
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    name = 'berth-build-apt-%d' % os.getpid()
    try:
        proc = subprocess.run([DOCKER, 'run', '--rm', '--name', name, '--label', images.BED_LABEL,
                               '--label', images.BUILD_LABEL + '=apt', '--network', 'host',
                               '-e', 'BERTH_PACKAGES=' + ' '.join(packages), '-v', partial + ':/out',
                               '--entrypoint', '/bin/sh', images.ensure_image('base'), '-c', BUILD],
                              capture_output=True, text=True, timeout=1800, check=False)
        if proc.returncode != 0:
            raise RuntimeError('building the bed apt repository failed (rc=%d):\n%s'
                               % (proc.returncode, (proc.stdout + proc.stderr)[-4000:]))
        os.replace(partial, dest)
    finally:
        docker('rm', '-f', name, check=False)
        shutil.rmtree(partial, ignore_errors=True)
    return dest


def ensure_repo(bed_dir, packages=PACKAGES):
    """The local repository for packages under bed_dir, built once per package list; returns its path."""
    dest = repo_dir(bed_dir, packages)
    if os.path.exists(os.path.join(dest, 'Release')):
        return dest
    os.makedirs(bed_dir, exist_ok=True)
    with images.build_lock(dest):
        if not os.path.exists(os.path.join(dest, 'Release')):
            build_repo(dest, packages)
    return dest


def repo_size(path):
    return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
