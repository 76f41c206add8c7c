import json

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.berth.registry.plugins.module_utils._errors import run_module


@pytest.fixture
def run_driver(capsys, tmp_path):
    """run(argument_spec, driver_class, args, check_mode=False): a module driver run as main() runs it
    (AnsibleModule + run_module, diff mode on). Returns (result dict, raw stdout)."""
    def run(argument_spec, driver, args, check_mode=False):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=True, _ansible_remote_tmp=str(tmp_path),
                    _ansible_keep_remote_files=False)
        with patch_module_args(args):
            module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
            with pytest.raises(SystemExit):
                run_module(module, lambda: driver(module).run())
        out = capsys.readouterr().out
        return json.loads(out), out
    return run
