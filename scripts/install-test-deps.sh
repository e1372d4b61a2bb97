#!/usr/bin/env bash
# Installs every real tool the test suite checks emitted files with (Debian packages).
# Idempotent: a tool already present is not reinstalled. Run as root (or with sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

need=()
want() { # want COMMAND PACKAGE...
  local cmd=$1; shift
  if ! command -v "$cmd" >/dev/null 2>&1; then need+=("$@"); fi
}
want nix-instantiate nix-bin
want haproxy haproxy
want keepalived keepalived
want nginx nginx libnginx-mod-stream
want etcd etcd-server
want etcdctl etcd-client
want shellcheck shellcheck
want nft nftables            # checks and loads every firewall ruleset (compiler/render/tests/prepare.rs)
want containerd containerd   # `containerd config dump` of every config.toml
want gpg gpg                 # the pinned pkgs.k8s.io key's fingerprint
want gpg-agent gpg-agent     # gpg --quick-gen-key: the stand-in repositories' signing keys (e2e_support/nodes.rs)
want ansible-playbook ansible-core
want cloud-init cloud-init
want openssl openssl
want cfssl golang-cfssl
want ip iproute2
want unshare util-linux
want systemd-analyze systemd
want hyperfine hyperfine
want curl curl
want tar tar
want gzip gzip
want sha256sum coreutils
want chromium chromium   # renders topology.svg to PNG (tests/topology.rs)
# The font topology.svg's text widths are measured for (chromium alone may bring another).
if [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then need+=(fonts-dejavu-core); fi
if [ ! -x /usr/bin/time ]; then need+=(time); fi
want kubectl kubernetes-client   # only where no kubectl exists: Debian's conflicts with the image's
if [ ! -e /usr/lib/nginx/modules/ngx_stream_module.so ]; then need+=(libnginx-mod-stream); fi
if ! python3 -c 'import yaml' >/dev/null 2>&1; then need+=(python3-yaml); fi

if [ ${#need[@]} -gt 0 ]; then
  echo "install-test-deps: installing ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! python3 -c 'import yaml' >/dev/null 2>&1; then
  python3 -m pip install --quiet pyyaml
fi
echo "install-test-deps: all test tools present"
