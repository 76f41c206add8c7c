"""playbooks/ca_rollover.yml on the mixed bed (a Docker, a containerd and a Podman client): the CA is replaced phase
by phase while every client pulls in a loop through its own runtime.

One story on one bed (file order): a converged fleet -> phase trust (a client that is down is refused at switch,
caught up on the next run) -> switch -> retire (a client that is down keeps the rollover in retire until it is
back) -> done. What is asserted is what a platform engineer watches: no pull ever fails because a client does not
trust what the registry serves; pulls fail only inside the registry's one recreate (a single registry host: the
old container stops before the new one can publish the port) and only by a refused or cut connection; every
phase rerun changes nothing; at the end clients trust the new CA only and the old one is in no certs.d.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import tempfile
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

import _fleet
from _pull_loop import PullLoops

SITE = 'playbooks/site.yml'
ROLLOVER = 'playbooks/ca_rollover.yml'
HOSTNAME = 'registry.berth.test'
IMAGE = '%s/rollover/app:1' % HOSTNAME
# what the tests pull themselves: another image, so the loop's `docker image rm` never races with them
CHECK_IMAGE = '%s/rollover/check:1' % HOSTNAME
# What a pull sees while the one registry container is swapped: the port is not published for about a second.
RECREATE_WORDS = ('connection refused', 'EOF', 'connection reset', 'broken pipe', 'no route to host',
                  'i/o timeout', 'server misbehaving', 'TLS handshake timeout', '502', '503')
TRUST_WORDS = ('x509', 'certificate signed by unknown authority', 'certificate is not trusted')
# Failures inside a client's own engine (dockerd's gRPC to its containerd, e.g. when dockerd restarts an
# unresponsive containerd on an overloaded machine): no request reached the registry.
LOCAL_ENGINE_WORDS = ('error creating lease', 'grpc: the client connection is closing')


def fingerprint(pem):
    cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    return ':'.join('%02X' % b for b in cert.fingerprint(hashes.SHA256()))


def pem_fingerprints(text):
    return [fingerprint(m) for m in re.findall(r'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----', text, re.S)]


class Fleet(_fleet.Fleet):
    def __init__(self, bed, pki_dir):
        super().__init__(bed, pki_dir, registry_hostname=HOSTNAME, registry_client_login_user='admin')
        self.runs = {}

    def playbook(self, playbook, phase=None, label=None, check=False, args=(), **overrides):
        self.bed.write_inventory(extra_vars=dict(self.vars, **overrides))
        start = time.time()
        result = self.bed.run_playbook(playbook, check=check, args=args,
                                       extra_vars={'registry_ca_rollover_phase': phase} if phase else None)
        if label:
            self.runs[label] = (start, time.time())
        return result

    def rollover(self, phase, label=None, **kwargs):
        return self.playbook(ROLLOVER, phase, label, **kwargs)

    def ca(self, name='ca.crt'):
        with open(os.path.join(self.pki_dir, name)) as f:
            return fingerprint(f.read())

    def state(self):
        with open(os.path.join(self.pki_dir, 'rollover.json')) as f:
            return json.load(f)

    def container(self):
        rc, out = self.bed.registry.docker('inspect', '-f', '{{.Id}}', 'registry')
        assert rc == 0, out
        return out.strip()

    def trusted(self, node):
        """{path: [fingerprints]} of every *.crt under the node's certs.d directories (every runtime's)."""
        rc, out = node.exec('for f in $(find /etc/docker/certs.d /etc/containers/certs.d /etc/containerd/certs.d '
                            '-name "*.crt" 2>/dev/null); do echo "== $f"; cat "$f"; done')
        files, current = {}, None
        for line in out.splitlines(keepends=True):
            if line.startswith('== '):
                current = line[3:].strip()
                files[current] = ''
            elif current:
                files[current] += line
        return {path: pem_fingerprints(text) for path, text in files.items()}

    def commands(self, node, image=IMAGE):
        """(pull, remove) of an image through the node's own runtime, with its own configuration."""
        if node.flavour == 'containerd':
            return ('ctr images pull --hosts-dir /etc/containerd/certs.d --user admin:%s %s' % (self.password, image),
                    'ctr images rm %s' % image)
        if node.flavour == 'podman':
            return 'podman pull -q %s' % image, 'podman rmi -f %s' % image
        return 'docker pull -q %s' % image, 'docker image rm -f %s' % image


