"""config.toml: config_path ensured by a text edit proven by parsing; legacy settings refused by name or moved."""

import tomllib

import pytest

from ansible_collections.berth.registry.plugins.module_utils import _toml
from ansible_collections.berth.registry.plugins.module_utils._containerd_config import (
    LegacyConflict, configured_hosts_dir, legacy_hosts_toml, plan_config, version_for_binary,
)
from ansible_collections.berth.registry.plugins.module_utils._toml import TomlError

CERTS = '/etc/containerd/certs.d'

# bookworm's containerd 1.6.20 package, as shipped
DEBIAN = '''version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
'''

KUBEADM = '''# containerd config of a kubeadm node
version = 2
root = "/var/lib/containerd"

[grpc]
  address = "/run/k8s/containerd.sock"   # not the default

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = true

  # registries: see /etc/containerd/certs.d
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""   # set by hand later

[plugins."io.containerd.internal.v1.opt"]
  path = "/opt/containerd"
'''

V3 = '''version = 3

[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
'''

LEGACY = '''version = 2
[plugins."io.containerd.grpc.v1.cri".registry]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["https://mirror.example:5000", "https://registry-1.docker.io"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."reg.example:5000"]
    endpoint = ["http://reg.example:5000"]
  [plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example:5000".tls]
    ca_file = "/etc/ssl/mirror-ca.pem"
    cert_file = "/etc/ssl/node.pem"
    key_file = "/etc/ssl/node.key"
  [plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example:5000".auth]
    username = "puller"
'''


def parsed(text):
    return tomllib.loads(text)


def without_config_path(doc, section):
    node = doc
    for part in section[:-1]:
        node = node[part]
    table = node.get(section[-1], {})
    table.pop('config_path', None)
    if not table:
        node.pop(section[-1], None)
    return doc


@pytest.mark.parametrize('text', [DEBIAN, KUBEADM])
def test_version_2_gets_config_path_and_keeps_every_other_line(text):
    plan = plan_config(text, 'config.toml')
    assert plan.version == 2 and plan.after == CERTS and plan.config_path_changes
    doc = parsed(plan.text)
    assert doc['plugins']['io.containerd.grpc.v1.cri']['registry']['config_path'] == CERTS
    section = ('plugins', 'io.containerd.grpc.v1.cri', 'registry')
    assert without_config_path(doc, section) == without_config_path(parsed(text), section)
    old, new = text.splitlines(), plan.text.splitlines()
    added = [line.strip() for line in new if line not in old]
    assert added in (['[plugins."io.containerd.grpc.v1.cri".registry]', 'config_path = "%s"' % CERTS],
                     ['config_path = "%s"   # set by hand later' % CERTS])
    assert [line for line in old if line not in new] in ([], ['    config_path = ""   # set by hand later'])
    assert [line for line in new if line in old] == [line for line in old if line in new]  # order kept


def test_the_debian_file_gets_a_table_next_to_the_cri_tables_in_its_own_indentation():
    assert plan_config(DEBIAN, 'config.toml').text == DEBIAN.replace(
        '      conf_dir = "/etc/cni/net.d"\n',
        '      conf_dir = "/etc/cni/net.d"\n'
        '    [plugins."io.containerd.grpc.v1.cri".registry]\n'
        '      config_path = "/etc/containerd/certs.d"\n')


def test_an_existing_empty_config_path_is_replaced_in_place_with_its_comment():
    plan = plan_config(KUBEADM, 'config.toml')
    assert '    config_path = "/etc/containerd/certs.d"   # set by hand later\n' in plan.text
    assert plan.before is None and plan.socket == '/run/k8s/containerd.sock'


def test_version_3_uses_the_images_plugin():
    plan = plan_config(V3, 'config.toml')
    doc = parsed(plan.text)
    assert plan.version == 3
    assert doc['plugins']['io.containerd.cri.v1.images'] == {'snapshotter': 'overlayfs', 'registry': {
        'config_path': CERTS}}
    assert 'io.containerd.grpc.v1.cri' not in doc['plugins']


def test_version_1_uses_the_short_plugin_id():
    plan = plan_config('[plugins.cri]\n  sandbox_image = "pause:3.6"\n', 'config.toml')
    assert plan.version == 1 and parsed(plan.text)['plugins']['cri']['registry'] == {'config_path': CERTS}


@pytest.mark.parametrize('text', [None, '', '\n\n', '# only a comment\n'])
def test_no_file_or_an_empty_one_gets_a_minimal_versioned_file(text):
    for binary, version, plugin in (('containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1', 2,
                                     'io.containerd.grpc.v1.cri'),
                                    ('containerd github.com/containerd/containerd/v2 v2.0.4 1a43cb6a', 3,
                                     'io.containerd.cri.v1.images')):
        plan = plan_config(text, 'config.toml', new_version=version_for_binary(binary))
        doc = parsed(plan.text)
        assert doc == {'version': version, 'plugins': {plugin: {'registry': {'config_path': CERTS}}}}
        assert plan.text.startswith(text or '') and plan.before is None


