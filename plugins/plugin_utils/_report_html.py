# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report as one self-contained HTML page: inline CSS, no script, no external asset.

Reads at a glance: a header with the fleet's status counts, the certificates' days left, the
registry's figures, then one row per node with problems first. Status is colour and text (a
word and a symbol), never colour alone. Every value is escaped. Pure: report dict in, text out.
"""

from __future__ import annotations

from html import escape

LABEL = {'fail': 'FAIL', 'warn': 'WARN', 'unknown': 'UNKNOWN', 'ok': 'OK'}
SYMBOL = {'fail': '\u2716', 'warn': '\u25b2', 'unknown': '?', 'ok': '\u2714', 'skip': '\u2013'}

CSS = """
:root{--fail:#b42318;--fail-bg:#fef3f2;--warn:#b54708;--warn-bg:#fffaeb;--ok:#067647;--ok-bg:#ecfdf3;
--unknown:#475467;--unknown-bg:#f2f4f7;--line:#e4e7ec;--text:#101828;--muted:#475467}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--text);
background:#f8f9fb}
header{background:#101828;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:22px;font-weight:650}
header .meta{color:#d0d5dd;font-size:13px}
main{padding:20px 32px 40px;max-width:1600px}
.banner{margin:0 0 16px;padding:10px 14px;border-radius:8px;background:var(--warn-bg);color:var(--warn);
border:1px solid #fedf89;font-weight:600}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:20px}
.card{flex:1 1 150px;background:#fff;border:1px solid var(--line);border-left:6px solid var(--unknown);
border-radius:10px;padding:12px 16px}
.card .n{font-size:30px;font-weight:700;line-height:1.1}
.card .l{font-size:13px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card.fail{border-left-color:var(--fail)}.card.fail .n{color:var(--fail)}
.card.warn{border-left-color:var(--warn)}.card.warn .n{color:var(--warn)}
.card.ok{border-left-color:var(--ok)}.card.ok .n{color:var(--ok)}
.card.total{border-left-color:#344054}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;margin-bottom:20px}
section.panel{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px}
h2{font-size:15px;margin:0 0 10px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:7px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;font-weight:600;background:#fcfcfd}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}
dt{color:var(--muted)}dd{margin:0}
.badge{display:inline-block;white-space:nowrap;font-weight:700;font-size:12px;padding:2px 8px;border-radius:999px;
border:1px solid currentColor}
.badge.fail{color:var(--fail);background:var(--fail-bg)}.badge.warn{color:var(--warn);background:var(--warn-bg)}
.badge.ok{color:var(--ok);background:var(--ok-bg)}.badge.unknown,.badge.skip{color:var(--unknown);
background:var(--unknown-bg)}
.nodes tr.fail td:first-child{box-shadow:inset 5px 0 0 var(--fail)}
.nodes tr.warn td:first-child{box-shadow:inset 5px 0 0 var(--warn)}
.nodes tr.ok td:first-child{box-shadow:inset 5px 0 0 var(--ok)}
.nodes tr.unknown td:first-child{box-shadow:inset 5px 0 0 var(--unknown)}
.nodes tr.fail{background:var(--fail-bg)}.nodes tr.warn{background:var(--warn-bg)}
.node{font-weight:700}
.verdict{max-width:640px}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12px}
.muted{color:var(--muted)}
.days{font-weight:700;white-space:nowrap}
.days.fail{color:var(--fail)}.days.warn{color:var(--warn)}.days.ok{color:var(--ok)}
tr.exp-fail{background:var(--fail-bg)}tr.exp-warn{background:var(--warn-bg)}
details{margin-top:6px}
summary{cursor:pointer;color:var(--muted);font-size:12px}
.steps td,.steps th{padding:3px 6px;font-size:12px;border-bottom:1px dashed var(--line)}
ul.plain{margin:0;padding:0;list-style:none}
ul.plain li{white-space:nowrap;margin-bottom:2px}
.mono{overflow-wrap:anywhere}
footer{color:var(--muted);font-size:12px;padding:0 32px 24px}
"""


def _e(value):
    return escape('' if value is None else str(value))


def badge(status, text=None):
    status = status if status in SYMBOL else 'unknown'
    word = text or LABEL.get(status, status.upper())
    return '<span class="badge %s">%s %s</span>' % (status, SYMBOL[status], _e(word))


def _days(days, status):
    if days is None:
        return '<span class="days unknown">unknown</span>'
    if days < 0:
        words = 'EXPIRED %d day%s ago' % (-days, '' if days == -1 else 's')
    else:
        words = '%d day%s left' % (days, '' if days == 1 else 's')
    return '<span class="days %s">%s</span>' % (_e(status), _e(words))


def _size(value):
    if value is None:
        return 'unknown'
    size = float(value)
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if size < 1024 or unit == 'TiB':
            return ('%d %s' % (size, unit)) if unit == 'B' else ('%.1f %s' % (size, unit))
        size /= 1024
    return str(value)


def _short(fp):
    return (fp[:23] + '..') if fp and len(fp) > 23 else (fp or '')


def _cards(summary):
    cards = []
    for key in ('fail', 'warn', 'unknown', 'ok'):
        cards.append('<div class="card %s"><div class="n">%d</div><div class="l">%s %s</div></div>'
                     % (key, summary.get(key, 0), SYMBOL[key], LABEL[key]))
    cards.append('<div class="card total"><div class="n">%d</div><div class="l">nodes</div></div>'
                 % summary.get('total', 0))
    return '<div class="cards" id="counts">%s</div>' % ''.join(cards)


def _expiry(expiry):
    rows = []
    for cert in expiry.get('certificates') or []:
        status = cert.get('status') or 'unknown'
        fingerprint = cert.get('fingerprint_sha256')
        rows.append('<tr class="exp-%s"><td>%s</td><td>%s<div class="muted mono">%s</div>%s</td><td>%s</td>'
                    '<td class="mono">%s</td></tr>'
                    % (_e(status), badge(status), _e('%s: %s' % (cert.get('kind'), cert.get('name'))),
                       _e(cert.get('path')),
                       '<div class="muted mono">sha256 %s</div>' % _e(_short(fingerprint)) if fingerprint else '',
                       _days(cert.get('days_left'), status), _e(cert.get('not_after') or cert.get('error'))))
    limits = 'warn below %s days' % _e(expiry.get('warn_days'))
    if expiry.get('fail_days') is not None:
        limits += ', the run fails below %s days' % _e(expiry['fail_days'])
    body = ''.join(rows) or '<tr><td colspan="4" class="muted">no certificates (plain HTTP)</td></tr>'
    return ('<section class="panel" id="expiry"><h2>Certificates <span class="muted">(%s)</span></h2><table>'
            '<tr><th>status</th><th>certificate</th><th>days left</th><th>not after</th></tr>%s'
            '</table></section>' % (limits, body))


def _registry(registry):
    if not registry:
        return ('<section class="panel" id="registry"><h2>Registry</h2><p class="muted">no registry host in this '
                'run</p></section>')
    storage = registry.get('storage') or {}
    container = registry.get('container') or {}
    repos = registry.get('repositories') or []
    if container.get('found'):
        state = '%s (%s, image %s)' % (container.get('status'), 'running' if container.get('running') else 'stopped',
                                       container.get('image'))
    else:
        state = container.get('error') or 'unknown'
    cert = registry.get('certificate') or {}
    top = ', '.join('%s (%s tag%s)' % (r.get('name'), r.get('tags'), '' if r.get('tags') == 1 else 's')
                    for r in repos[:8]) + (' and %d more' % (len(repos) - 8) if len(repos) > 8 else '')
    problem = ' <span class="muted">%s</span>' % _e(registry['problem']) if registry.get('problem') else ''
    items = [
        ('status', badge(registry.get('status')) + problem),
        ('endpoint', '<code>%s</code>' % _e(registry.get('url') or registry.get('endpoint'))),
        ('host', '%s <span class="muted">%s</span>' % (_e(registry.get('host')), _e(registry.get('address')))),
        ('container', _e(state)),
        ('served certificate', _e('%s, %s days left' % (cert.get('subject'), cert.get('days_left')))
         if cert else '<span class="muted">none</span>'),
        ('repositories', '%s <span class="muted">%s</span>' % (_e(storage.get('repositories', len(repos))), _e(top))),
        ('tags', _e(storage.get('tags'))),
        ('storage', '%s in %s <span class="muted">(%s files%s)</span>' % (
            _e(_size(storage.get('bytes'))), _e(storage.get('path')), _e(storage.get('files')),
            '' if storage.get('complete', True) else ', counting stopped early')),
        ('users', _e(', '.join(registry.get('users') or [])) or '<span class="muted">none</span>'),
    ]
    return ('<section class="panel" id="registry"><h2>Registry</h2><dl>%s</dl></section>'
            % ''.join('<dt>%s</dt><dd>%s</dd>' % (_e(k), v) for k, v in items))


def _runtimes(node):
    parts = []
    for runtime in node.get('runtimes') or []:
        if runtime.get('checked'):
            scheme = runtime.get('scheme')
            note = ' <span class="muted">%s</span>' % _e(scheme) if scheme and scheme != 'https' else ''
            parts.append('<li>%s %s%s</li>' % (_e(runtime.get('name')), badge(runtime.get('status') or 'unknown'), note))
        elif runtime.get('present'):
            parts.append('<li class="muted" title="%s">%s: not checked</li>'
                         % (_e(runtime.get('reason')), _e(runtime.get('name'))))
    return '<ul class="plain">%s</ul>' % ''.join(parts) if parts else '<span class="muted">none found</span>'


def _trust(node):
    rows = node.get('trusted') or []
    if not rows:
        return '<span class="muted">no CA file</span>'
    items = []
    for row in rows:
        mark = badge('ok', 'current CA') if row.get('current') else badge('fail', 'other CA')
        items.append('<li>%s <span class="mono">%s</span><div class="muted mono">%s</div></li>'
                     % (mark, _e(_short(row.get('fingerprint_sha256'))), _e(row.get('path'))))
    return '<ul class="plain">%s</ul>' % ''.join(items)


def _keys(node):
    keys = node.get('registry_keys') or {}
    if not keys:
        return '<span class="muted">none</span>'
    return '<ul class="plain">%s</ul>' % ''.join(
        '<li><code>%s</code>: %s</li>' % (_e(k), _e(', '.join(str(x) for x in v) if isinstance(v, list) else v) or '[]')
        for k, v in sorted(keys.items()))


def _login(node):
    login = node.get('login')
    if not login or not login.get('user'):
        return '<span class="muted">not logged in</span>'
    state = {True: badge('ok', 'valid'), False: badge('fail', 'refused'), None: ''}[login.get('valid')]
    return '%s %s<div class="muted mono">%s</div>' % (_e(login['user']), state, _e(login.get('source')))


def _check(node):
    check = node.get('check')
    if not check:
        return '<span class="muted">none recorded</span>'
    status = {True: 'ok', False: 'fail'}.get(check.get('passed'), 'unknown')
    return '%s <span class="muted">%s</span>' % (badge(status), _e(check.get('text')))


def _steps(node):
    blocks = []
    for runtime in node.get('runtimes') or []:
        if not runtime.get('steps'):
            continue
        rows = ''.join('<tr><td>%s</td><td>%s</td><td>%s</td></tr>'
                       % (badge(s.get('status'), s.get('status', '').upper() or None), _e(s.get('step')),
                          _e(s.get('summary'))) for s in runtime['steps'])
        blocks.append('<details><summary>%s: every step</summary><table class="steps">%s</table></details>'
                      % (_e(runtime.get('name')), rows))
    return ''.join(blocks)


def _verdict_text(node):
    verdict = node.get('verdict') or ''
    prefix = '%s: ' % node.get('name')
    return verdict[len(prefix):] if verdict.startswith(prefix) else verdict


def _nodes(nodes):
    rows = []
    for node in nodes:
        status = node.get('status') or 'unknown'
        rows.append('<tr class="%s" data-node="%s"><td>%s</td><td class="node">%s</td><td class="verdict">%s%s</td>'
                    '<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>'
                    % (_e(status), _e(node.get('name')), badge(status), _e(node.get('name')), _e(_verdict_text(node)),
                       _steps(node), _runtimes(node), _trust(node), _keys(node), _login(node), _check(node)))
    body = ''.join(rows) or '<tr><td colspan="8" class="muted">no nodes</td></tr>'
    return ('<section class="panel" id="nodes"><h2>Nodes <span class="muted">(problems first)</span></h2>'
            '<table class="nodes"><tr><th>status</th><th>node</th><th>doctor verdict</th><th>runtimes</th>'
            '<th>trusts (CA files)</th><th>daemon.json registry keys</th><th>login</th><th>last check</th></tr>%s'
            '</table></section>' % body)


def render(report):
    """The whole page for a report document."""
    title = report.get('title') or 'Registry fleet report'
    registry = report.get('registry') or {}
    summary = report.get('summary') or {}
    worst = next((k for k in ('fail', 'warn', 'unknown') if summary.get(k)), 'ok')
    where = registry.get('url') or registry.get('endpoint') or ''
    banner = ''
    if report.get('check_mode'):
        banner = ('<p class="banner" id="check-mode">Written by a check-mode run (--check): nothing on the nodes was '
                  'changed. The doctor only reads, so its results are real; a client task in the same run reported '
                  'what it would change, not what it did.</p>')
    failing = (report.get('expiry') or {}).get('failing') or []
    if failing:
        banner += '<p class="banner" id="expiry-failing">Below the expiry threshold: %s</p>' % _e('; '.join(failing))
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>%s: %s</title><style>%s</style></head><body>'
            '<header><h1>%s %s</h1><div class="meta">%s &middot; generated %s &middot; %d nodes</div></header>'
            '<main>%s%s<div class="panels">%s%s</div>%s</main>'
            '<footer>berth.registry fleet report, schema version %s. The same data is in report.json.</footer>'
            '</body></html>\n'
            % (_e(LABEL[worst]), _e(title), CSS, _e(title), badge(worst), _e(where),
               _e(report.get('generated_at')), summary.get('total', 0), banner, _cards(summary),
               _expiry(report.get('expiry') or {}), _registry(report.get('registry')), _nodes(report.get('nodes') or []),
               _e(report.get('schema_version'))))
