"""The host Docker engine, driven through /usr/bin/docker (never the first `docker` in PATH)."""

from __future__ import annotations

import os
import subprocess

DOCKER = os.environ.get('BERTH_DOCKER_CLI', '/usr/bin/docker')


class EngineError(RuntimeError):
    pass


def docker(*args, check=True, input=None, timeout=600, stdout=subprocess.PIPE, text=True):
    """Run the host docker CLI; raise EngineError with its output when it fails and check is set."""
    proc = subprocess.run([DOCKER, *args], input=input, stdout=stdout, stderr=subprocess.PIPE,
                          text=text, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        detail = proc.stderr.strip() if text else proc.stderr
        raise EngineError('%s %s failed (rc=%d): %s' % (DOCKER, ' '.join(args), proc.returncode, detail))
    return proc


def require_engine():
    """Fail clearly when no engine answers (the test entry point installs and starts one)."""
    if not os.path.exists(DOCKER):
        raise EngineError('%s not found: install docker.io (scripts/test integration does it)' % DOCKER)
    proc = docker('version', '--format', '{{.Server.Version}}', check=False, timeout=30)
    if proc.returncode != 0:
        raise EngineError('the Docker engine on /var/run/docker.sock does not answer '
                          '(start dockerd; scripts/test integration does it): %s' % proc.stderr.strip())
    return proc.stdout.strip()


def image_exists(ref):
    return docker('image', 'inspect', ref, check=False).returncode == 0


_LIST = {'container': ('ps', '-a'), 'network': ('network', 'ls'), 'volume': ('volume', 'ls')}


def listing(kind, label, fmt):
    """One formatted line per container, network or volume carrying label (key or key=value)."""
    out = docker(*_LIST[kind], '--filter', 'label=' + label, '--format', fmt).stdout
    return [line for line in out.splitlines() if line.strip()]


def ids(kind, label):
    return listing(kind, label, '{{.ID}}' if kind != 'volume' else '{{.Name}}')
