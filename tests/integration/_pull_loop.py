"""A bounded pull loop on bed nodes: each node pulls one image again and again (removing it in between, so every
pull fetches the manifest and the layers) until told to stop, logging one line per pull with its time.

    loops = PullLoops(nodes, image)
    loops.start()
    ... playbook runs ...
    loops.stop()
    loops.failures()                 # [(node, time, message)] over the whole loop
    loops.failures(start, end)       # those inside a time window (node clocks are the host's: same kernel)
"""

from __future__ import annotations

import time

from bed.engine import docker

LOG = '/tmp/berth-pull-loop.log'
STOP = '/tmp/berth-pull-loop.stop'
# Bounded in pulls and in seconds, so a test that dies never leaves a loop running on a node.
SCRIPT = r"""
rm -f {stop}
i=0
end=$(( $(date +%s) + {seconds} ))
while [ ! -e {stop} ] && [ $i -lt {pulls} ] && [ $(date +%s) -lt $end ]; do
    i=$((i + 1))
    t=$(date +%s.%N)
    if out=$({pull} 2>&1); then
        echo "$t ok" >> {log}
    else
        echo "$t FAIL $(echo "$out" | tr '\n' ' ')" >> {log}
    fi
    {remove} >/dev/null 2>&1
    sleep {pause}
done
echo "$(date +%s.%N) end" >> {log}
"""


class PullLoops:
    def __init__(self, nodes, image, commands=None, pulls=20000, seconds=1800, pause=0.05):
        """commands(node) -> (pull command, remove command); default: the node's docker CLI."""
        self.nodes = list(nodes)
        self.image = image
        self.commands = commands or (lambda node: ('docker pull -q %s' % image, 'docker image rm -f %s' % image))
        self.pulls, self.seconds, self.pause = pulls, seconds, pause
        self.lines = {}
        self.stopped = False

    def start(self):
        for node in self.nodes:
            node.run(['rm', '-f', LOG])
            self.restart(node)
        deadline = time.monotonic() + 60
        while not all(self._count(n) for n in self.nodes):
            if time.monotonic() > deadline:
                raise AssertionError('the pull loop did not start on every node: %s' % self._read_all())
            time.sleep(0.2)

    def restart(self, node):
        """(Re)start the loop on one node, appending to its log (after the node itself was restarted)."""
        pull, remove = self.commands(node)
        script = SCRIPT.format(log=LOG, stop=STOP, seconds=self.seconds, pulls=self.pulls, pull=pull,
                               remove=remove, pause=self.pause)
        docker('exec', '-d', node.container, 'sh', '-c', script)

    def stop(self, timeout=60):
        if self.stopped:
            return self
        for node in self.nodes:
            node.run(['touch', STOP])
        deadline = time.monotonic() + timeout
        while True:
            self._read_all()
            if all(lines and lines[-1].endswith(' end') for lines in self.lines.values()):
                self.stopped = True
                return self
            if time.monotonic() > deadline:
                raise AssertionError('the pull loops did not stop: %s' % {k: v[-3:] for k, v in self.lines.items()})
            time.sleep(0.2)

    def _count(self, node):
        proc = node.run(['sh', '-c', 'test -e %s && wc -l < %s || echo 0' % (LOG, LOG)])
        return int((proc.stdout.strip() or '0').split()[0])

    def _read_all(self):
        for node in self.nodes:
            proc = node.run(['sh', '-c', 'cat %s 2>/dev/null' % LOG])
            self.lines[node.name] = [line for line in proc.stdout.splitlines() if line.strip()]
        return self.lines

    def results(self, start=None, end=None):
        """[(node, time, ok, message)] of the pulls that started inside [start, end] (epoch seconds)."""
        found = []
        for name, lines in self.lines.items():
            for line in lines:
                moment, dummy, rest = line.partition(' ')
                if rest == 'end':
                    continue
                when = float(moment)
                if (start is None or when >= start) and (end is None or when <= end):
                    found.append((name, when, rest == 'ok', rest))
        return sorted(found, key=lambda r: r[1])

    def failures(self, start=None, end=None):
        return [(n, t, m) for n, t, ok, m in self.results(start, end) if not ok]

    def counts(self, start=None, end=None):
        results = self.results(start, end)
        return {'pulls': len(results), 'failed': sum(1 for r in results if not r[2])}
