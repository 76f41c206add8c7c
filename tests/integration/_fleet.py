"""A site story's controller-side state on a bed: the PKI directory and the inventory vars every run uses."""

from __future__ import annotations

import os

SITE = 'playbooks/site.yml'


def fresh_registry(bed):
    """The bed's registry node made fresh for a story: no registry container, no configuration, no images."""
    node = bed.registry
    node.docker('rm', '-f', 'registry')
    node.exec('rm -rf /etc/docker/registry /var/lib/registry')
    return node


class Fleet:
    """bed: a tests/bed Bed; pki_dir: registry_pki_dir on the controller; story_vars: extra vars of every run."""

    def __init__(self, bed, pki_dir, **story_vars):
        self.bed = bed
        self.pki_dir = pki_dir
        self.vars = dict(story_vars, registry_pki_dir=pki_dir)

    def run(self, playbook=SITE, check=False, diff=False, limit=None, args=(), **overrides):
        """A playbook with the story's vars (overrides on top, for this run only)."""
        self.bed.write_inventory(extra_vars=dict(self.vars, **overrides))
        return self.bed.run_playbook(playbook, check=check, diff=diff, limit=limit, args=args)

    def site(self, check=False, diff=False, limit=None, **overrides):
        return self.run(SITE, check=check, diff=diff, limit=limit, **overrides)

    @property
    def password(self):
        """The generated admin password (registry_users empty, TLS on)."""
        with open(os.path.join(self.pki_dir, 'credentials', 'admin.password')) as f:
            return f.read().split()[0]
