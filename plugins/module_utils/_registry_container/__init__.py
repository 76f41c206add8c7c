# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CNCF Distribution registry container, driven through the Docker SDK. One concern per file:

- ``spec``: ContainerSpec, the desired container as validated plain values, and the argument spec
- ``fields``: the field table - each managed field's desired value, current value (from
  ``docker inspect``), comparison, safe display, create arguments and documentation
- ``validators``: pure checks of the values users type (ports, names, paths, env, labels)
- ``host_files``: what the spec names on the host (restart files and their hash, directories)
- ``image``: making the image name resolve to the wanted image (pull or ``docker load``)
- ``probe``: waiting until the registry answers over HTTP(S)
- ``driver``: ContainerDriver - compare, then create / swap / start / stop / remove
- ``module``: the glue from an AnsibleModule to the driver
- ``errors``: the BerthError subclasses raised here

Private to the collection (leading underscore): free to refactor.
"""
