"""What each kind of bed node is: packages, files, init, and how the bed knows it is ready.

Every flavour is an image built on top of another (`base` is an mmdebstrap minbase rootfs; the
others are one `apt-get install` layer each, see images.py), so a cold build of all of them costs
one debootstrap plus a few package installs, and the engine stores the shared layers once.

Every node's apt sources point ONLY at the bed's local repository (aptrepo.py), mounted read-only
at APT_MOUNT: inside the bed there is no internet, as on an air-gapped host.
"""

from __future__ import annotations

from dataclasses import dataclass, field

APT_MOUNT = '/srv/berth-apt'
APT_SOURCE = 'deb [trusted=yes] file:%s ./\n' % APT_MOUNT

# --- the base: what the bed itself needs on every node (sshd, tini, the boot script) -------------

BASE_PACKAGES = (
    'python3', 'openssh-server', 'tini', 'iproute2', 'iptables', 'ca-certificates', 'curl', 'procps', 'openssl',
)

# One boot script for every flavour. PID 1 is tini, which runs this script; flavours with
# BERTH_INIT=systemd get systemd as PID 1 instead (this script prepares the node, then execs it).
NODE_BOOT = r"""#!/bin/sh
# berth bed node boot: rw /sys and cgroups, a fresh SSH host key, the controller's public key,
# then sshd and the flavour's services (BERTH_SERVICES, Debian init scripts) - or systemd.
mount -o remount,rw /sys 2>/dev/null || true
awk '$2 ~ "^/sys/fs/cgroup" { print $2 }' /proc/mounts | while read -r m; do
    mount -o remount,bind,rw "$m" 2>/dev/null || true
done
mkdir -p /run/sshd /run/lock
[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
install -d -m 0700 /root/.ssh
install -m 0600 /etc/berth/authorized_key /root/.ssh/authorized_keys
# light mode (scale beds): extra dockerd flags through Debian's /etc/default/docker, never daemon.json
if [ -n "${BERTH_DOCKERD_OPTS:-}" ] && [ -e /etc/init.d/docker ]; then
    printf 'DOCKER_OPTS="%s"\n' "$BERTH_DOCKERD_OPTS" > /etc/default/docker
fi
if [ "${BERTH_INIT:-}" = systemd ]; then
    # units asking for limits above this host's hard limits (no CAP_SYS_RESOURCE) would not start
    mkdir -p /run/systemd/system/service.d
    printf '[Service]\nLimitNOFILE=%s\nLimitNPROC=%s\nLimitCORE=%s\n' \
        "$(ulimit -Hn)" "$(ulimit -Hp 2>/dev/null || echo infinity)" "$(ulimit -Hc)" \
        | sed 's/=unlimited$/=infinity/' > /run/systemd/system/service.d/berth-limits.conf
    exec /lib/systemd/systemd
fi
/usr/sbin/sshd -E /var/log/sshd.log
for s in ${BERTH_SERVICES:-}; do /etc/init.d/"$s" start; done
stop() {
    for s in ${BERTH_SERVICES:-}; do /etc/init.d/"$s" stop; done
    pkill -x sshd
    exit 0
}
trap stop TERM INT
echo "berth-node: booted"
while :; do sleep 3600 & wait $!; done
"""

NODE_SSHD_CONFIG = """\
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
MaxStartups 100:30:200
MaxSessions 100
"""

BASE_CUSTOMIZE = r"""
set -e
root="$1"
chmod 0755 "$root/usr/local/sbin/berth-node-boot"
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/berth" "$root%(apt)s"
: > "$root/etc/machine-id"
# the mirror list stays for image builds only; nodes see nothing but the bed's local repository
cat "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*.list 2>/dev/null > "$root/etc/berth/mirror.list" || true
rm -f "$root"/etc/apt/sources.list.d/*
printf '%%s' '%(source)s' > "$root/etc/apt/sources.list"
rm -rf "$root"/var/lib/apt/lists/*
""" % {'apt': APT_MOUNT, 'source': APT_SOURCE}

BASE_FILES = {
    '/usr/local/sbin/berth-node-boot': NODE_BOOT,
    '/etc/ssh/sshd_config.d/berth.conf': NODE_SSHD_CONFIG,
}


