import json

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError, run_module


def run(body, capsys, args=None):
    with patch_module_args(args or {}):
        module = AnsibleModule(argument_spec={'password': {'type': 'str', 'no_log': True}}, supports_check_mode=True)
        with pytest.raises(SystemExit):
            run_module(module, body)
    return json.loads(capsys.readouterr().out)


def test_a_result_exits_normally(capsys):
    assert run(lambda: {'changed': True, 'x': 1}, capsys)['x'] == 1


def test_a_berth_error_fails_with_its_message_and_fields(capsys):
    def body():
        raise BerthError('mode: 77777 is out of range', differences=[])
    result = run(body, capsys)
    assert result['failed'] and result['msg'] == 'mode: 77777 is out of range' and result['differences'] == []
    assert 'exception' not in result


def test_any_other_exception_fails_cleanly_with_secrets_masked(capsys):
    def body():
        raise KeyError('Hunter2-Secret-Pw')
    result = run(body, capsys, {'password': 'Hunter2-Secret-Pw'})
    assert result['failed'] and 'KeyError' in result['msg']
    assert 'Traceback' not in result['msg']  # the traceback goes to `exception` when the controller asks for it
    assert 'Hunter2-Secret-Pw' not in json.dumps(result)


def test_os_errors_name_the_file(capsys):
    def body():
        open('/nonexistent-berth/dir/file')
    assert run(body, capsys)['msg'] == '/nonexistent-berth/dir/file: No such file or directory'
