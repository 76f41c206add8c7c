"""show stat parsed, the admin socket queried, and waiting until servers are UP (with a fake clock)."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._lb import stats
from ansible_collections.berth.registry.plugins.module_utils._lb.errors import NotHealthy, ServiceError

from .fakes import Clock, StatsSocket, show_stat


def test_parse_and_pick_the_proxys_servers():
    rows = stats.parse_show_stat(show_stat({'registry1': 'UP', 'registry2': 'DOWN 1/2'}) +
                                 show_stat({'other': 'UP'}, proxy='stats').split('\n', 1)[1])
    servers = stats.servers_of(rows, 'registry')
    assert sorted(servers) == ['registry1', 'registry2']
    assert servers['registry1']['status'] == 'UP' and servers['registry1']['check_status'] == 'L7OK'
    assert servers['registry1']['addr'] == '10.0.0.10:443' and servers['registry1']['lastchg'] == '7'
    assert stats.is_up(servers['registry1']) and not stats.is_up(servers['registry2'])


@pytest.mark.parametrize('status', ['UP 1/2', 'DOWN', 'DOWN 1/2', 'MAINT', 'DRAIN', 'no check', ''])
def test_only_plain_up_is_up(status):
    assert not stats.is_up({'status': status})


def test_not_show_stat_output_is_refused():
    with pytest.raises(ValueError):
        stats.parse_show_stat('Unknown command\n')


def test_read_servers_over_a_socket(tmp_path):
    fake = StatsSocket(str(tmp_path / 'admin.sock'), {'registry1': 'UP'})
    try:
        assert stats.read_servers(fake.path, 'registry')['registry1']['status'] == 'UP'
        assert fake.commands == ['show stat']
    finally:
        fake.close()
    with pytest.raises(ServiceError, match='does not answer'):
        stats.read_servers(fake.path, 'registry')


def readings(*sequence):
    """read() returning each reading in turn (the last one forever); an exception instance is raised."""
    items = list(sequence)

    def read():
        item = items.pop(0) if len(items) > 1 else items[0]
        if isinstance(item, Exception):
            raise item
        return dict((name, {'status': status, 'check_status': 'L7OK'}) for name, status in item.items())
    return read


def test_wait_needs_up_for_the_whole_settle_window():
    clock = Clock()
    read = readings({'r1': 'UP'}, {'r1': 'UP 1/2'}, {'r1': 'DOWN'}, {'r1': 'DOWN 1/2'}, {'r1': 'UP'})
    servers = stats.wait_until_up(read, ['r1'], 60, 4.0, clock, clock.sleep, interval=1.0)
    assert servers['r1']['status'] == 'UP'
    assert clock.now == 8.0  # UP again at t=4, then 4 s without a break


def test_wait_survives_a_socket_that_is_gone_for_a_moment():
    clock = Clock()
    read = readings(ServiceError('HAProxy stats socket x does not answer'), {'r1': 'UP', 'r2': 'UP'})
    stats.wait_until_up(read, ['r1', 'r2'], 60, 2.0, clock, clock.sleep, interval=1.0)
    assert clock.now == 3.0


def test_wait_times_out_naming_each_server_not_up():
    clock = Clock()
    with pytest.raises(NotHealthy) as exc:
        stats.wait_until_up(readings({'r1': 'UP', 'r2': 'DOWN'}), ['r1', 'r2', 'r3'], 10, 2.0, clock, clock.sleep, 1.0)
    assert 'not UP in HAProxy after 10s' in str(exc.value)
    assert 'r2: DOWN (check L7OK)' in str(exc.value) and 'r3: not in HAProxy' in str(exc.value)
    assert 'r1' not in str(exc.value).split(':', 1)[1]
