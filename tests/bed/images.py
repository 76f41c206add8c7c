"""Images the bed needs, built locally (no registry can be pulled from) and cached."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time

from . import flavours
from .engine import DOCKER, docker, image_exists

BED_LABEL = 'berth.bed=1'
REGISTRY_BINARY = '/usr/bin/docker-registry'
CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'

REGISTRY_CONFIG = """\
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""

REGISTRY_DOCKERFILE = """\
FROM scratch
COPY rootfs/ /
LABEL %s
VOLUME /var/lib/registry
EXPOSE 5000
ENTRYPOINT ["/bin/registry"]
CMD ["serve", "/etc/docker/registry/config.yml"]
""" % BED_LABEL


def shared_libraries(binary):
    """Absolute paths of the shared objects `ldd` resolves for binary (incl. the loader)."""
    out = subprocess.run(['ldd', binary], capture_output=True, text=True, check=True).stdout
    return re.findall(r'(/\S+\.so[.\d]*)\s+\(0x', out)


def _copy_into(root, src, dest=None):
    target = os.path.join(root, (dest or src).lstrip('/'))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(os.path.realpath(src), target)


def build_registry_image(tag):
    """docker build a registry:2-compatible image FROM scratch out of Debian's docker-registry."""
    with tempfile.TemporaryDirectory(prefix='berth-registry-image-') as ctx:
        root = os.path.join(ctx, 'rootfs')
        _copy_into(root, REGISTRY_BINARY, '/bin/registry')
        for lib in shared_libraries(REGISTRY_BINARY):
            _copy_into(root, lib)
        _copy_into(root, CA_BUNDLE)
        os.makedirs(os.path.join(root, 'var/lib/registry'))
        os.makedirs(os.path.join(root, 'tmp'), mode=0o1777)
        os.makedirs(os.path.join(root, 'etc/docker/registry'))
        with open(os.path.join(root, 'etc/docker/registry/config.yml'), 'w') as f:
            f.write(REGISTRY_CONFIG)
        with open(os.path.join(ctx, 'Dockerfile'), 'w') as f:
            f.write(REGISTRY_DOCKERFILE)
        docker('build', '-q', '-t', tag, ctx, timeout=300)
    return tag


def ensure_registry_image(tag='registry:2'):
    """The registry image on the host engine: built from Debian's binary unless already present."""
    if not image_exists(tag):
        build_registry_image(tag)
    return tag


def save_registry_image(path, tag='registry:2'):
    """`docker save` of the registry image into path (only when path is missing); returns path."""
    if not os.path.exists(path):
        ensure_registry_image(tag)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        partial = path + '.partial'
        docker('save', '-o', partial, tag, timeout=300)
        os.replace(partial, path)
    return path


# --- node images: one per flavour (flavours.py), each built on its parent, cached by recipe hash ---

NODE_SUITE = 'bookworm'
NODE_TAG_PREFIX = 'berth-bed-node'
BUILD_LABEL = 'berth.bed.build'
MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr'
LOCK_DIR = os.environ.get('BERTH_BED_LOCK_DIR', '/tmp')

NODE_CHANGES = (
    'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/sbin/berth-node-boot"]',
    'CMD []',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'LABEL %s' % BED_LABEL,
)

# Runs in a container of the parent image, files tar on stdin: install the flavour's packages from
# the Debian mirror (the only step with network), lay out its files, run its script, clean up.
FLAVOUR_BUILD = r"""
set -e
mkdir /tmp/berth-files && tar -x -C /tmp/berth-files
BERTH_PACKAGES=$(cat /tmp/berth-files/.packages) && rm /tmp/berth-files/.packages
export DEBIAN_FRONTEND=noninteractive
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
if [ -n "$BERTH_PACKAGES" ]; then
    mirror="-o Dir::Etc::SourceList=/etc/berth/mirror.list -o Dir::Etc::SourceParts=/nonexistent"
    apt-get $mirror update -qq
    apt-get $mirror install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold $BERTH_PACKAGES >/dev/null
fi
cp -a /tmp/berth-files/. /
rm -rf /tmp/berth-files
sh -e /etc/berth/flavour-build.sh
rm -f /usr/sbin/policy-rc.d /etc/berth/flavour-build.sh /etc/ssh/ssh_host_*
apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /var/cache/debconf/*-old
"""


def _flavour_recipe(name):
    f = flavours.flavour(name) if name != 'base' else flavours.FLAVOURS['base']
    parts = [name, ' '.join(f.packages), f.script, repr(sorted(f.files.items())), repr(sorted(f.env().items()))]
    if f.parent is None:
        parts += [NODE_SUITE, flavours.BASE_CUSTOMIZE, repr(sorted(flavours.BASE_FILES.items())), '\n'.join(NODE_CHANGES)]
    else:
        parts += [FLAVOUR_BUILD, recipe_hash(f.parent)]
    return '\n--\n'.join(parts)


def recipe_hash(flavour='docker'):
    """Hash of everything that goes into a flavour's image, its parents' recipes included."""
    return hashlib.sha256(_flavour_recipe(flavour).encode()).hexdigest()[:12]


