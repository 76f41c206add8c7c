"""The registry_server module file documents the action's options (sanity's validate-modules skips a
docs-only module): names, types, defaults, choices, required, no_log and suboptions agree, recursively."""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.berth.registry.plugins.module_utils._registry_server.options import (
    host_argument_spec, server_argument_spec,
)

MODULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), *([os.pardir] * 5), 'plugins', 'modules')


FRAGMENTS = os.path.join(MODULES, os.pardir, 'doc_fragments')


def documentation(module):
    """DOCUMENTATION with the options of its own doc fragments merged in, as ansible-doc shows it."""
    with open(os.path.join(MODULES, module + '.py')) as f:
        text = f.read()
    doc = yaml.safe_load(re.search(r"DOCUMENTATION = r'''(.*?)'''", text, re.S).group(1))
    for fragment in doc.get('extends_documentation_fragment') or []:
        with open(os.path.join(FRAGMENTS, fragment.split('.')[-1] + '.py')) as f:
            options = yaml.safe_load(re.search(r"DOCUMENTATION = r'''(.*?)'''", f.read(), re.S).group(1))['options']
        doc['options'].update(options or {})
    return doc


def compare(spec, docs, where, problems):
    for name in sorted(set(spec) | set(docs)):
        path = '%s.%s' % (where, name) if where else name
        if name not in docs:
            problems.append('%s: in the argument spec, not documented' % path)
            continue
        if name not in spec:
            problems.append('%s: documented, not in the argument spec' % path)
            continue
        s, d = spec[name], docs[name]
        for key, default in (('type', 'str'), ('default', None), ('choices', None), ('required', False),
                             ('elements', None)):
            if s.get(key, default) != d.get(key, default):
                problems.append('%s: %s is %r in the spec, %r in the docs'
                                % (path, key, s.get(key, default), d.get(key, default)))
        if not d.get('description'):
            problems.append('%s: no description' % path)
        if 'options' in s or 'suboptions' in d:
            compare(s.get('options') or {}, d.get('suboptions') or {}, path, problems)


def test_registry_server_documents_the_action():
    problems = []
    compare(server_argument_spec(), documentation('registry_server')['options'], '', problems)
    assert problems == []


def test_registry_host_documents_its_spec():
    problems = []
    compare(host_argument_spec(), documentation('registry_host')['options'], '', problems)
    assert problems == []


def test_every_secret_option_is_no_log():
    """The action scrubs its own result (it gets no masking from Ansible); the host module's options are masked by
    AnsibleModule in its invocation and result, so every secret one must be no_log."""
    def walk(spec, secret, path=''):
        for name, option in spec.items():
            if name in secret or path + name == 'tls.key':
                assert option.get('no_log') is True, path + name
            walk(option.get('options') or {}, secret, path + name + '.')
    common = ('passphrase', 'password', 'http_secret', 'secret_env', 'content', 'secrets')
    walk(server_argument_spec(), common)
    walk(host_argument_spec(), common + ('config',))
