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
