"""A bounded pull loop on a client node: what a fleet pulling at deploy time sees while the registry changes.

The loop runs inside the node (its own dockerd), each round removes the image and pulls it again, and stops
after `max_pulls` rounds or when the test says so. Every failed pull is kept with its time and message.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field

from . import engine

LOOP = r"""
image="$1"; max="$2"; stop="$3"; n=0; ok=0; fail=0
rm -f "$stop"
echo "START $(date +%s.%N)"
while [ "$n" -lt "$max" ] && [ ! -e "$stop" ]; do
    docker image rm -f "$image" >/dev/null 2>&1
    if out=$(docker pull -q "$image" 2>&1); then
        ok=$((ok + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $n $(date +%T.%N): $(echo "$out" | tail -n 2 | tr '\n' ' ')"
    fi
    n=$((n + 1))
done
echo "END $(date +%s.%N)"
echo "RESULT ok=$ok fail=$fail"
"""


@dataclass
class LoopResult:
    node: str
    ok: int
    failed: int
    seconds: float
    failures: list = field(default_factory=list)
    output: str = ''

    @property
    def pulls(self):
        return self.ok + self.failed

    def __str__(self):
        return '%s: %d pulls in %.1f s, %d failed%s' % (self.node, self.pulls, self.seconds, self.failed,
                                                        ''.join('\n  ' + f for f in self.failures[:10]))


class PullLoop:
    """`with PullLoop(node, image) as loop: ...` then `loop.result` (or start()/stop())."""

    def __init__(self, node, image, max_pulls=1000):
        self.node, self.image, self.max_pulls = node, image, max_pulls
        self.stop_file = '/tmp/berth-pull-loop.stop'
        self.proc = None
        self.result = None

    def start(self):
        self.proc = subprocess.Popen([engine.DOCKER, 'exec', self.node.container, 'sh', '-c', LOOP, 'loop', self.image,
                                      str(self.max_pulls), self.stop_file],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return self

    def wait_first_pull(self, timeout=120):
        """Wait (bounded) until the loop has pulled once: it runs before the change under test starts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return
            rc, out = self.node.exec('docker image inspect %s >/dev/null 2>&1 && echo yes' % self.image)
            if 'yes' in out:
                return
            time.sleep(0.5)

    def stop(self, timeout=300):
        """Tell the loop to stop after its current pull; returns the LoopResult."""
        self.node.exec('touch %s' % self.stop_file)
        out, dummy = self.proc.communicate(timeout=timeout)
        match = re.search(r'RESULT ok=(\d+) fail=(\d+)', out)
        if not match:
            raise RuntimeError('pull loop on %s ended without a result:\n%s' % (self.node.name, out[-3000:]))
        times = [float(x) for x in re.findall(r'^(?:START|END) ([0-9.]+)$', out, re.M)]
        seconds = times[1] - times[0] if len(times) == 2 else 0.0
        self.result = LoopResult(self.node.name, int(match.group(1)), int(match.group(2)), seconds,
                                 re.findall(r'^FAIL .*$', out, re.M), out)
        return self.result

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.result is None and self.proc is not None:
            try:
                self.stop()
            except Exception:  # pylint: disable=broad-exception-caught
                self.proc.kill()


class PullLoops:
    """One PullLoop per client node, started together: `with PullLoops(clients, image) as loops: ...`, then
    `loops.results` (each loop has pulled at least once before the body runs)."""

    def __init__(self, nodes, image, max_pulls=1000):
        self.loops = [PullLoop(node, image, max_pulls) for node in nodes]
        self.results = []

    def __enter__(self):
        for loop in self.loops:
            loop.start()
        try:
            for loop in self.loops:
                loop.wait_first_pull()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        self.results = [loop.stop() for loop in self.loops]


def haproxy_servers(node, proxy='registry', socket_path='/run/haproxy/admin.sock'):
    """{server: status} of one proxy as HAProxy on node sees it (``show stat`` on its admin socket)."""
    script = ('import socket;s=socket.socket(socket.AF_UNIX);s.connect("%s");s.sendall(b"show stat\\n");d=b""\n'
              'while True:\n c=s.recv(65536)\n if not c: break\n d+=c\nprint(d.decode())' % socket_path)
    dummy, out = node.exec("python3 -c '%s'" % script)
    rows = [line.split(',') for line in out.splitlines() if line.startswith(proxy + ',')]
    return dict((r[1], r[17]) for r in rows if r[1] not in ('FRONTEND', 'BACKEND'))
