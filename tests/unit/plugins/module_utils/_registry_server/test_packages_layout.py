"""What the registry host lacks (no python3-apt needed), and where its files live."""

from __future__ import annotations

import pytest

from ansible_collections.berth.registry.plugins.module_utils._errors import BerthError
from ansible_collections.berth.registry.plugins.module_utils._registry_server import packages
from ansible_collections.berth.registry.plugins.module_utils._registry_server.layout import Layout

STATUS = """Package: nginx
Status: install ok installed
Version: 1.22

Package: haproxy
Status: deinstall ok config-files

Package: redis-server
Status: install ok half-installed
"""


def test_missing_from_imports_and_dpkg(tmp_path):
    status = tmp_path / 'status'
    status.write_text(STATUS)
    assert packages.installed(STATUS) == {'nginx'}
    found = packages.missing(['python3-docker', 'python3-bcrypt', 'nginx', 'haproxy', 'redis-server'], str(status),
                             can_import=lambda module: module == 'bcrypt')
    assert found == ['python3-docker', 'haproxy', 'redis-server']
    # not a dpkg host: only the Python modules can be judged
    assert packages.missing(['nginx', 'python3-yaml'], str(tmp_path / 'none'), can_import=lambda m: m == 'yaml') == []
    assert packages.python_module('python3-apt') == 'apt_pkg' and packages.python_module('nginx') is None


@pytest.mark.parametrize('name', ['Nginx', 'nginx; rm -rf /', '', 'a', '../x'])
def test_package_names_are_checked(name):
    with pytest.raises(BerthError, match='not a Debian package name'):
        packages.check_names([name])


def test_layout_paths_and_extra_files(tmp_path):
    layout = Layout(str(tmp_path / 'conf'))
    assert layout.path('tls_key') == str(tmp_path / 'conf' / 'ssl' / 'registry.key') and layout.mode('tls_key') == 0o600
    assert layout.mode('config') == 0o600 and layout.in_container('htpasswd') == '/etc/docker/registry/auth/htpasswd'
    assert layout.restart_files(False) == [layout.path('config')]
    assert layout.extra_path('nginx/nginx.conf') == str(tmp_path / 'conf' / 'nginx' / 'nginx.conf')
    for bad in ('/etc/passwd', '../x', 'a/../../b', 'ssl/registry.key', 'config.yml', 'a//b', 'a\nb', ''):
        with pytest.raises(BerthError):
            layout.extra_path(bad)
    with pytest.raises(BerthError, match='absolute'):
        Layout('relative/conf')