@pytest.fixture(scope='module')
def fleet(mixed_bed):
    bed = mixed_bed
    pki = tempfile.mkdtemp(prefix='berth-rollover-pki-')
    try:
        yield Fleet(bed, pki)
    finally:
        shutil.rmtree(pki, ignore_errors=True)


@pytest.fixture(scope='module')
def loops(fleet):
    """The pull loop on every client, from a converged fleet to the end of the story."""
    result = fleet.playbook(SITE)
    assert result.rc == 0, result
    pusher = [n for n in fleet.bed.clients if n.flavour == 'docker'][0]
    for image in (IMAGE, CHECK_IMAGE):
        rc, out = pusher.exec('head -c 3000000 /dev/urandom > /tmp/blob && tar cf - /tmp/blob | docker import - %s '
                              '>/dev/null && docker push %s' % (image, image))
        assert rc == 0, out
    pull_loops = PullLoops(fleet.bed.clients, IMAGE, commands=fleet.commands)
    pull_loops.start()
    try:
        yield pull_loops
    finally:
        pull_loops.stop()


def assert_no_change(result, fleet):
    assert result.rc == 0, result
    for node in fleet.bed.nodes:
        assert result.changed(node.name) == 0, '%s changed on a rerun:\n%s' % (node.name, result)


def test_trust_makes_every_client_trust_old_and_new_without_touching_the_registry(fleet, loops):
    old, container = fleet.ca(), fleet.container()

    result = fleet.rollover('trust', 'trust')

    assert result.rc == 0, result
    new = fleet.ca('ca-next.crt')
    for node in fleet.bed.clients:
        for path, found in fleet.trusted(node).items():
            assert found == [old, new], '%s:%s trusts %s' % (node.name, path, found)
    assert fleet.container() == container, 'phase trust recreated the registry'
    assert 'CA rollover: phase trust' in result.stdout and '3/3 clients trust both' in result.stdout, result
    assert {n.flavour for n in fleet.bed.clients} == {'docker', 'containerd', 'podman'}
    assert fleet.state()['phase'] == 'trust'

    assert_no_change(fleet.rollover('trust', 'trust rerun'), fleet)
    # site.yml keeps every side where the rollover put it
    assert_no_change(fleet.playbook(SITE, label='site during trust'), fleet)


def test_switch_waits_for_a_client_that_missed_trust(fleet, loops):
    bed = fleet.bed
    late = bed.clients[-1]
    state = fleet.state()
    # forget that the last client confirmed, as if it had been down during phase trust, and take it down now
    del state['clients'][late.name]
    with open(os.path.join(fleet.pki_dir, 'rollover.json'), 'w') as f:
        json.dump(state, f)
    old, container = fleet.ca(), fleet.container()
    bed.stop_node(late.name)
    try:
        result = fleet.rollover('switch', 'refused switch')
        assert result.rc != 0
        assert 'not switching: 1 client(s) have not confirmed' in result.stdout and late.name in result.stdout, result
        assert fleet.ca() == old and fleet.container() == container, 'switched although a client did not trust the new CA'
    finally:
        bed.start_node(late.name)
        loops.restart(late)


def test_switch_recreates_the_registry_once_under_the_new_ca(fleet, loops):
    new, container = fleet.ca('ca-next.crt'), fleet.container()

    result = fleet.rollover('switch', 'switch')

    assert result.rc == 0, result
    assert fleet.ca() == new and not os.path.exists(os.path.join(fleet.pki_dir, 'ca-next.crt'))
    recreated = fleet.container()
    assert recreated != container
    cert = os.path.join(fleet.pki_dir, '%s.crt' % HOSTNAME)
    with open(cert, 'rb') as f:
        served = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(fleet.pki_dir, 'ca.crt'), 'rb') as f:
        # signed by the new CA's key (both CAs have the same subject): raises otherwise
        served.verify_directly_issued_by(x509.load_pem_x509_certificate(f.read()))
    for node in fleet.bed.clients:
        pull, remove = fleet.commands(node, CHECK_IMAGE)
        node.exec(remove)
        rc, out = node.exec(pull)
        assert rc == 0, '%s: %s' % (node.name, out)

    assert_no_change(fleet.rollover('switch', 'switch rerun'), fleet)
    assert fleet.container() == recreated


