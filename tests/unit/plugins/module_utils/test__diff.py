from ansible_collections.berth.registry.plugins.module_utils._diff import Differences


def test_no_difference_means_unchanged_and_no_diff():
    d = Differences()
    assert not d.changed
    assert d.result(True) == {'changed': False, 'differences': []}


def test_the_same_record_gives_changed_differences_and_diff():
    d = Differences().add('subject', '/CN=a', '/CN=b').add('key type', None, 'ecdsa-p256')
    result = d.result(True, header='ca.crt', path='/x')
    assert result['changed'] is True
    assert result['path'] == '/x'
    assert result['differences'] == [{'field': 'subject', 'before': '/CN=a', 'after': '/CN=b'},
                                     {'field': 'key type', 'before': None, 'after': 'ecdsa-p256'}]
    assert result['diff'] == {'before': {'subject': '/CN=a'}, 'after': {'subject': '/CN=b', 'key type': 'ecdsa-p256'},
                              'before_header': 'ca.crt', 'after_header': 'ca.crt'}
    assert 'diff' not in d.result(False)


def test_secret_values_never_appear():
    d = Differences().add('password of alice', 'old-Pw-123', 'new-Pw-456', secret=True)
    d.add('env.SECRET', None, 'v-Pw-789', secret=True)
    text = repr(d.result(True))
    for secret in ('old-Pw-123', 'new-Pw-456', 'v-Pw-789'):
        assert secret not in text
    assert d.as_list()[0] == {'field': 'password of alice', 'before': '(secret)', 'after': '(secret, changed)'}


def test_text_fields_become_line_diffs_and_extend_prefixes():
    inner = Differences().add('/etc/hosts', '10.0.0.1 reg', '10.0.0.2 reg', text=True)
    d = Differences().add('ca', None, 'sha256 AB').extend(inner, prefix='hosts: ')
    diff = d.diff()
    assert isinstance(diff, list) and len(diff) == 2
    assert diff[1] == {'before_header': 'hosts: /etc/hosts', 'after_header': 'hosts: /etc/hosts',
                       'before': '10.0.0.1 reg\n', 'after': '10.0.0.2 reg\n'}
    assert d.fields == ['ca', 'hosts: /etc/hosts']
    assert 'ca' in d


def test_describe_is_one_line_for_messages():
    d = Differences().add('subject', '/CN=a', '/CN=b').add('certificate', None, 'new')
    d.add('pw', 'x-Pw-1', 'y-Pw-2', secret=True)
    assert d.describe() == 'subject: /CN=a -> /CN=b; certificate: (none) -> new; pw: (secret) -> (secret, changed)'
    assert Differences().describe() == ''