def test_a_converged_file_needs_nothing():
    once = plan_config(KUBEADM, 'config.toml').text
    again = plan_config(once, 'config.toml')
    assert again.text is None and not again.config_path_changes and again.after == CERTS


def test_an_existing_config_path_is_ours_to_use_not_to_change():
    text = DEBIAN + '    [plugins."io.containerd.grpc.v1.cri".registry]\n      config_path = "/srv/hosts:/etc/docker/certs.d"\n'
    plan = plan_config(text, 'config.toml')
    assert plan.text is None and plan.hosts_dir == '/srv/hosts'
    assert configured_hosts_dir(text, 'config.toml') == '/srv/hosts'
    explicit = plan_config(text, 'config.toml', hosts_dir=CERTS)
    assert explicit.after == CERTS + ':/srv/hosts:/etc/docker/certs.d'


def test_crlf_line_endings_stay():
    text = DEBIAN.replace('\n', '\r\n')
    plan = plan_config(text, 'config.toml')
    assert '\n' not in plan.text.replace('\r\n', '')


def test_legacy_mirrors_and_tls_are_refused_by_name():
    with pytest.raises(LegacyConflict) as exc:
        plan_config(LEGACY, '/etc/containerd/config.toml')
    message = str(exc.value)
    assert message.startswith('/etc/containerd/config.toml: legacy registry settings in '
                              '[plugins."io.containerd.grpc.v1.cri".registry] conflict with config_path')
    assert 'mirrors."docker.io", mirrors."reg.example:5000", configs."mirror.example:5000".tls' in message
    assert 'containerd_migrate=true' in message and 'the file was left as it was' in message


def test_legacy_auth_alone_and_an_empty_mirrors_table_are_no_conflict():
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n'
            '[plugins."io.containerd.grpc.v1.cri".registry.configs."r:5000".auth]\n  username = "u"\n')
    plan = plan_config(text, 'config.toml')
    assert parsed(plan.text)['plugins']['io.containerd.grpc.v1.cri']['registry']['config_path'] == CERTS


def test_migrate_moves_legacy_settings_into_hosts_toml_and_out_of_the_file():
    plan = plan_config(LEGACY, 'config.toml', migrate=True, own_namespaces=['reg.example:5000'])
    registry = parsed(plan.text)['plugins']['io.containerd.grpc.v1.cri']['registry']
    assert registry == {'config_path': CERTS, 'configs': {'mirror.example:5000': {'auth': {'username': 'puller'}}}}
    # the registry's own namespace is left out: the module writes its hosts.toml anyway
    assert plan.legacy and sorted(plan.migrated) == ['docker.io', 'mirror.example:5000']
    hub = parsed(plan.migrated['docker.io'])
    assert hub == {'server': 'https://registry-1.docker.io', 'host': {'https://mirror.example:5000': {
        'capabilities': ['pull', 'resolve'], 'ca': '/etc/ssl/mirror-ca.pem',
        'client': [['/etc/ssl/node.pem', '/etc/ssl/node.key']]}}}
    files = legacy_hosts_toml(parsed(LEGACY), 2, 'config.toml')
    assert parsed(files['reg.example:5000'])['host'] == {'http://reg.example:5000': {'capabilities': ['pull', 'resolve']}}
    assert parsed(files['mirror.example:5000'])['ca'] == '/etc/ssl/mirror-ca.pem'


def test_migrate_refuses_what_it_cannot_remove_provably():
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
            '  mirrors = { "docker.io" = { endpoint = [\n    "https://m.example"] } }\n')
    with pytest.raises(TomlError, match='cannot remove the legacy registry settings'):
        plan_config(text, 'config.toml', migrate=True)


def test_an_inline_registry_table_is_refused_not_mangled():
    text = 'version = 2\n[plugins]\n"io.containerd.grpc.v1.cri" = { registry = { config_path = "" } }\n'
    with pytest.raises(TomlError, match='cannot set config_path .* by hand'):
        plan_config(text, 'config.toml')


def test_a_registry_table_made_by_dotted_keys_gets_a_dotted_key():
    text = 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry.configs."r:5000".auth.username = "u"\n'
    plan = plan_config(text, 'config.toml')
    assert parsed(plan.text)['plugins']['io.containerd.grpc.v1.cri']['registry']['config_path'] == CERTS


@pytest.mark.parametrize('text, message', [
    ('version = 2\n[plugins\n', 'is not valid TOML'),
    ('version = "2"\n', "version = '2' is not a containerd config version"),
    ('version = 7\n', 'version = 7 is not a containerd config version'),
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = 5\n', 'config_path is 5, not a string'),
])
def test_unreadable_files_are_refused(text, message):
    with pytest.raises(TomlError, match=message):
        plan_config(text, 'config.toml')


def test_without_a_toml_parser_the_message_names_what_to_install(monkeypatch):
    monkeypatch.setattr(_toml, '_parser', None)
    with pytest.raises(TomlError, match=r'config.toml: cannot be read on this host: .*tomllib.*python3-tomli'):
        plan_config(DEBIAN, 'config.toml')
    # a host without a config.toml still gets one: nothing needs reading
    assert parsed(plan_config(None, 'config.toml').text)['version'] == 2
