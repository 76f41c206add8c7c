"""Integration fixtures: a real multi-node bed (own dockerd + sshd per node) built on the host engine."""

from __future__ import annotations

import atexit
import os
import signal
import sys

import pytest

from bed import engine, images
from bed.nodes import Bed


BED_FIXTURES = ('bed', 'mixed_bed', 'ha_bed')


def pytest_configure(config):
    config.addinivalue_line('markers', 'bed: needs a multi-node test bed (session fixtures %s)' % ', '.join(BED_FIXTURES))
    config.addinivalue_line('markers', 'scale: brings up tens of nodes; runs only with BERTH_BED_SCALE=1')


def pytest_collection_modifyitems(items):
    for item in items:
        if set(BED_FIXTURES) & set(getattr(item, 'fixturenames', ())):
            item.add_marker(pytest.mark.bed)
        if item.get_closest_marker('scale') and os.environ.get('BERTH_BED_SCALE') != '1':
            item.add_marker(pytest.mark.skip(reason='scale bed: set BERTH_BED_SCALE=1 (see tests/bed/SCALE.md)'))


@pytest.fixture(scope='session')
def engine_version():
    try:
        return engine.require_engine()
    except engine.EngineError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope='session')
def registry_image(engine_version):
    """Tag of the registry:2-compatible image on the host engine (built once if missing)."""
    return images.ensure_registry_image()


def _exit_on_sigterm():
    # turn SIGTERM into SystemExit so fixture teardown (and atexit) still removes the bed
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def session_bed(**shape):
    """Bring a bed of that shape up (images and apt repo built on first use) and remove it afterwards,
    also on SIGTERM and at interpreter exit."""
    Bed.cleanup_stale()
    the_bed = Bed(**shape)
    _exit_on_sigterm()
    atexit.register(the_bed.down)
    try:
        the_bed.up()
        yield the_bed
    finally:
        the_bed.down()
        atexit.unregister(the_bed.down)


# Session beds are built only when a selected test asks for them (pytest instantiates fixtures
# lazily), so tests that use none of them pay nothing.
@pytest.fixture(scope='session')
def bed(engine_version, registry_image):
    """registry1 (bare: python3 + docker.io, as a user's host) + BERTH_BED_CLIENTS (default 3) docker clients."""
    yield from session_bed(clients=int(os.environ.get('BERTH_BED_CLIENTS', '3')), registry='bare')


@pytest.fixture(scope='session')
def mixed_bed(engine_version, registry_image):
    """registry1 (bare) + client1 docker, client2 containerd (systemd, no dockerd), client3 podman (no dockerd)."""
    yield from session_bed(clients=['docker', 'containerd', 'podman'], registry='bare')


@pytest.fixture(scope='session')
def ha_bed(engine_version, registry_image):
    """registry1 + registry2 (bare), lb1 (bare, group registry_lb), store (objectstore, S3 at
    ha_bed.s3), client1 + client2 (docker)."""
    yield from session_bed(clients=2, registries=2, lb=True, extra={'store': 'objectstore'}, registry='bare')
