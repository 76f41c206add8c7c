"""haproxy.cfg rendered from an LbSpec: TCP pass-through, health checks on /v2/, redispatch."""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._lb import haproxy_config
from ansible_collections.berth.registry.plugins.module_utils._lb.spec import LbSpec

from .test_spec import params


def lines(**values):
    return haproxy_config.render(LbSpec(params(**values))).splitlines()


def test_tcp_pass_through_with_tls_checks():
    text = lines(check={'host': 'registry.example'})
    assert text[0].startswith('# Managed by berth.registry')
    for line in ('    mode tcp', '    option redispatch 1', '    retries 3', 'listen registry', '    bind :443',
                 '    balance leastconn', '    option httpchk',
                 '    http-check send meth GET uri /v2/ ver HTTP/1.1 hdr Host registry.example',
                 '    http-check expect status 200,401',
                 '    default-server check inter 2s rise 2 fall 2 check-ssl verify none check-sni registry.example',
                 '    server registry1 10.0.0.10:443', '    server registry2 registry2.example:443',
                 '    stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners',
                 '    timeout connect 2s', '    timeout client 300s', '    timeout check 2s'):
        assert line in text, line
    assert not any('mode http' in line for line in text)


def test_plain_http_check_without_host():
    text = lines(check={'tls': False})
    assert '    http-check send meth GET uri /v2/ ver HTTP/1.0' in text
    assert '    default-server check inter 2s rise 2 fall 2' in text


def test_verified_check_with_ca_and_ip_host():
    text = lines(check={'host': '10.0.0.5', 'ca_file': '/etc/haproxy/ca.crt'})
    assert ('    default-server check inter 2s rise 2 fall 2 check-ssl verify required ca-file /etc/haproxy/ca.crt '
            'verifyhost 10.0.0.5') in text  # no SNI for an IP address


def test_ipv6_and_bind_address_and_odd_timeouts():
    text = lines(bind_address='fd00::5', servers=[{'name': 'r1', 'address': 'FD00::10', 'port': 5443}],
                 timeouts={'connect': 1500}, balance='roundrobin')
    assert '    bind [fd00::5]:443' in text and '    server r1 [fd00::10]:5443' in text
    assert '    timeout connect 1500ms' in text and '    balance roundrobin' in text


def test_same_input_same_bytes():
    assert haproxy_config.render(LbSpec(params())) == haproxy_config.render(LbSpec(params()))