@dataclass(frozen=True)
class Flavour:
    """One kind of node. `parent` is the image it builds on; `packages` the apt layer it adds."""

    name: str
    parent: str | None
    packages: tuple = ()
    files: dict = field(default_factory=dict)   # path -> text, written before `script`
    script: str = ''                            # shell run in the build container after the install
    services: tuple = ()                        # Debian init scripts the boot script starts (tini nodes)
    init: str = 'tini'                          # or 'systemd' (PID 1)
    state_dir: str | None = None                # gets a volume of its own per node
    ready: str = 'true'                         # shell command that succeeds (over SSH) once the node is usable
    client: bool = True                         # may be a registry client

    def env(self):
        env = {'BERTH_FLAVOUR': self.name, 'BERTH_INIT': self.init}
        if self.services:
            env['BERTH_SERVICES'] = ' '.join(self.services)
        return env


# Debian's init script raises the nofile limit beyond the hard limit this host allows (and runs
# under `set -e`): fall back to the hard limit instead of dying.
DOCKER_INIT_FIX = r"""
sed -i \
  -e 's/^\(\s*\)ulimit -n 1048576$/\1ulimit -n 1048576 2>\/dev\/null || ulimit -n "$(ulimit -Hn)"/' \
  -e 's/^\(\s*\)ulimit -\([up]\) unlimited$/\1ulimit -\2 unlimited 2>\/dev\/null || true/' \
  /etc/init.d/docker
grep -q 'ulimit -n "$(ulimit -Hn)"' /etc/init.d/docker
"""

DOCKER_READY = 'docker version --format "{{.Server.Version}}"'

# --- containerd: a Kubernetes-like node, systemd as PID 1, containerd 1.6 and no dockerd ----------
# /etc/containerd/config.toml stays as Debian ships it (version 2, a CRI cni section, no registry
# section, config_path unset). `systemctl restart containerd` (or `service containerd restart`)
# is a real restart: a new MainPID, `ctr version` answers again within a second.

SYSTEMD_TRIM = r"""
# a node is not a VM: no gettys, timers that would reach for a mirror, or hardware units
for unit in getty.target console-getty.service apt-daily.timer apt-daily-upgrade.timer \
            dpkg-db-backup.timer e2scrub_all.timer fstrim.timer systemd-udevd.service \
            systemd-timesyncd.service systemd-logind.service; do
    ln -sf /dev/null /etc/systemd/system/"$unit"
done
systemctl enable ssh.service containerd.service >/dev/null 2>&1 || true
"""

# --- podman: Podman + Buildah + Skopeo, no daemon -------------------------------------------------

PODMAN_STORAGE = """\
# berth bed: the node's /var/lib/containers is a volume of its own (ext4), where kernel overlay works
[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
"""

PODMAN_CONTAINERS_CONF = """\
# berth bed: no systemd in this node
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
[containers]
netns = "host"
"""

# --- objectstore: single-node Ceph (mon + memstore OSD + radosgw), S3 on :7480 -------------------

CEPH_CONF = """\
[global]
fsid = @FSID@
mon initial members = a
mon host = 127.0.0.1
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
paxos propose interval = 0.05
log to stderr = false
log file = /var/log/ceph/$cluster-$name.log
[osd]
osd objectstore = memstore
osd fast shutdown = false
memstore device bytes = 4294967296
osd memory target = 268435456
[client.rgw.store]
rgw frontends = beast port=7480
ms mon client mode = crc
rgw enable usage log = false
"""

