"""The record of the mirrors this module wrote: what a removed mirror or registry takes away."""

import json

import pytest

from ansible_collections.berth.registry.plugins.module_utils._client.record import MirrorRecord, merge_record
from ansible_collections.berth.registry.plugins.module_utils._diff import Differences
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._files import FileWriter


def test_merge_record():
    record, managed, stale = merge_record({}, 'a:5000', ['https://m1', 'https://m2'], False)
    assert record == {'mirrors': {'a:5000': ['https://m1', 'https://m2']}} and managed == ['https://m1', 'https://m2']
    assert stale == []
    record, managed, stale = merge_record(record, 'b:5000', ['https://m3', 'https://m1'], False)
    assert managed == ['https://m3', 'https://m1', 'https://m2'] and stale == []
    record, managed, stale = merge_record(record, 'a:5000', ['https://m2'], False)
    assert managed == ['https://m2', 'https://m3', 'https://m1'] and stale == []  # m1 is still b's
    record, managed, stale = merge_record(record, 'b:5000', [], True)
    assert managed == ['https://m2'] and stale == ['https://m3', 'https://m1']
    assert merge_record(record, 'a:5000', ['https://m2'], True)[1:] == ([], ['https://m2'])


def test_the_file_follows_and_goes_with_the_last_registry(tmp_path):
    path = str(tmp_path / 'lib' / 'record.json')

    def run(mirrors, absent=False):
        unit = MirrorRecord(FileWriter(None), path, 'a:5000', mirrors, absent)
        tracker = Differences()
        unit.plan(tracker)
        unit.apply()
        return unit, tracker.as_list()

    unit, diff = run(['https://m1'])
    assert diff == [{'field': 'record %s mirrors of a:5000' % path, 'before': None, 'after': ['https://m1']}]
    assert json.loads(open(path).read()) == {'mirrors': {'a:5000': ['https://m1']}}
    assert run(['https://m1'])[1] == []
    unit, diff = run([], absent=True)
    assert unit.stale == ['https://m1'] and diff[0]['after'] is None and not (tmp_path / 'lib' / 'record.json').exists()


@pytest.mark.parametrize('text', ['[]', '{"mirrors": []}', '{"mirrors": {"a": "x"}}', 'not json'])
def test_a_broken_record_is_refused(tmp_path, text):
    (tmp_path / 'record.json').write_text(text)
    with pytest.raises(BerthError, match='record.json'):
        MirrorRecord(FileWriter(None), str(tmp_path / 'record.json'), 'a:5000', [], False)
