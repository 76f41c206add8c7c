"""Integration fixtures: a real multi-node bed (own dockerd + sshd per node) built on the host engine."""

from __future__ import annotations

import atexit
import os
import signal
import sys

import pytest

from bed import engine, images
from bed.nodes import Bed


def pytest_configure(config):
    config.addinivalue_line('markers', 'bed: needs the multi-node test bed (session fixture `bed`)')


def pytest_collection_modifyitems(items):
    for item in items:
        if 'bed' in getattr(item, 'fixturenames', ()):
            item.add_marker(pytest.mark.bed)


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


@pytest.fixture(scope='session')
def bed(engine_version, registry_image):
    """One registry node + BERTH_BED_CLIENTS (default 3) client nodes, up for the whole session."""
    images.ensure_node_image()
    Bed.cleanup_stale()
    the_bed = Bed(clients=int(os.environ.get('BERTH_BED_CLIENTS', '3')), registry_node=True)
    _exit_on_sigterm()
    atexit.register(the_bed.down)
    try:
        the_bed.up()
        yield the_bed
    finally:
        the_bed.down()
        atexit.unregister(the_bed.down)
