"""The redis drop-in: rendered, read back, and the include line of Debian's redis.conf."""

from __future__ import annotations

from ansible_collections.berth.registry.plugins.module_utils._lb import redis_config
from ansible_collections.berth.registry.plugins.module_utils._lb.spec import LbSpec

from .test_spec import PASSWORD, params


def cache(**values):
    return LbSpec(params(cache=values)).cache


def test_render_and_parse_round_trip():
    text = redis_config.render(cache(bind=['10.0.0.5', '127.0.0.1'], password=PASSWORD, maxmemory='1GB'))
    parsed = redis_config.parse(text)
    assert parsed == {'bind': '10.0.0.5 127.0.0.1', 'port': '6379', 'protected-mode': 'yes',
                      'requirepass': '"%s"' % PASSWORD, 'maxmemory': '1gb', 'maxmemory-policy': 'allkeys-lru',
                      'save': '""', 'appendonly': 'no'}


def test_no_password_turns_protected_mode_off():
    parsed = redis_config.parse(redis_config.render(cache()))
    assert parsed['protected-mode'] == 'no' and 'requirepass' not in parsed


def test_include_line():
    path = '/etc/redis/berth-registry.conf'
    main = 'port 6379\n# include %s\n' % path
    assert not redis_config.has_include(main, path)
    new = redis_config.with_include(main.rstrip('\n'), path)
    assert new.startswith(main) and new.endswith('include %s\n' % path) and redis_config.has_include(new, path)
    assert redis_config.has_include(redis_config.with_include(None, path), path)
