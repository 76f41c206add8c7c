"""README's first command, as written: the demo on this machine (registry + client both local).

It changes this machine the way the README says it does: a `registry` container on port 443,
an /etc/hosts line for registry.berth.internal, root's docker login, ~/.berth/.
"""

from __future__ import annotations

import os
import re
import subprocess

from bed.playbook import ROOT


def run_demo():
    proc = subprocess.run([os.path.join(ROOT, 'scripts', 'demo')], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-4000:]
    return proc.stdout


def test_demo_pushes_pulls_and_reruns_without_change():
    first = run_demo()
    assert 'Pushed and pulled registry.berth.internal/berth/demo:1' in first
    assert 'Catalog: berth/demo' in first
    assert 'Without credentials: no basic auth credentials' in first
    assert 'docker login registry.berth.internal -u admin --password-stdin <' in first

    again = run_demo()
    recap = re.search(r'^berth-demo\s+: ok=\d+\s+changed=(\d+)', again, re.M)
    assert recap and recap.group(1) == '0', again[-6000:]