def test_retire_leaves_only_the_new_ca_and_waits_for_a_client_that_is_down(fleet, loops):
    bed = fleet.bed
    old, new = fleet.ca('ca-previous.crt'), fleet.ca()
    late = bed.clients[-1]
    bed.stop_node(late.name)
    try:
        result = fleet.rollover('retire', 'retire without a client')
        assert result.rc != 0 or result.recap[late.name]['unreachable'] == 1, result
        assert fleet.state()['phase'] == 'retire'
        assert 'not confirmed yet: %s' % late.name in result.stdout, result
    finally:
        bed.start_node(late.name)
        loops.restart(late)

    result = fleet.rollover('retire', 'retire')

    assert result.rc == 0, result
    assert fleet.state()['phase'] == 'done'
    assert not os.path.exists(os.path.join(fleet.pki_dir, 'ca-previous.key'))
    assert not os.path.exists(os.path.join(fleet.pki_dir, 'ca-trust.crt'))
    for node in bed.clients:
        trusted = fleet.trusted(node)
        assert trusted, node.name
        for path, found in trusted.items():
            assert found == [new], '%s:%s trusts %s' % (node.name, path, found)
            assert old not in found
    assert_no_change(fleet.rollover('retire', 'retire rerun'), fleet)
    after = fleet.playbook(SITE, label='site after')
    assert_no_change(after, fleet)
    assert 'CA rollover: none under way' in after.stdout, after


def test_no_pull_failed_for_trust_and_only_inside_the_recreate(fleet, loops):
    loops.stop()
    counts = loops.counts()
    print('pull loop: %d pulls, %d failed; per run: %s' % (counts['pulls'], counts['failed'], json.dumps(
        {label: loops.counts(*span) for label, span in fleet.runs.items()})))
    local = []
    for node, when, message in loops.failures():
        label = next((k for k, (a, b) in fleet.runs.items() if a <= when <= b), 'between runs')
        print('  failed pull: %s at %.1f (%s): %s' % (node, when, label, message[:300]))
        if any(w in message for w in LOCAL_ENGINE_WORDS):
            local.append((node, when, message))
            print(engine_log(fleet.bed.node(node), when))
    assert counts['pulls'] > 50, counts
    for node, when, message in loops.failures():
        assert not any(w in message for w in TRUST_WORDS), 'a pull failed on trust: %s %s' % (node, message)
    for label, span in fleet.runs.items():
        if label != 'switch':
            failed = [f for f in loops.failures(*span) if f not in local]
            assert not failed, 'pulls failed during %s (no registry restart there): %s' % (label, failed)
    for node, when, message in loops.failures(*fleet.runs['switch']):
        assert any(w in message for w in RECREATE_WORDS + LOCAL_ENGINE_WORDS), \
            'unexpected failure during the switch: %s %s' % (node, message)


def engine_log(node, when, seconds=5):
    """The node's dockerd log lines within a few seconds of a failure (warnings and errors)."""
    if node.flavour != 'docker':
        return '    (no dockerd on %s)' % node.name
    rc, out = node.exec('grep -E "level=(warning|error)" /var/log/docker.log 2>/dev/null | tail -n 400')
    lines = []
    for line in out.splitlines():
        match = re.search(r'time="([0-9T:.-]+)Z?', line)
        if not match:
            continue
        stamp = match.group(1).rstrip('Z')
        try:
            moment = datetime.datetime.strptime(stamp[:26], '%Y-%m-%dT%H:%M:%S.%f').replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            continue
        if abs(moment - when) <= seconds:
            lines.append('    ' + line[:300])
    return '\n'.join(lines) or '    (no dockerd warning or error within %d s)' % seconds
