#!/usr/bin/env bash
# hack/k8s/down.sh — stops the local control plane started by hack/k8s/up.sh.
#
# Owns: the processes listed in ${KCMF_K8S_STATE:-/tmp/kcmf-k8s}/pids (and only
# those: each pid is signalled only while its command line still is the binary
# up.sh started), stopped in reverse start order with SIGTERM, then SIGKILL
# after a grace period; then removes the state dir. In real-node mode it runs
# node-down.sh first (pods, containerd, network, cgroups). KEEP_LOGS=1 keeps
# $KCMF_K8S_STATE/logs (everything else is removed).
set -euo pipefail

state="${KCMF_K8S_STATE:-/tmp/kcmf-k8s}"
grace="${KCMF_K8S_STOP_GRACE:-15}"

log() { echo "down.sh: $*" >&2; }

ours() { # <pid> <exe>: is pid still the process we started?
  [[ -r "/proc/$1/cmdline" ]] &&
    tr '\0' '\n' <"/proc/$1/cmdline" | head -n1 | grep -qxF "$2"
}

# Real-node mode (KCMF_K8S_NODE_MODE=real): node processes, pods, and the
# VM-wide changes (bridge, iptables chains, ip_forward, cgroups) first.
# Its failure (e.g. a kernel setting found changed) is this script's exit status, after
# everything else is stopped.
node_rc=0
if [[ -d "$state/node" ]]; then
  KCMF_K8S_STATE="$state" "$(dirname "${BASH_SOURCE[0]}")/node-down.sh" || {
    node_rc=$?
    log "node-down.sh failed (exit $node_rc)"
  }
fi

if [[ -f "$state/pids" ]]; then
  mapfile -t entries < <(tac "$state/pids")
  for entry in "${entries[@]}"; do
    read -r name pid exe <<<"$entry"
    [[ -n "${pid:-}" ]] || continue
    if ! ours "$pid" "$exe"; then
      log "$name (pid $pid) not running"
      continue
    fi
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while ours "$pid" "$exe" && ((SECONDS < deadline)); do sleep 0.2; done
    if ours "$pid" "$exe"; then
      log "$name (pid $pid) ignored SIGTERM for ${grace}s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while ours "$pid" "$exe"; do sleep 0.1; done
    fi
    log "stopped $name (pid $pid)"
  done
fi

if [[ -d "$state" ]]; then
  if [[ "${KEEP_LOGS:-0}" == 1 && -d "$state/logs" ]]; then
    find "$state" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
    log "removed $state (kept $state/logs)"
  else
    rm -rf "$state"
    log "removed $state"
  fi
fi
exit "$node_rc"
