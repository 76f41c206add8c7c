# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role READMEs are generated from meta/argument_specs.yml, and the specs agree with defaults/main.yml."""

from __future__ import annotations

import difflib
import os
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

import role_docs  # noqa: E402

ROLES = role_docs.role_dirs()


def test_every_role_is_covered():
    assert sorted(os.path.basename(d) for d in ROLES) == sorted(
        d for d in os.listdir(os.path.join(ROOT, 'roles')) if os.path.isdir(os.path.join(ROOT, 'roles', d)))


@pytest.mark.parametrize('role_dir', ROLES, ids=os.path.basename)
def test_readme_is_up_to_date_with_the_argument_spec(role_dir):
    path, current, wanted = role_docs.readme_for(role_dir)
    if current == wanted:
        return
    rel = os.path.relpath(path, ROOT)
    diff = ''.join(difflib.unified_diff((current or '').splitlines(True), wanted.splitlines(True), rel, 'generated', n=1))
    pytest.fail('%s is out of date with its meta/argument_specs.yml: run %s\n%s'
                % (rel, role_docs.COMMAND, diff[:4000]), pytrace=False)


@pytest.mark.parametrize('role_dir', ROLES, ids=os.path.basename)
def test_argument_spec_agrees_with_defaults(role_dir):
    problems = role_docs.spec_problems(role_dir)
    assert not problems, '\n'.join(problems)


# --- the generator and the check themselves, on made-up roles ----------------------------------

def make_role(tmp_path, options, defaults, readme=None, name='demo'):
    role = tmp_path / 'roles' / name
    (role / 'meta').mkdir(parents=True)
    (role / 'defaults').mkdir()
    spec = {'argument_specs': {'main': {'short_description': 'Demo role', 'description': ['Uses C(demo).'],
                                        'options': options}}}
    (role / 'meta' / 'argument_specs.yml').write_text(yaml.safe_dump(spec, sort_keys=False))
    (role / 'meta' / 'main.yml').write_text(yaml.safe_dump({'galaxy_info': {'description': 'Demo'}, 'dependencies': []}))
    (role / 'defaults' / 'main.yml').write_text(yaml.safe_dump(defaults, sort_keys=False))
    if readme is not None:
        (role / 'README.md').write_text(readme)
    return str(role)


def test_readme_lists_every_option_with_type_default_choices_and_description(tmp_path):
    role = make_role(tmp_path, {
        'demo_mode': {'type': 'str', 'default': 'no', 'choices': ['no', 'always'], 'description': 'How O(demo_mode) acts | pipes'},
        'demo_users': {'type': 'list', 'elements': 'dict', 'default': [], 'description': ['Users.', 'Second line.'],
                       'options': {'name': {'type': 'str', 'required': True, 'description': 'User name.'}}},
    }, {'demo_mode': 'no', 'demo_users': []})
    path, current, text = role_docs.readme_for(role)
    assert current is None and path.endswith('README.md')
    assert text.startswith('# berth.registry.demo\n\nDemo role.\n')
    assert 'Uses `demo`.' in text
    assert "| `demo_mode` | str |  | `'no'` | `'no'`, `always` | How `demo_mode` acts \\| pipes |" in text
    assert '| `demo_users` | list of dict |  | `[]` |  | Users. Second line. |' in text
    assert '| `demo_users[].name` | str | yes |  |  | User name. |' in text
    # options keep the spec's order
    assert text.index('`demo_mode`') < text.index('`demo_users`')


def test_hand_written_intro_is_kept_and_the_rest_regenerated(tmp_path):
    stale = ('# old title\n\n%s\nMy own words.\n\n```yaml\n- hosts: all\n```\n%s\n\n| stale | table |\n'
             % (role_docs.INTRO_BEGIN, role_docs.INTRO_END))
    role = make_role(tmp_path, {'demo_port': {'type': 'int', 'default': 5000, 'description': 'Port.'}},
                     {'demo_port': 5000}, readme=stale)
    dummy, current, text = role_docs.readme_for(role)
    assert current == stale and text != stale
    assert '%s\nMy own words.\n\n```yaml\n- hosts: all\n```\n%s' % (role_docs.INTRO_BEGIN, role_docs.INTRO_END) in text
    assert 'stale' not in text and '| `demo_port` | int | `5000` |' in text
    # a second pass is stable
    assert role_docs.render('demo', yaml.safe_load(open(os.path.join(role, 'meta', 'argument_specs.yml'))),
                            {'galaxy_info': {'description': 'Demo'}}, role_docs.intro_of(text)) == text


def test_check_mode_names_the_stale_readme_and_the_command(tmp_path, monkeypatch, capsys):
    make_role(tmp_path, {'demo_port': {'type': 'int', 'default': 5000, 'description': 'Port.'}}, {'demo_port': 5000})
    monkeypatch.setattr(role_docs, 'ROOT', str(tmp_path))
    monkeypatch.setattr(role_docs, 'role_dirs', lambda root=None: [str(tmp_path / 'roles' / 'demo')])
    assert role_docs.main(['--check']) == 1
    err = capsys.readouterr().err
    assert 'roles/demo/README.md' in err and 'run: scripts/role-docs' in err
    assert not (tmp_path / 'roles' / 'demo' / 'README.md').exists()
    assert role_docs.main([]) == 0
    assert role_docs.main(['--check']) == 0


def test_spec_problems_names_each_disagreement(tmp_path):
    role = make_role(tmp_path, {
        'demo_ok': {'type': 'int', 'default': 3},
        'demo_differs': {'type': 'str', 'default': 'a'},
        'demo_bool_vs_int': {'type': 'bool', 'default': True},
        'demo_no_default': {'type': 'dict'},
        'demo_templated': {'type': 'str'},
        'demo_not_in_defaults': {'type': 'str', 'default': 'x'},
        'demo_required': {'type': 'str', 'required': True},
    }, {
        'demo_ok': 3, 'demo_differs': 'b', 'demo_bool_vs_int': 1, 'demo_no_default': {'k': 'v'},
        'demo_templated': '{{ inventory_hostname }}', 'demo_unknown': 1,
    })
    problems = role_docs.spec_problems(role)
    assert problems == [
        "demo: demo_differs default differs: meta/argument_specs.yml says a, defaults/main.yml says b",
        "demo: demo_bool_vs_int default differs: meta/argument_specs.yml says true, defaults/main.yml says 1",
        "demo: demo_no_default has no default in meta/argument_specs.yml; defaults/main.yml says {k: v}",
        "demo: demo_unknown is in defaults/main.yml but not in meta/argument_specs.yml",
        "demo: demo_not_in_defaults has a default in meta/argument_specs.yml (x) but none in defaults/main.yml, "
        "and Ansible does not apply spec defaults",
    ]


@pytest.mark.parametrize('text, markdown', [
    ('C(/etc/hosts) and O(registry_tls=false)', '`/etc/hosts` and `registry_tls=false`'),
    ('M(berth.registry.common), V(auto), I(not), B(never)', '`berth.registry.common`, `auto`, *not*, **never**'),
    ('L(the how-to, https://example.invalid/howto) and U(https://example.invalid)',
     '[the how-to](https://example.invalid/howto) and <https://example.invalid>'),
])
def test_ansible_markup_becomes_markdown(text, markdown):
    assert role_docs.markup(text) == markdown