OBJECTSTORE_INIT = r"""#!/bin/sh
# /etc/init.d/berth-objectstore: one-node Ceph for the bed. First start bootstraps mon `a`, a
# memstore OSD 0 and the S3 user from /etc/berth/s3.env; every start runs mon, osd and radosgw.
# Objects live in the OSD's memory and survive a node restart (`stop` lets the OSD save them).
set -e
run=/var/lib/ceph/berth
start() {
    mkdir -p /var/log/ceph /var/run/ceph "$run"
    if [ ! -e "$run/bootstrapped" ]; then
        fsid=$(cat /proc/sys/kernel/random/uuid)
        sed "s/@FSID@/$fsid/" /etc/berth/ceph.conf.in > /etc/ceph/ceph.conf
        monmaptool --create --fsid "$fsid" --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' "$run/monmap" >/dev/null
        ceph-authtool --create-keyring "$run/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
        mkdir -p /var/lib/ceph/mon/ceph-a
        ceph-mon --mkfs -i a --monmap "$run/monmap" --keyring "$run/mon.keyring"
    fi
    ceph-mon -i a
    if [ ! -e "$run/bootstrapped" ]; then
        uuid=$(cat /proc/sys/kernel/random/uuid)
        id=$(ceph osd new "$uuid")
        mkdir -p /var/lib/ceph/osd/ceph-"$id"
        ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" 2>/dev/null
        echo "$id" > "$run/osd-id"
    fi
    ceph-osd -i "$(cat "$run/osd-id")"
    if [ ! -e "$run/bootstrapped" ]; then
        . /etc/berth/s3.env
        radosgw-admin user create --uid=berth --display-name='berth bed' \
            --access-key="$BERTH_S3_ACCESS_KEY" --secret-key="$BERTH_S3_SECRET_KEY" >/dev/null
        touch "$run/bootstrapped"
    fi
    radosgw -n client.rgw.store
}
halt() {  # SIGTERM, then wait: the memstore OSD writes its objects to disk as it shuts down
    pkill -x "$1" || return 0
    for _ in $(seq 1 100); do pgrep -x "$1" >/dev/null || return 0; sleep 0.1; done
}
stop() {
    halt radosgw
    halt ceph-osd
    halt ceph-mon
}
case "$1" in
    start) start ;;
    stop) stop ;;
    restart) stop; sleep 1; start ;;
    *) echo "usage: $0 start|stop|restart" >&2; exit 2 ;;
esac
"""

OBJECTSTORE_SCRIPT = r"""
chmod 0755 /etc/init.d/berth-objectstore
mkdir -p /etc/ceph /var/lib/ceph
rm -f /etc/ceph/ceph.conf
"""

S3_PORT = 7480

FLAVOURS = {f.name: f for f in (
    Flavour('base', None, BASE_PACKAGES, client=False),
    # a minimal Debian host as a user has it: python3 and docker.io, nothing the collection's
    # modules need (no python3-docker, -bcrypt, -cryptography, -apt): the roles install those.
    Flavour('bare', 'base', ('docker.io',), script=DOCKER_INIT_FIX, services=('docker',),
            state_dir='/var/lib/docker', ready=DOCKER_READY),
    # today's node: bare plus what the modules import, so no package needs installing
    Flavour('docker', 'bare', ('python3-docker', 'python3-bcrypt', 'python3-cryptography', 'python3-apt'),
            services=('docker',), state_dir='/var/lib/docker', ready=DOCKER_READY),
    Flavour('containerd', 'base', ('containerd', 'runc', 'systemd', 'systemd-sysv', 'dbus'),
            script=SYSTEMD_TRIM,
            init='systemd', state_dir='/var/lib/containerd', ready='ctr version'),
    Flavour('podman', 'base', ('podman', 'buildah', 'skopeo', 'crun'),
            files={'/etc/containers/storage.conf': PODMAN_STORAGE,
                   '/etc/containers/containers.conf': PODMAN_CONTAINERS_CONF},
            state_dir='/var/lib/containers', ready='podman version'),
    Flavour('objectstore', 'base', ('ceph-mon', 'ceph-osd', 'radosgw', 'ceph-common'),
            files={'/etc/init.d/berth-objectstore': OBJECTSTORE_INIT, '/etc/berth/ceph.conf.in': CEPH_CONF},
            script=OBJECTSTORE_SCRIPT, services=('berth-objectstore',), client=False,
            ready='curl -sf -o /dev/null http://127.0.0.1:%d/' % S3_PORT),
)}

NODE_FLAVOURS = tuple(name for name in FLAVOURS if name != 'base')


def flavour(name):
    try:
        return FLAVOURS[name]
    except KeyError:
        raise ValueError('unknown node flavour %r (known: %s)' % (name, ', '.join(NODE_FLAVOURS))) from None
