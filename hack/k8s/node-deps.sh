#!/usr/bin/env bash
# hack/k8s/node-deps.sh — installs the Debian packages a real node needs
# (KCMF_K8S_NODE_MODE=real hack/k8s/up.sh): containerd (1.6.x, CRI plugin built
# in), runc, containernetworking-plugins (bridge, host-local, loopback, portmap
# in /usr/lib/cni), iptables (kube-proxy, kubelet), nftables (nft: down.sh removes
# the empty iptables-nft tables it created), iproute2 (bridge setup) and
# util-linux (unshare/nsenter). Idempotent: returns at once when all are there.
#
# Installing starts nothing: there is no systemd (the containerd package only
# ships a unit file); the script checks that no containerd daemon came up.
set -euo pipefail

pkgs=(containerd runc containernetworking-plugins iptables nftables iproute2 util-linux)

log() { echo "node-deps.sh: $*" >&2; }

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" == "ii " ]]
}

missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]} == 0)); then
  exit 0
fi
[[ $EUID -eq 0 ]] || { log "ERROR: need root to install: ${missing[*]}"; exit 1; }

# Daemons already running before the install (not ours; left alone).
before="$(pgrep -x containerd || true)"
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >&2; then
  apt-get -o DPkg::Lock::Timeout=300 update >&2
  apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}" >&2
fi
after="$(pgrep -x containerd || true)"
if [[ "$after" != "$before" ]]; then
  log "ERROR: installing containerd started a daemon (pids: $after); not expected here"
  exit 1
fi
for b in /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/bin/ctr /usr/sbin/runc \
  /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback /usr/lib/cni/portmap; do
  [[ -x "$b" ]] || { log "ERROR: $b missing after install"; exit 1; }
done
log "ok"