def image_tag(flavour='docker'):
    return '%s:%s-%s' % (NODE_TAG_PREFIX, flavour, recipe_hash(flavour))


def node_recipe_hash():
    return recipe_hash('docker')


def node_image_tag():
    return image_tag('docker')


def _write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)


def _mode_for(path, text):
    return 0o755 if text.startswith('#!') else 0o644


def build_base_image(tag):
    """mmdebstrap a minbase bookworm with what every node needs and `docker import` it as tag."""
    base = flavours.FLAVOURS['base']
    with tempfile.TemporaryDirectory(prefix='berth-node-image-', dir=os.environ.get('TMPDIR')) as ctx:
        overlay = os.path.join(ctx, 'overlay')
        for path, text in flavours.BASE_FILES.items():
            _write(os.path.join(overlay, path.lstrip('/')), text, _mode_for(path, text))
        rootfs_tar = os.path.join(ctx, 'rootfs.tar')
        cmd = ['mmdebstrap', '--quiet', '--variant=minbase', '--mode=root', '--format=tar',
               '--include=' + ','.join(base.packages),
               '--dpkgopt=path-exclude=/usr/share/doc/*', '--dpkgopt=path-exclude=/usr/share/man/*',
               '--dpkgopt=path-exclude=/usr/share/locale/*',
               '--customize-hook=sync-in %s /' % overlay,
               '--customize-hook=' + flavours.BASE_CUSTOMIZE]
        if os.path.isdir(MERGED_USR_HOOKS):
            cmd.append('--hook-dir=' + MERGED_USR_HOOKS)
        cmd += [NODE_SUITE, rootfs_tar]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError('mmdebstrap failed (rc=%d):\n%s' % (proc.returncode, proc.stderr[-4000:]))
        changes = [arg for change in NODE_CHANGES for arg in ('--change', change)]
        docker('import', *changes, rootfs_tar, tag, timeout=600)
    return tag


def _files_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(path.lstrip('/'))
            info.size, info.mode, info.mtime = len(data), _mode_for(path, text), 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_flavour_image(name, tag, parent_tag=None):
    """One layer on the parent image: `docker run` the flavour's install, then `docker commit` it."""
    f = flavours.flavour(name)
    parent_tag = parent_tag or ensure_image(f.parent)
    container = 'berth-build-%s-%d-%d' % (name, os.getpid(), int(time.time() * 1000) % 100000)
    files = dict(f.files, **{'/etc/berth/flavour-build.sh': f.script or 'true\n'})
    files['/.packages'] = ' '.join(f.packages)
    changes = list(NODE_CHANGES) + ['ENV %s=%s' % (k, v.replace(' ', '\\ ')) for k, v in sorted(f.env().items())]
    if f.init == 'systemd':
        # the boot script itself is PID 1 and execs systemd; `docker stop` must send systemd's halt signal
        changes += ['ENTRYPOINT ["/usr/local/sbin/berth-node-boot"]', 'ENV container=docker', 'STOPSIGNAL SIGRTMIN+3']
    try:
        proc = subprocess.run([DOCKER, 'run', '-i', '--name', container, '--label', BED_LABEL,
                               '--label', BUILD_LABEL + '=' + name, '--network', 'host',
                               '--entrypoint', '/bin/sh', parent_tag, '-c', FLAVOUR_BUILD],
                              input=_files_tar(files), capture_output=True, timeout=1800, check=False)
        if proc.returncode != 0:
            raise RuntimeError('building the %s node image failed (rc=%d):\n%s'
                               % (name, proc.returncode, (proc.stdout + proc.stderr).decode(errors='replace')[-4000:]))
        # `docker commit --change` knows no STOPSIGNAL: commit the layer, then set the config in a build
        layer = docker('commit', container).stdout.strip()
        dockerfile = 'FROM %s\n%s\n' % (layer, '\n'.join(changes))
        docker('build', '-q', '-t', tag, '-', input=dockerfile, timeout=600)
    finally:
        docker('rm', '-f', container, check=False)
    return tag


@contextlib.contextmanager
def build_lock(key):
    """One builder per key (image tag, repo path) on this machine: worktrees share the engine's image cache."""
    path = os.path.join(LOCK_DIR, 'berth-bed-build-%s.lock' % re.sub(r'[^\w.-]', '_', key).strip('_'))
    with open(path, 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_image(flavour='docker'):
    """The image of flavour (and its parents) for the current recipes, built only when missing."""
    tag = image_tag(flavour)
    if image_exists(tag):
        return tag
    with build_lock(tag):
        if not image_exists(tag):
            if flavour == 'base':
                build_base_image(tag)
            else:
                build_flavour_image(flavour, tag)
    return tag


def ensure_node_image(tag=None):
    """The docker-flavour node image (today's client node); returns its tag."""
    return ensure_image('docker') if tag is None else tag


def image_size(tag):
    """Virtual size of tag in bytes (its parents' layers included)."""
    return int(docker('image', 'inspect', '-f', '{{.Size}}', tag).stdout.strip())
