"""Run ansible-playbook / ansible the way a user does and read what they report.

Tests assert on what a user sees: the exit code, the PLAY RECAP counts per host
and the printed output. Nothing here mocks Ansible.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.path.join(ROOT, '.build', 'collections')

_RECAP = re.compile(
    r'^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)'
    r'\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)',
    re.M)


@dataclass(repr=False)
class PlaybookResult:
    rc: int
    stdout: str
    stderr: str
    recap: dict = field(default_factory=dict)

    def changed(self, host=None):
        """Changed-task count for one host, or summed over all hosts."""
        if host is not None:
            return self.recap[host]['changed']
        return sum(h['changed'] for h in self.recap.values())

    def failed_hosts(self):
        return sorted(h for h, c in self.recap.items() if c['failed'] or c['unreachable'])

    def __repr__(self):
        return 'rc=%d\n--- stdout ---\n%s\n--- stderr ---\n%s' % (self.rc, self.stdout[-20000:], self.stderr[-5000:])


def ansible_env(extra=None, config=None):
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS_PATH,
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_HOST_KEY_CHECKING': '0',
        'ANSIBLE_DEPRECATION_WARNINGS': '0',
        'PYTHONUNBUFFERED': '1',
    })
    if config:
        env['ANSIBLE_CONFIG'] = config
    if extra:
        env.update(extra)
    return env


def run_playbook(playbook, inventory=None, extra_vars=None, check=False, diff=False,
                 limit=None, config=None, env=None, args=(), timeout=1800):
    """Run ansible-playbook; return rc, output and the per-host recap counts."""
    cmd = ['ansible-playbook', playbook]
    if inventory:
        cmd += ['-i', inventory]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    if limit:
        cmd += ['--limit', limit]
    cmd += list(args)
    proc = subprocess.run(cmd, env=ansible_env(env, config), cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)
    recap = {m.group('host'): {k: int(v) for k, v in m.groupdict().items() if k != 'host'}
             for m in _RECAP.finditer(proc.stdout)}
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, recap)


def run_module_playbook(playbook, result_file, **kwargs):
    """run_playbook for a test playbook that saves its module's registered result to result_file (JSON):
    the result gets ``module`` = that dict, or None when the playbook did not get as far as saving it."""
    if os.path.exists(result_file):
        os.unlink(result_file)
    result = run_playbook(playbook, **kwargs)
    result.module = None
    if os.path.exists(result_file):
        with open(result_file) as f:
            result.module = json.load(f)
    return result
