"""The report page in headless chromium without a bed: the helper sees script errors; a big fleet renders."""

from __future__ import annotations

import datetime
import os
import sys

import certfactory
from _chromium import render
from bed.playbook import COLLECTIONS_PATH

if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)

from ansible_collections.berth.registry.plugins.plugin_utils import _report, _report_html  # noqa: E402 pylint: disable=wrong-import-position


def test_the_helper_sees_a_script_error(tmp_path):
    page = tmp_path / 'broken.html'
    page.write_text('<!DOCTYPE html><html><body><p>text</p><script>notDefinedAnywhere();</script></body></html>')
    shot = render(str(page), str(tmp_path / 'broken.png'), 400, 300)
    assert any('notDefinedAnywhere' in line for line in shot['errors']), shot['errors']
    assert 'text' in shot['text']


def _doctor(name, status, step):
    return {'status': status, 'failed_step': step if status == 'fail' else None,
            'verdict': '%s: %s %s: what to do' % (name, status.upper(), step or 'fine'),
            'runtimes': [{'name': 'docker', 'present': True, 'checked': True, 'status': status, 'scheme': 'https',
                          'steps': [{'step': 'runtime', 'status': 'ok', 'summary': 'dockerd answers'}]}]}


def test_a_fleet_of_forty_renders_problems_first(tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ca = certfactory.make_ca('Page CA')
    nodes = []
    for i in range(1, 41):
        status, step = ('fail', 'tls-chain') if i % 13 == 0 else ('warn', 'credentials') if i % 7 == 0 else ('ok', None)
        nodes.append(('node%02d' % i, _doctor('node%02d' % i, status, step), None))
    certificates = [_report.certificate_entry('CA', 'ca.crt', '/pki/ca.crt', ca.pem, now, 30, None)]
    report = _report.build(nodes, None, certificates, {'warn_days': 30, 'fail_days': None, 'endpoint': 'reg'}, now)
    page = tmp_path / 'report.html'
    page.write_text(_report_html.render(report))
    shot = render(str(page), str(tmp_path / 'report.png'), 1400, 1200)
    assert shot['errors'] == []
    text = shot['text']
    order = [text.find('node%02d' % i) for i in (13, 26, 39, 7, 14, 1, 40)]
    assert all(p >= 0 for p in order) and order == sorted(order), order
    assert shot['distinct_colours'] > 8
    assert os.path.getsize(shot['png']) > 10000
