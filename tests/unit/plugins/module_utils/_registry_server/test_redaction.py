"""Secret keys of config.yml: masked in the structure and in the text, the same way for what we render."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.berth.registry.plugins.module_utils._registry_server import config, redaction
from ansible_collections.berth.registry.plugins.module_utils._registry_server.redaction import MASK

S3_KEY, S3_SECRET, HTTP_SECRET = 'Mk-3f9c1e-S3ACCESS-7d2a', 'Mk-a1b2c3-S3SECRET-9e8f', 'Mk-0a0b0c-HTTPSECRET-1d1e'
CONFIG = {
    'version': 0.1,
    'storage': {'s3': {'accesskey': S3_KEY, 'secretkey': S3_SECRET, 'bucket': 'b', 'region': 'r'},
                'delete': {'enabled': False}},
    'auth': {'htpasswd': {'realm': 'basic-realm', 'path': '/etc/docker/registry/auth/htpasswd'}},
    'http': {'addr': ':443', 'secret': HTTP_SECRET, 'tls': {'certificate': '/c.crt', 'key': '/c.key'},
             'headers': {'Authorization': ['Basic Mk-112233-HEADER-4455'], 'X-Content-Type-Options': ['nosniff']}},
    'redis': {'addr': 'r:6379', 'password': 'Mk-998877-REDISPW-6655'},
    'proxy': {'remoteurl': 'https://up', 'username': 'u', 'password': 'Mk-554433-PROXYPW-2211'},
    'notifications': {'endpoints': [{'name': 'e', 'url': 'http://n', 'headers': {'Authorization': ['Bearer Mk-t0k3n']}}]},
    'storage_gcs_like': {'credentials': {'type': 'service_account', 'private_key': 'Mk-PEM-BYTES-0001'}},
}
SECRETS = [S3_KEY, S3_SECRET, HTTP_SECRET, 'Mk-112233-HEADER-4455', 'Mk-998877-REDISPW-6655', 'Mk-554433-PROXYPW-2211',
           'Mk-t0k3n', 'Mk-PEM-BYTES-0001']


@pytest.mark.parametrize('key, secret', [
    ('secretkey', True), ('accesskey', True), ('sessiontoken', True), ('password', True), ('accountkey', True),
    ('credentials', True), ('secret', True), ('Authorization', True), ('accesskeysecret', True),
    ('htpasswd', False), ('key', False), ('keyid', False), ('path', False), ('realm', False), ('certificate', False),
])
def test_which_keys_are_secret(key, secret):
    assert redaction.is_secret_key(key) is secret


def test_masked_structure_and_secret_values():
    shown = redaction.masked(CONFIG)
    assert shown['storage']['s3'] == {'accesskey': MASK, 'secretkey': MASK, 'bucket': 'b', 'region': 'r'}
    assert shown['http']['tls'] == CONFIG['http']['tls'] and shown['auth'] == CONFIG['auth']
    assert shown['storage_gcs_like']['credentials'] == MASK
    found = redaction.secret_values(CONFIG)
    assert all(any(secret in value for value in found) for secret in SECRETS)
    assert 'service_account' in found and 'b' not in found and '/c.key' not in found
    assert CONFIG['storage']['s3']['secretkey'] == S3_SECRET  # a copy, the input is untouched


def test_text_redaction_matches_the_structure_for_what_we_render():
    text = config.render(CONFIG)
    assert redaction.redact_text(text) == config.render_redacted(CONFIG)
    redacted = redaction.redact_text(text)
    assert not [s for s in SECRETS if s in redacted]
    assert yaml.safe_load(redacted)['auth'] == CONFIG['auth']


def test_text_redaction_of_a_file_that_is_not_ours():
    text = ('# hand-written\nstorage:\n  s3:\n    accesskey: "%s"\n    secretkey: |\n      %s\n      more\n'
            "    bucket: b\nhttp:\n  secret: '%s'\n  addr: :5000\n  - password: x1y2z3w4\n" % (S3_KEY, S3_SECRET, HTTP_SECRET))
    redacted = redaction.redact_text(text)
    assert not [s for s in (S3_KEY, S3_SECRET, HTTP_SECRET, 'x1y2z3w4') if s in redacted]
    assert '# hand-written' in redacted and 'bucket: b' in redacted and 'addr: :5000' in redacted
    assert redaction.redact_text('secret: ""\npassword: null\n') == 'secret: ""\npassword: null\n'
