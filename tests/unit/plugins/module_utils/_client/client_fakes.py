"""Fakes of the host around the runtime units (tools, services, signals) and a CA certificate."""

import base64
import os

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences

DER = b'\x30\x03\x02\x01\x01'
PEM = '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % base64.b64encode(DER).decode()


class FakeSystem(object):
    """HostSystem with tools on a fake PATH; run() answers from ``answers`` ({"tool word ...": (rc, out, err)}, all words in argv)."""

    systemd = True

    def __init__(self, tools=(), answers=None, crio_pids=()):
        self.tools = set(tools)
        self.answers = dict(answers or {})
        self.calls = []
        self.restarts = []
        self.hangups = []
        self.crio_pids = list(crio_pids)

    def which(self, name):
        return '/usr/bin/%s' % name if name in self.tools else None

    def run(self, argv, data=None, timeout=30, env=None):
        self.calls.append({'argv': list(argv), 'data': data, 'env': env})
        words = [os.path.basename(argv[0])] + list(argv[1:])
        for key, answer in self.answers.items():
            if all(word in words for word in key.split()):
                return answer
        return 0, '', ''

    def restart(self, service, sock):
        self.restarts.append((service, sock))
        return ['/usr/bin/systemctl', 'restart', service]

    def hangup(self, name):
        self.hangups.append(name)
        return self.crio_pids if name == 'crio' else []


def plan_apply(unit, check_mode=False):
    """The driver's steps for one unit: plan into a tracker, apply unless check mode or nothing differs."""
    tracker = Differences()
    unit.plan(tracker)
    if tracker and not check_mode:
        unit.apply()
    return unit, tracker


def files(root, skip_suffix=None):
    """Every file below root, relative, sorted (sockets' stand-ins left out by suffix)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob('*')
                  if p.is_file() and (skip_suffix is None or p.suffix != skip_suffix))
