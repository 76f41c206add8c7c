"""A unix socket that answers, as a running daemon's API socket does."""

import socket

import pytest


@pytest.fixture
def listening(tmp_path):
    """path -> a unix socket that accepts connections there (a running daemon's API socket)."""
    socks = []

    def make(path):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        sock.listen(8)
        socks.append(sock)
        return str(path)
    yield make
    for sock in socks:
        sock.close()
