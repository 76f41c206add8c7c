"""registry_ca_rollover on the controller without a bed: bad inputs (one playbook run), and no key byte in the
output of a real rollover step at -vvv --diff."""

from __future__ import annotations

import json
import os

import certfactory
from _bad_input_table import Case, check_table, run_table
from _secrets import assert_no_leaks, file_secrets
from bed.playbook import ROOT, run_playbook

BAD = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'registry_ca_rollover', 'bad_inputs.yml')
STEP = os.path.join(ROOT, 'tests', 'integration', 'playbooks', 'registry_ca_rollover', 'step.yml')


def with_ca(directory):
    certfactory.make_ca('Rollover Test CA').write(directory, 'ca')


def with_state(text, binary=False):
    def setup(directory):
        with_ca(directory)
        with open(os.path.join(directory, 'rollover.json'), 'wb' if binary else 'w') as f:
            f.write(text)
    return setup


def huge_state(directory):
    with_ca(directory)
    with open(os.path.join(directory, 'rollover.json'), 'wb') as f:
        f.write(b' ' * (17 * 1024 * 1024))


def state_is_a_directory(directory):
    with_ca(directory)
    os.mkdir(os.path.join(directory, 'rollover.json'))


def damaged_ca(directory):
    with open(os.path.join(directory, 'ca.crt'), 'w') as f:
        f.write('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n')


CASES = [
    Case('no-pki-dir', {'pki_dir': '{dir}/absent', 'step': 'begin', 'phase': 'trust'}, ['{dir}/absent does not exist']),
    Case('no-ca', {'pki_dir': '{dir}', 'step': 'begin', 'phase': 'trust'}, ['no CA to roll over yet']),
    Case('damaged-ca', {'pki_dir': '{dir}', 'step': 'begin', 'phase': 'trust'},
         ['{dir}/ca.crt', 'not a readable PEM certificate'], damaged_ca),
    Case('state-not-json', {'pki_dir': '{dir}', 'step': 'begin', 'phase': 'trust'}, ['rollover.json is not valid JSON'],
         with_state('{"version": 1,')),
    Case('state-not-utf8', {'pki_dir': '{dir}', 'step': 'status'}, ['rollover.json is not valid JSON'],
         with_state(b'\xff\xfe{}', binary=True)),
    Case('state-a-list', {'pki_dir': '{dir}', 'step': 'status'}, ['rollover.json is not a JSON object'],
         with_state('[]')),
    Case('state-a-number', {'pki_dir': '{dir}', 'step': 'status'}, ['rollover.json is not a JSON object'],
         with_state('7')),
    Case('state-phase', {'pki_dir': '{dir}', 'step': 'status'}, ["phase 'later' is not one of"],
         with_state('{"version": 1, "phase": "later"}')),
    Case('state-clients-type', {'pki_dir': '{dir}', 'step': 'status'}, ["clients['c1'].trusts must be a list"],
         with_state('{"version": 1, "phase": "none", "clients": {"c1": {"trusts": "AA"}}}')),
    Case('state-huge', {'pki_dir': '{dir}', 'step': 'status'}, ['rollover.json is', 'more than'], huge_state),
    Case('state-a-directory', {'pki_dir': '{dir}', 'step': 'status'}, ['rollover.json is a directory'],
         state_is_a_directory),
    Case('phase-choice', {'pki_dir': '{dir}', 'step': 'begin', 'phase': 'later'}, ['phase', 'later', 'trust'], with_ca),
    Case('step-choice', {'pki_dir': '{dir}', 'step': 'promote'}, ['step', 'promote', 'switch'], with_ca),
    Case('country', {'pki_dir': '{dir}', 'step': 'begin', 'phase': 'trust', 'subject': {'C': 'Germany'}},
         ['subject.C must be a two-letter country code', 'Germany'], with_ca),
    Case('cn-newline', {'pki_dir': '{dir}', 'step': 'begin', 'phase': 'trust', 'subject': {'CN': 'a\nb'}},
         ['subject.CN', 'control character'], with_ca),
    Case('validity', {'pki_dir': '{dir}', 'step': 'begin', 'phase': 'trust',
                      'subject': {'CN': 'Next CA'}, 'validity_days': 0},
         ['validity_days must be a positive number of days'], with_ca),
    Case('key-type', {'pki_dir': '{dir}', 'step': 'begin', 'phase': 'trust', 'key_type': 'dsa'},
         ['key_type', 'dsa', 'ecdsa-p256'], with_ca),
    Case('switch-without-rollover', {'pki_dir': '{dir}', 'step': 'switch'}, ['switch needs a rollover in phase trust'],
         with_ca),
    Case('retire-without-rollover', {'pki_dir': '{dir}', 'step': 'retire'}, ['retire needs phase switch'], with_ca),
]


def test_bad_inputs_fail_clearly_and_change_nothing(tmp_path):
    check_table(CASES, run_table(BAD, tmp_path, CASES))


def test_no_key_bytes_in_the_output_of_a_rollover_step(tmp_path):
    pki = tmp_path / 'pki'
    pki.mkdir()
    with_ca(str(pki))
    runs = []
    for check in (True, False, False):
        runs.append(run_playbook(STEP, extra_vars={'pki_dir': str(pki), 'step': 'begin', 'phase': 'trust'},
                                 check=check, diff=True, args=('-vvv',)))
        assert runs[-1].rc == 0, runs[-1]
    with open(str(pki / 'rollover.json')) as f:
        assert json.load(f)['phase'] == 'trust'
    secrets = dict(file_secrets(str(pki / 'ca.key')), **file_secrets(str(pki / 'ca-next.key')))
    assert secrets
    assert_no_leaks(runs, secrets, 'registry_ca_rollover')
