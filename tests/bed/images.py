"""Images the bed needs, built locally (no registry can be pulled from) and cached."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from .engine import docker, image_exists

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


# --- client-node image: Debian bookworm with its own dockerd + sshd, tini as PID 1 ---------------

NODE_SUITE = 'bookworm'
NODE_PACKAGES = (
    'docker.io', 'python3', 'openssh-server', 'iproute2', 'ca-certificates', 'curl', 'procps',
    'iptables', 'tini', 'openssl',
    # what the collection's modules import on targets, so nodes never need a package mirror
    'python3-docker', 'python3-bcrypt', 'python3-cryptography', 'python3-apt',
)
NODE_TAG_PREFIX = 'berth-bed-node'
MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr'

NODE_BOOT = r"""#!/bin/sh
# PID 1 is tini; this brings the node up like a small machine: rw /sys and cgroups, fresh SSH host
# key, the controller's public key, sshd, then dockerd through Debian's init script.
mount -o remount,rw /sys 2>/dev/null || true
awk '$2 ~ "^/sys/fs/cgroup" { print $2 }' /proc/mounts | while read -r m; do
    mount -o remount,bind,rw "$m" 2>/dev/null || true
done
mkdir -p /run/sshd /run/lock
[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
install -d -m 0700 /root/.ssh
install -m 0600 /etc/berth/authorized_key /root/.ssh/authorized_keys
/usr/sbin/sshd -E /var/log/sshd.log
/etc/init.d/docker start
trap '/etc/init.d/docker stop; pkill -x sshd; exit 0' TERM INT
echo "berth-node: booted"
while :; do sleep 3600 & wait $!; done
"""

NODE_SSHD_CONFIG = """\
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
MaxStartups 100:30:200
MaxSessions 100
"""

# Debian's init script raises the nofile limit beyond the hard limit this host allows (and runs under
# `set -e`): fall back to the hard limit instead of dying.
NODE_CUSTOMIZE = r"""
set -e
root="$1"
sed -i \
  -e 's/^\(\s*\)ulimit -n 1048576$/\1ulimit -n 1048576 2>\/dev\/null || ulimit -n "$(ulimit -Hn)"/' \
  -e 's/^\(\s*\)ulimit -\([up]\) unlimited$/\1ulimit -\2 unlimited 2>\/dev\/null || true/' \
  "$root/etc/init.d/docker"
grep -q 'ulimit -n "$(ulimit -Hn)"' "$root/etc/init.d/docker"
chmod 0755 "$root/usr/local/sbin/berth-node-boot"
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/berth"
: > "$root/etc/machine-id"
"""

NODE_CHANGES = (
    'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/sbin/berth-node-boot"]',
    'CMD []',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'LABEL %s' % BED_LABEL,
)


def node_recipe_hash():
    recipe = '\n--\n'.join([NODE_SUITE, ' '.join(NODE_PACKAGES), NODE_BOOT, NODE_SSHD_CONFIG,
                            NODE_CUSTOMIZE, '\n'.join(NODE_CHANGES)])
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def node_image_tag():
    return '%s:%s' % (NODE_TAG_PREFIX, node_recipe_hash())


def _write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)


def build_node_image(tag):
    """mmdebstrap a minbase bookworm with the node packages and `docker import` it as tag."""
    with tempfile.TemporaryDirectory(prefix='berth-node-image-', dir=os.environ.get('TMPDIR')) as ctx:
        overlay = os.path.join(ctx, 'overlay')
        _write(os.path.join(overlay, 'usr/local/sbin/berth-node-boot'), NODE_BOOT, 0o755)
        _write(os.path.join(overlay, 'etc/ssh/sshd_config.d/berth.conf'), NODE_SSHD_CONFIG)
        rootfs_tar = os.path.join(ctx, 'rootfs.tar')
        cmd = ['mmdebstrap', '--quiet', '--variant=minbase', '--mode=root', '--format=tar',
               '--include=' + ','.join(NODE_PACKAGES),
               '--dpkgopt=path-exclude=/usr/share/doc/*', '--dpkgopt=path-exclude=/usr/share/man/*',
               '--dpkgopt=path-exclude=/usr/share/locale/*',
               '--customize-hook=sync-in %s /' % overlay,
               '--customize-hook=' + NODE_CUSTOMIZE]
        if os.path.isdir(MERGED_USR_HOOKS):
            cmd.append('--hook-dir=' + MERGED_USR_HOOKS)
        cmd += [NODE_SUITE, rootfs_tar]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError('mmdebstrap failed (rc=%d):\n%s' % (proc.returncode, proc.stderr[-4000:]))
        changes = [arg for change in NODE_CHANGES for arg in ('--change', change)]
        docker('import', *changes, rootfs_tar, tag, timeout=600)
    return tag


def ensure_node_image(tag=None):
    """The client-node image for the current recipe, built once per recipe; returns its tag."""
    tag = tag or node_image_tag()
    if not image_exists(tag):
        build_node_image(tag)
    return tag
