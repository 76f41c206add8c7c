# -*- coding: utf-8 -*-
# Copyright (c) berth.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Making the image name resolve to the wanted image: pull it, or ``docker load`` an archive.

``image_reference``, ``archive_image_id`` and ``image_source`` decide (pure, or reading the
archive's manifest); ``ensure_image`` acts through the Docker APIClient (not in check mode).
"""

from __future__ import annotations

import json
import os
import tarfile

from ansible_collections.berth.registry.plugins.module_utils._docker_sdk import NotFound, parse_repository_tag
from ansible_collections.berth.registry.plugins.module_utils._registry_container.errors import (
    ContainerInputError,
    ImageError,
)

MAX_MANIFEST = 16 * 1024 * 1024


class ImageOutcome(object):
    """The image after ensure_image: its inspect data (None when still to come in check mode), the
    ID the name resolved to before, whether the name now resolves (or would) to another image, and
    whether it was pulled or loaded."""

    def __init__(self, inspect, before_id, changed=False, pulled=False, loaded=False, predicted_id=None):
        self.inspect = inspect
        self.before_id = before_id
        self.changed = changed
        self.pulled = pulled
        self.loaded = loaded
        self.id = (inspect or {}).get('Id') or predicted_id
        self.config = (inspect or {}).get('Config')


def image_reference(image):
    """'registry' -> 'registry:latest'; names with a tag or digest unchanged."""
    repository, tag = parse_repository_tag(image)
    if tag:
        return image
    return '%s:latest' % repository


def _manifest_error(path, what):
    return ContainerInputError('image_archive: %s is not a docker save archive: manifest.json %s' % (path, what))


def archive_image_id(path, reference):
    """Image ID that ``docker load`` of ``path`` gives ``reference``, read from its manifest.json.

    None when the archive cannot be read here (e.g. zstd); then the name is checked after loading.
    ContainerInputError when the archive is readable but malformed or does not hold ``reference``.
    """
    try:
        archive = tarfile.open(path, 'r:*')
    except (tarfile.TarError, OSError, EOFError):
        return None
    try:
        try:
            member = archive.getmember('manifest.json')
        except KeyError:
            raise _manifest_error(path, 'is missing')
        if not member.isfile() or member.size > MAX_MANIFEST:
            raise _manifest_error(path, 'is not a file of at most %d bytes' % MAX_MANIFEST)
        data = archive.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError):
        return None
    finally:
        archive.close()
    try:
        manifest = json.loads(data.decode('utf-8'))
    except UnicodeDecodeError:
        raise _manifest_error(path, 'is not UTF-8')
    except ValueError as exc:
        raise _manifest_error(path, 'is not valid JSON (%s)' % exc)
    if not isinstance(manifest, list) or not all(isinstance(entry, dict) for entry in manifest):
        raise _manifest_error(path, 'is not a list of images')
    tags = []
    for index, entry in enumerate(manifest):
        repo_tags, config = entry.get('RepoTags') or [], entry.get('Config')
        if not isinstance(repo_tags, list) or not all(isinstance(t, str) for t in repo_tags) or not isinstance(config, str):
            raise _manifest_error(path, 'entry %d has no list of RepoTags or no Config path' % index)
        tags.extend(repo_tags)
        if reference in repo_tags:
            return 'sha256:' + os.path.basename(config).replace('.json', '')
    raise ContainerInputError('image_archive %s does not hold %s (it holds: %s)'
                              % (path, reference, ', '.join(tags) or 'no tagged image'))


def image_source(pull, has_archive, reference, local_id, archive_id):
    """'load', 'pull' or None: what must happen for the image name to resolve to the wanted image."""
    if has_archive:
        if local_id is None:
            return 'load'
        if pull == 'always' and (archive_id is None or archive_id != local_id):
            return 'load'
        return None
    if local_id is None:
        if pull == 'never':
            raise ImageError('image %s is not on this host and pull=never (give image_archive or allow pulling)'
                             % reference)
        return 'pull'
    return 'pull' if pull == 'always' else None


def inspect_image(client, reference):
    try:
        return client.inspect_image(reference)
    except NotFound:
        return None
    except Exception as exc:
        raise ImageError('image %s cannot be inspected: %s' % (reference, exc))


def ensure_image(client, spec, archive_id, check_mode):
    """Pull or load the image as the spec says (nothing in check mode); return an ImageOutcome.

    In check mode with pull=always and no archive, whether the registry has something newer is
    unknowable without pulling: the local image is assumed current.
    """
    reference = image_reference(spec.image)
    local = inspect_image(client, reference)
    local_id = (local or {}).get('Id')
    source = image_source(spec.pull, bool(spec.image_archive), reference, local_id, archive_id)
    if source is None:
        return ImageOutcome(local, local_id)
    if check_mode:
        if source == 'load' and archive_id:
            return ImageOutcome(None if archive_id != local_id else local, local_id, changed=archive_id != local_id,
                                predicted_id=archive_id)
        return ImageOutcome(local, local_id, changed=local is None)
    if source == 'load':
        _load(client, spec.image_archive)
    else:
        _pull(client, reference)
    loaded = inspect_image(client, reference)
    if loaded is None:
        raise ImageError('image %s is still missing after %s' % (
            reference, 'loading %s' % spec.image_archive if source == 'load' else 'pulling it'))
    return ImageOutcome(loaded, local_id, changed=loaded['Id'] != local_id, pulled=source == 'pull',
                        loaded=source == 'load')


def _follow(what, events):
    """Run ``events()`` (a stream of engine progress events) to its end; an error event or exception is an ImageError."""
    try:
        for event in events() or []:
            if isinstance(event, dict) and event.get('error'):
                raise ImageError('%s failed: %s' % (what, event['error']))
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError('%s failed: %s' % (what, exc))


def _load(client, path):
    try:
        with open(path, 'rb') as archive:
            _follow('docker load of %s' % path, lambda: client.load_image(archive))
    except OSError as exc:
        raise ImageError('docker load of %s failed: %s' % (path, exc))


def _pull(client, reference):
    repository, tag = parse_repository_tag(reference)
    _follow('pulling %s' % reference, lambda: client.pull(repository, tag=tag, stream=True, decode=True))
