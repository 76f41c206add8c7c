import json

from ansible_collections.berth.registry.plugins.module_utils._registry_client import RegistryClient, classify_auth


def client(tmp_path, **params):
    base = dict(registry='registry.berth.test', ca_content=None, certs_dir=str(tmp_path / 'certs.d'),
                insecure=False, mirrors=[], hosts_entry=None, hosts_path=str(tmp_path / 'hosts'), login=None,
                check=False, daemon_config_path=str(tmp_path / 'daemon.json'),
                docker_host='unix://%s' % (tmp_path / 'none.sock'), pid_file=str(tmp_path / 'none.pid'),
                apply='none', validate=False)
    base.update(params)
    return RegistryClient(base, run_command=None, get_bin_path=lambda name: None, check_mode=True)


def test_tls_drops_the_hosts_insecure_entries_on_any_port(tmp_path):
    (tmp_path / 'daemon.json').write_text(json.dumps({'insecure-registries': [
        'registry.berth.test:5000', 'other.berth.test:5000', '10.0.0.0/8', 'registry.berth.test']}))
    c = client(tmp_path)
    c.plan()
    assert c.daemon.after['insecure-registries'] == ['other.berth.test:5000', '10.0.0.0/8']
    assert c.differences.names == ['daemon.json']


def test_plain_http_adds_the_entry_once(tmp_path):
    c = client(tmp_path, registry='registry.berth.test:5000', insecure=True)
    c.plan()
    assert c.daemon.after == {'insecure-registries': ['registry.berth.test:5000']}


def test_nothing_to_remove_writes_nothing(tmp_path):
    c = client(tmp_path)
    c.plan()
    assert not c.differences.changed


def test_anonymous_unauthorized_counts_as_trusted_but_x509_does_not():
    assert classify_auth(False, 'unauthorized: authentication required', False)[0]
    assert not classify_auth(False, 'x509: certificate signed by unknown authority', False)[0]
    assert not classify_auth(False, 'unauthorized: incorrect username or password', True)[0]
