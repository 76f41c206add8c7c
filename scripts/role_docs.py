# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each role's README.md, written from its meta/argument_specs.yml; and the spec checked against defaults/main.yml.

    scripts/role-docs            rewrite roles/*/README.md
    scripts/role-docs --check    exit 1 and name the stale READMEs (what tests/unit/roles runs)

The spec is the source of truth: the README is generated from it, except the hand-written block
between the INTRO markers, which is kept as it is. Galaxy (galaxy-importer) refuses a role
without a README.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTION = 'berth.registry'
COMMAND = 'scripts/role-docs'
INTRO_BEGIN = '<!-- BEGIN hand-written intro: kept by %s -->' % COMMAND
INTRO_END = '<!-- END hand-written intro -->'
GENERATED = ('<!-- Everything below is generated from meta/argument_specs.yml and meta/main.yml by %s: '
             'edit the spec, then run it. -->' % COMMAND)
DEFAULT_INTRO = 'Add usage notes here; %s keeps what stands between these markers.' % COMMAND

# Ansible's documentation markup -> Markdown (C() code, O() option, V() value, M() module, ...).
_MARKUP = [
    (re.compile(r'\bL\(([^)]+?),\s*([^)]+)\)'), r'[\1](\2)'),
    (re.compile(r'\bU\(([^)]+)\)'), r'<\1>'),
    (re.compile(r'\bI\(([^)]+)\)'), r'*\1*'),
    (re.compile(r'\bB\(([^)]+)\)'), r'**\1**'),
    (re.compile(r'\b[CMOVEP]\(([^)]+)\)'), r'`\1`'),
    (re.compile(r'\bR\(([^)]+?),\s*[^)]+\)'), r'\1'),
    (re.compile(r'\bHORIZONTALLINE\b'), '---'),
]


def markup(text):
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    return text


def paragraphs(value):
    if value is None:
        return []
    return [markup(str(p)).strip() for p in (value if isinstance(value, list) else [value])]


def cell(text):
    """Text for one Markdown table cell: one line, pipes escaped."""
    return ' '.join(str(text).split()).replace('|', '\\|')


def flow(value):
    """A default or choice as a reader writes it in YAML: `registry:2`, `[a, b]`, `{}`, `true`."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return 'null'
    if isinstance(value, str):
        dumped = yaml.safe_dump(value, default_flow_style=True, width=10 ** 6)
        return dumped[:-len('\n...\n')] if dumped.endswith('\n...\n') else dumped.rstrip('\n')
    if isinstance(value, (list, tuple)):
        return '[%s]' % ', '.join(flow(v) for v in value)
    if isinstance(value, dict):
        return '{%s}' % ', '.join('%s: %s' % (flow(k), flow(v)) for k, v in value.items())
    return json.dumps(value)


def code(text):
    """Inline code that survives backticks inside and pipes in a table."""
    text = str(text)
    fence = '``' if '`' in text else '`'
    pad = ' ' if text.startswith('`') or text.endswith('`') else ''
    return cell('%s%s%s%s%s' % (fence, pad, text, pad, fence))


def type_of(spec):
    kind = spec.get('type', 'str')
    if kind == 'list' and spec.get('elements'):
        return 'list of %s' % spec['elements']
    return kind


def option_rows(options, prefix=''):
    """One row per option, suboptions below their parent as parent.sub (parent[].sub for lists)."""
    rows = []
    for name in options or {}:
        spec = options[name] or {}
        full = prefix + name
        rows.append({
            'name': full,
            'type': type_of(spec),
            'required': bool(spec.get('required')),
            'default': code(flow(spec['default'])) if 'default' in spec else '',
            'choices': ', '.join(code(flow(c)) for c in spec.get('choices') or []),
            'description': ' '.join(cell(p) for p in paragraphs(spec.get('description'))),
        })
        if spec.get('options'):
            rows += option_rows(spec['options'], full + ('[].' if spec.get('type') == 'list' else '.'))
    return rows


def load_yaml(path):
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f) or {}


def role_dirs(root=ROOT):
    base = os.path.join(root, 'roles')
    return sorted(os.path.join(base, d) for d in os.listdir(base)
                  if os.path.isfile(os.path.join(base, d, 'meta', 'argument_specs.yml')))


def intro_of(readme_text):
    """The hand-written block of an existing README (None when it has no markers)."""
    if readme_text is None:
        return None
    start, end = readme_text.find(INTRO_BEGIN), readme_text.find(INTRO_END)
    if start < 0 or end < start:
        return None
    return readme_text[start + len(INTRO_BEGIN):end].strip('\n')


def render(role, specs, meta, intro=None):
    """The README.md text of one role."""
    info = (meta or {}).get('galaxy_info') or {}
    entry_points = (specs or {}).get('argument_specs') or {}
    main = entry_points.get('main') or {}
    lines = ['# %s.%s' % (COLLECTION, role), '']
    summary = main.get('short_description') or info.get('description')
    if summary:
        lines += [markup(summary).strip().rstrip('.') + '.', '']
    lines += [INTRO_BEGIN, intro if intro is not None else DEFAULT_INTRO, INTRO_END, '', GENERATED, '']
    deps = [d.get('role', d.get('name')) if isinstance(d, dict) else d for d in (meta or {}).get('dependencies') or []]
    if deps:
        lines += ['Depends on: %s.' % ', '.join('`%s`' % d for d in deps), '']
    platforms = ', '.join('%s %s' % (p.get('name'), '/'.join(str(v) for v in p.get('versions') or []))
                          for p in info.get('platforms') or [])
    if platforms or info.get('min_ansible_version'):
        lines += ['Platforms: %s; ansible-core >= %s.' % (platforms or 'any', info.get('min_ansible_version', '?')), '']
    for name in sorted(entry_points, key=lambda n: (n != 'main', n)):
        entry = entry_points[name] or {}
        lines += ['## Entry point `%s`' % name, '']
        if name != 'main':
            lines += ['Use it with `tasks_from: %s`.' % name, '']
            if entry.get('short_description'):
                lines += [markup(entry['short_description']).strip(), '']
        for para in paragraphs(entry.get('description')):
            lines += [para, '']
        rows = option_rows(entry.get('options'))
        if not rows:
            lines += ['No options.', '']
            continue
        required = any(r['required'] for r in rows)
        head = ['option', 'type'] + (['required'] if required else []) + ['default', 'choices', 'description']
        lines += ['### Options (%d)' % len(rows), '', '| %s |' % ' | '.join(head),
                  '|%s|' % '|'.join('---' for dummy in head)]
        for r in rows:
            cells = ['`%s`' % r['name'], r['type']] + (['yes' if r['required'] else ''] if required else [])
            cells += [r['default'], r['choices'], r['description']]
            lines.append('| %s |' % ' | '.join(cells))
        lines.append('')
    return '\n'.join(lines).rstrip('\n') + '\n'


def readme_for(role_dir):
    """(path, current text or None, text it should have)."""
    role = os.path.basename(role_dir)
    specs = load_yaml(os.path.join(role_dir, 'meta', 'argument_specs.yml'))
    meta_path = os.path.join(role_dir, 'meta', 'main.yml')
    meta = load_yaml(meta_path) if os.path.exists(meta_path) else {}
    path = os.path.join(role_dir, 'README.md')
    current = None
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            current = f.read()
    return path, current, render(role, specs, meta, intro_of(current))


# --- argument_specs.yml against defaults/main.yml --------------------------------------------

def is_literal(value):
    """No Jinja anywhere in it: a value the spec can state as its default."""
    if isinstance(value, str):
        return '{{' not in value and '{%' not in value
    if isinstance(value, dict):
        return all(is_literal(k) and is_literal(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(is_literal(v) for v in value)
    return True


def same(a, b):
    """Equal in value and in YAML type (True is not 1, '5' is not 5)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def spec_problems(role_dir):
    """What in meta/argument_specs.yml disagrees with defaults/main.yml (empty list = none)."""
    role = os.path.basename(role_dir)
    specs = (load_yaml(os.path.join(role_dir, 'meta', 'argument_specs.yml')).get('argument_specs') or {})
    options = (specs.get('main') or {}).get('options') or {}
    defaults_path = os.path.join(role_dir, 'defaults', 'main.yml')
    defaults = load_yaml(defaults_path) if os.path.exists(defaults_path) else {}
    problems = []
    for name, value in defaults.items():
        if name not in options:
            problems.append('%s: %s is in defaults/main.yml but not in meta/argument_specs.yml' % (role, name))
            continue
        spec = options[name] or {}
        if not is_literal(value):
            continue
        if 'default' not in spec:
            problems.append('%s: %s has no default in meta/argument_specs.yml; defaults/main.yml says %s'
                            % (role, name, flow(value)))
        elif not same(spec['default'], value):
            problems.append('%s: %s default differs: meta/argument_specs.yml says %s, defaults/main.yml says %s'
                            % (role, name, flow(spec['default']), flow(value)))
    for name, spec in options.items():
        if name not in defaults and 'default' in (spec or {}):
            problems.append('%s: %s has a default in meta/argument_specs.yml (%s) but none in defaults/main.yml, '
                            'and Ansible does not apply spec defaults' % (role, name, flow(spec['default'])))
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--check', action='store_true', help='change nothing; exit 1 when a README is stale')
    parser.add_argument('roles', nargs='*', help='role names (default: every role with meta/argument_specs.yml)')
    args = parser.parse_args(argv)
    dirs = role_dirs()
    if args.roles:
        dirs = [d for d in dirs if os.path.basename(d) in args.roles]
    stale = []
    for role_dir in dirs:
        path, current, wanted = readme_for(role_dir)
        rel = os.path.relpath(path, ROOT)
        if current == wanted:
            continue
        stale.append(rel)
        if not args.check:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(wanted)
            print('wrote %s' % rel)
    if args.check and stale:
        print('out of date with meta/argument_specs.yml: %s\nrun: %s' % (', '.join(stale), COMMAND), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
