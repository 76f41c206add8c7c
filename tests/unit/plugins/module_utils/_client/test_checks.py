"""What the runtimes' tools answer for a manifest that is not there, and which answers prove trust."""

import pytest

from ansible_collections.berth.registry.plugins.module_utils._client.checks import classify_probe, tool_message


@pytest.mark.parametrize('out, err, prefix, message, passed', [
    ('', 'time="x" level=info msg="trying next host"\nctr: reg:5000/berth/x:absent: not found\n', 'ctr: ',
     'reg:5000/berth/x:absent: not found', True),
    ('', 'ctr: pulling from host reg failed with status code [manifests absent]: 401 Unauthorized\n', 'ctr: ',
     'pulling from host reg failed with status code [manifests absent]: 401 Unauthorized', True),
    ('', 'ctr: failed to do request: Head "https://reg/v2/x/manifests/absent": x509: certificate signed by unknown '
         'authority\n', 'ctr: ',
     'failed to do request: Head "https://reg/v2/x/manifests/absent": x509: certificate signed by unknown authority',
     False),
    ('', 'ctr: failed to do request: Head "https://reg:5000/v2/x/manifests/absent": http: server gave HTTP response '
         'to HTTPS client\n', 'ctr: ', None, False),
    ('', 'time="t" level=fatal msg="Error parsing image name \\"docker://reg/x:absent\\": reading manifest absent in '
         'reg/x: manifest unknown: manifest unknown"\n', None,
     'reading manifest absent in reg/x: manifest unknown: manifest unknown', True),
    ('', 'Error: reading image "docker://reg/x:absent": pinging container registry reg: Get "https://reg/v2/": dial '
         'tcp 192.0.2.1:443: connect: connection refused\n', None, None, False),
    ('', 'open /etc/containers/auth.json: permission denied\n', None, None, False),
])
def test_answers(out, err, prefix, message, passed):
    found = tool_message(out, err, prefix)
    if message is not None:
        assert found == message
    assert classify_probe(1, found) is passed


def test_exit_codes():
    assert classify_probe(0, '') and not classify_probe(None, 'not found: timed out')
    assert tool_message('', '') == '(no output)'
