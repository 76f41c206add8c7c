# shellcheck shell=bash
# Shared set-up for scripts/demo, scripts/test and scripts/bench: everything a fresh
# Debian 12 machine (root) needs, installed only when missing, so reruns are quick.
set -euo pipefail

BERTH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BERTH_VENV=${BERTH_VENV:-$BERTH_ROOT/.venv}
BERTH_BUILD=$BERTH_ROOT/.build
DOCKER=/usr/bin/docker
export BERTH_ROOT BERTH_VENV BERTH_BUILD DOCKER

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

need_root() {
  [ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and starts dockerd)" >&2; exit 1; }
}

# apt packages, installed only when one of them is missing.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Python venv with the requirement file given; reinstalled only when it changes.
ensure_venv() {
  local req=$1 stamp
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    ensure_packages python3-venv
  fi
  [ -x "$BERTH_VENV/bin/python" ] || { log "creating venv $BERTH_VENV"; python3 -m venv "$BERTH_VENV"; }
  stamp=$(cat "$BERTH_ROOT/requirements.txt" "$req" | sha256sum | cut -c1-16)
  if [ ! -e "$BERTH_VENV/.berth-req-$stamp" ]; then
    log "installing Python requirements ($req)"
    "$BERTH_VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$BERTH_VENV/bin/pip" install -q -r "$req"
    touch "$BERTH_VENV/.berth-req-$stamp"
  fi
  export PATH="$BERTH_VENV/bin:$PATH"
}

# Make the working tree importable as the collection berth.registry.
ensure_collection_path() {
  local dir=$BERTH_BUILD/collections/ansible_collections/berth
  mkdir -p "$dir"
  [ -L "$dir/registry" ] || ln -sfn "$BERTH_ROOT" "$dir/registry"
  export ANSIBLE_COLLECTIONS_PATH=$BERTH_BUILD/collections
}

# A Docker engine that answers on /var/run/docker.sock, started if none does.
ensure_dockerd() {
  ensure_packages docker.io
  if "$DOCKER" info >/dev/null 2>&1; then return 0; fi
  log "starting dockerd"
  if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then :; else
    nohup /usr/sbin/dockerd >/var/log/berth-dockerd.log 2>&1 &
  fi
  local _
  for _ in $(seq 1 60); do
    "$DOCKER" info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "dockerd did not answer within 60 s; see /var/log/berth-dockerd.log" >&2
  tail -n 20 /var/log/berth-dockerd.log >&2 || true
  exit 1
}

# What the test bed needs on this host (integration tests, scripts/bed, scripts/bench):
# an engine, Debian's Distribution binary for the registry image, mmdebstrap for the node image.
ensure_bed_host() {
  ensure_dockerd
  ensure_packages docker-registry mmdebstrap zstd openssh-client iproute2
}
