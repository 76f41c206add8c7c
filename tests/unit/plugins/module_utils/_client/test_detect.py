"""Which runtimes registry_client configures: explicit lists as given, auto by what is installed, and
containerd on a Docker host only for a kubelet."""

import pytest

from ansible_collections.berth.registry.plugins.module_utils._client.detect import (
    HostFacts, kubelet_running, probe, select, validate_runtimes,
)
from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError


def facts(dockerd=False, running=False, containerd=False, kubelet=False, tools=()):
    return HostFacts(dockerd, running, containerd, kubelet, list(tools))


def configured(chosen):
    return [name for name, c in chosen.items() if c['configured']]


@pytest.mark.parametrize('host, expected', [
    (facts(dockerd=True, running=True, containerd=True), ['docker']),   # Debian's docker.io: containerd under it
    (facts(dockerd=True, containerd=True), ['docker']),                 # dockerd stopped: still a Docker host
    (facts(dockerd=True, running=True, containerd=True, kubelet=True), ['docker', 'containerd']),
    (facts(containerd=True), ['containerd']),                           # a Kubernetes node
    (facts(tools=['podman', 'skopeo']), ['containers']),
    (facts(tools=['crio'], containerd=True), ['containerd', 'containers']),
    (facts(), []),
])
def test_auto(host, expected):
    assert configured(select(['auto'], host)) == expected


def test_auto_says_why_containerd_is_left_to_dockerd():
    chosen = select(['auto'], facts(dockerd=True, running=True, containerd=True))
    assert chosen['containerd']['present'] and 'no kubelet uses its CRI' in chosen['containerd']['reason']
    assert select(['auto'], facts())['containers']['reason'] == 'not installed (no podman, buildah, skopeo, crio)'


def test_an_explicit_list_configures_exactly_it_installed_or_not():
    chosen = select(['containerd'], facts(dockerd=True, running=True, containerd=True))
    assert configured(chosen) == ['containerd'] and chosen['docker']['reason'] == 'not in runtimes'
    chosen = select(['containers'], facts())
    assert configured(chosen) == ['containers'] and chosen['containers']['reason'].startswith('not installed')


def test_absent_cleans_up_every_runtime_under_auto():
    assert configured(select(['auto'], facts(), 'absent')) == ['docker', 'containerd', 'containers']
    assert configured(select(['docker'], facts(), 'absent')) == ['docker']


@pytest.mark.parametrize('wanted, message', [
    (['auto', 'docker'], 'auto cannot be combined'),
    (['cri-o'], "'cri-o' is not a runtime"),
])
def test_bad_runtimes(wanted, message):
    with pytest.raises(BerthError, match=message):
        validate_runtimes(wanted)
    assert validate_runtimes(['docker', 'docker', 'containers']) == ['docker', 'containers']
    assert validate_runtimes([]) == ['auto']


def test_probe_and_kubelet(tmp_path):
    (tmp_path / '42').mkdir()
    (tmp_path / '42' / 'comm').write_text('kubelet\n')
    (tmp_path / 'self').mkdir()
    assert kubelet_running(str(tmp_path)) and not kubelet_running(str(tmp_path / 'none'))
    found = probe(lambda name: '/usr/bin/' + name if name in ('containerd', 'skopeo') else None, lambda: None,
                  str(tmp_path))
    assert found == HostFacts(False, False, True, True, ['skopeo'])
