# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry doctor (module registry_doctor): walk the path a pull takes, per runtime.

steps.py: pure verdicts; runtimes.py: what each runtime reads (pure parsers + thin readers);
probe.py: the network I/O; driver.py: the walk and the module's result.
"""
