# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one difference tracker: what differs decides ``changed`` and is what the diff shows.

A driver records each difference it finds while comparing the desired state with the current
one; the same record then gives ``changed``, the uniform ``differences`` result list and the
``diff`` of diff mode. Secret values are masked here, so no caller can forget to.
Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

SECRET = '(secret)'
SECRET_CHANGED = '(secret, changed)'


class Differences(object):
    """An ordered record of (field, before, after) differences. ``None`` means absent."""

    def __init__(self):
        self._items = []

    def add(self, field, before, after, secret=False, text=False):
        """Record that ``field`` goes from ``before`` to ``after``.

        secret: the values are never shown, only that the value appears, changes or goes.
        text: before/after are text (file lines) shown as a line diff in diff mode.
        """
        if secret:
            before, after = (None if before is None else SECRET,
                             None if after is None else (SECRET_CHANGED if before is not None else SECRET))
        self._items.append({'field': field, 'before': before, 'after': after, 'text': bool(text)})
        return self

    def extend(self, other, prefix=''):
        """Take over another tracker's differences, their fields prefixed (e.g. 'ca: ')."""
        for item in other._items:
            self._items.append(dict(item, field=prefix + item['field']))
        return self

    @property
    def changed(self):
        return bool(self._items)

    def __bool__(self):
        return self.changed

    __nonzero__ = __bool__

    def __len__(self):
        return len(self._items)

    def __contains__(self, field):
        return any(item['field'] == field for item in self._items)

    @property
    def fields(self):
        seen = []
        for item in self._items:
            if item['field'] not in seen:
                seen.append(item['field'])
        return seen

    def as_list(self):
        """The ``differences`` result: [{field, before, after}] (secrets already masked)."""
        return [{'field': i['field'], 'before': i['before'], 'after': i['after']} for i in self._items]

    def describe(self):
        """The differences in one line for a message: 'field: before -> after; ...' (secrets already masked)."""
        return '; '.join('%s: %s -> %s' % (i['field'], _shown(i['before']), _shown(i['after'])) for i in self._items)

    def diff(self, header=None):
        """Diff mode output: one before/after mapping of the fields, plus one line diff per text field."""
        fields = [i for i in self._items if not i['text']]
        texts = [i for i in self._items if i['text']]
        result = []
        if fields:
            item = {'before': dict((i['field'], i['before']) for i in fields if i['before'] is not None),
                    'after': dict((i['field'], i['after']) for i in fields if i['after'] is not None)}
            if header:
                item.update(before_header=header, after_header=header)
            result.append(item)
        for i in texts:
            result.append({'before_header': i['field'], 'after_header': i['field'],
                           'before': _lines(i['before']), 'after': _lines(i['after'])})
        if len(result) == 1:
            return result[0]
        return result

    def result(self, diff_mode, header=None, **extra):
        """``changed``, ``differences`` and (in diff mode, when something differs) ``diff``, plus extra fields."""
        result = dict(extra, changed=self.changed, differences=self.as_list())
        if diff_mode and self.changed:
            result['diff'] = self.diff(header)
        return result


def _shown(value):
    return '(none)' if value is None else value


def _lines(value):
    if value is None:
        return ''
    return value if value.endswith('\n') else value + '\n'
