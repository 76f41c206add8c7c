"""The server's PKI on the controller: made once, kept, a wrong passphrase replaces nothing; the shared secret."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._pki.errors import PKIError
from ansible_collections.berth.registry.plugins.module_utils._registry_server import pki

PASSPHRASE = 'Mk-3f9c1e-PASSPHRASE-7d2a'
CERT = {'name': 'reg.example', 'dns_names': ['reg.example'], 'ip_addresses': ['192.0.2.10']}


def snapshot(directory):
    return dict((name, (stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode),
                        open(os.path.join(directory, name), 'rb').read()))
                for name in sorted(os.listdir(directory)) if not name.startswith('.'))


def made(directory, ca=None, check_mode=False):
    exists = pki.ensure_pki_dir(str(directory), check_mode, Differences())
    with pki.locked(str(directory), exists):
        return pki.own_pki(str(directory), ca or {}, CERT, check_mode, exists)


def test_made_once_then_kept(tmp_path):
    directory = tmp_path / 'pki'
    planned = made(directory, check_mode=True)
    assert planned.pending and not directory.exists()
    assert planned.differences.fields == ['ca', 'certificate']
    first = made(directory)
    assert not first.pending and first.cert.startswith(b'-----BEGIN CERTIFICATE') and b'PRIVATE KEY' in first.key
    assert first.facts['certificate']['dns_names'] == ['reg.example'] and first.facts['ca']['days_left'] >= 3649
    assert 'ca: certificate' in first.differences and 'certificate: certificate' in first.differences
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    before = snapshot(directory)
    again = made(directory)
    assert not again.differences and again.cert == first.cert and snapshot(directory) == before
    assert not made(directory, check_mode=True).differences
    key_lines = first.secrets()
    assert first.key.decode() in key_lines and all(line in first.key.decode() for line in key_lines)


def test_passphrase_encrypts_the_same_key_and_a_wrong_one_replaces_nothing(tmp_path):
    directory = tmp_path / 'pki'
    made(directory)
    ca_cert = (directory / 'ca.crt').read_bytes()
    encrypted = made(directory, ca={'passphrase': PASSPHRASE})
    assert 'ca: privatekey' in encrypted.differences
    assert b'ENCRYPTED' in (directory / 'ca.key').read_bytes() and (directory / 'ca.crt').read_bytes() == ca_cert
    before = snapshot(directory)
    for wrong in ({'passphrase': 'Mk-000000-WRONG-0000'}, {}):
        with pytest.raises(PKIError) as info:
            made(directory, ca=wrong)
        assert 'ca key %s' % (directory / 'ca.key') in str(info.value)
        assert 'nothing was replaced' in str(info.value) and PASSPHRASE not in str(info.value)
        assert snapshot(directory) == before
    assert not made(directory, ca={'passphrase': PASSPHRASE}).differences


def test_a_new_ca_in_check_mode_reissues_the_certificate(tmp_path):
    directory = tmp_path / 'pki'
    made(directory)
    planned = made(directory, ca={'key_type': 'ecdsa-p384', 'regenerate': 'on_change'}, check_mode=True)
    assert planned.pending and 'certificate' in planned.differences
    with pytest.raises(PKIError, match='differs from the request'):
        made(directory, ca={'key_type': 'ecdsa-p384'})


def test_http_secret_made_once_kept_private(tmp_path):
    secret, found = pki.http_secret(str(tmp_path), check_mode=True)
    assert secret is None and found.fields == ['http.secret'] and not (tmp_path / 'http.secret').exists()
    secret, found = pki.http_secret(str(tmp_path), check_mode=False)
    assert len(secret) >= 60 and stat.S_IMODE(os.stat(tmp_path / 'http.secret').st_mode) == 0o600
    assert secret not in str(found.as_list())
    os.chmod(tmp_path / 'http.secret', 0o644)
    again, found = pki.http_secret(str(tmp_path), check_mode=False)
    assert again == secret and found.fields == ['http.secret mode']
    assert stat.S_IMODE(os.stat(tmp_path / 'http.secret').st_mode) == 0o600
    (tmp_path / 'http.secret').write_text('short\n')
    with pytest.raises(BerthError, match='at least 16 characters'):
        pki.http_secret(str(tmp_path), check_mode=False)


def test_bring_your_own_files_are_checked(tmp_path):
    own = made(tmp_path / 'a')
    other = made(tmp_path / 'b')
    a, b = tmp_path / 'a', tmp_path / 'b'
    ok = pki.byo_tls(str(a / 'reg.example.crt'), str(a / 'reg.example.key'), str(a / 'ca.crt'))
    assert ok.cert == own.cert and ok.facts['ca']['fingerprint_sha256'] == own.facts['ca']['fingerprint_sha256']
    with pytest.raises(PKIError, match='does not match'):
        pki.byo_tls(str(a / 'reg.example.crt'), str(b / 'reg.example.key'), str(a / 'ca.crt'))
    with pytest.raises(PKIError, match='not signed by the CA'):
        pki.byo_tls(str(a / 'reg.example.crt'), str(a / 'reg.example.key'), str(b / 'ca.crt'))
    del other


def test_during_a_ca_rollover_the_ca_is_the_phases_and_the_certificate_follows_it(tmp_path):
    from ansible_collections.berth.registry.plugins.module_utils._pki.rollover_files import run_step
    directory = tmp_path / 'pki'
    made(directory)
    options = {'subject': {'CN': 'reg.example CA', 'O': 'berth.registry'}}
    begun, dummy = run_step(str(directory), 'begin', ca_options=options, clients=['c1'], target='trust')
    before = snapshot(directory)
    # phase trust: the old CA still signs; a regenerate request is not applied, nothing changes
    kept = made(directory, ca={'regenerate': 'always', 'key_type': 'rsa-2048'})
    assert not kept.differences and snapshot(directory) == before
    assert kept.facts['rollover_phase'] == 'trust' and any('rollover' in w for w in kept.warnings)
    # a missing or foreign ca.crt is refused: the server side never makes a CA in the middle of a rollover
    ca_bytes = (directory / 'ca.crt').read_bytes()
    (directory / 'ca.crt').unlink()
    with pytest.raises(PKIError) as info:
        made(directory)
    assert 'phase trust' in str(info.value) and 'missing' in str(info.value) and not (directory / 'ca.crt').exists()
    (directory / 'ca.crt').write_bytes(ca_bytes)
    run_step(str(directory), 'record', clients=['c1'], confirmed={'c1': begun['trust_fingerprints']})
    run_step(str(directory), 'switch', clients=['c1'])
    switched = made(directory)
    assert switched.facts['rollover_phase'] == 'switch'
    assert switched.differences.fields == ['certificate: issuer']
    assert switched.facts['certificate'] and switched.ca == (directory / 'ca.crt').read_bytes() != ca_bytes
    assert not made(directory).differences
