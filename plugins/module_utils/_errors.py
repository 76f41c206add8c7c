# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One error base for the collection and the one guard every module's main() runs its body in.

Private to the collection (leading underscore): free to refactor.
"""

from __future__ import annotations

import traceback


class BerthError(Exception):
    """A failure a user can act on: the message names the option, the value (unless secret) and
    what is allowed, or the file and what is wrong with it.

    ``result`` holds extra result fields returned with the failure (metadata only, never secrets).
    Raised before anything is written, or after a partial action that the message describes.
    """

    def __init__(self, msg, **result):
        super(BerthError, self).__init__(msg)
        self.result = result


def describe_os_error(exc):
    """'<file>: <reason>' for an OSError, the way a user reads it."""
    if exc.filename is not None and exc.strerror:
        if exc.filename2 is not None:
            return '%s -> %s: %s' % (exc.filename, exc.filename2, exc.strerror)
        return '%s: %s' % (exc.filename, exc.strerror)
    return str(exc)


def run_module(module, body):
    """Run ``body()`` (which returns the result dict) and exit the module with it.

    A BerthError becomes ``fail_json`` with its message and result fields. Any other exception
    (a library error from the Docker SDK or cryptography, an OSError, a bug) becomes a failure
    with a one-line message and the traceback in ``exception`` (shown at -vvv), never a bare
    traceback. ``no_log`` values are masked in both by AnsibleModule.
    """
    try:
        result = body()
    except BerthError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except OSError as exc:
        module.fail_json(msg=describe_os_error(exc), exception=traceback.format_exc())
    except Exception as exc:  # pylint: disable=broad-exception-caught
        module.fail_json(msg='%s failed unexpectedly: %s: %s' % (module._name, type(exc).__name__, exc),
                         exception=traceback.format_exc())
    module.exit_json(**result)
