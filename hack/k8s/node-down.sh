#!/usr/bin/env bash
# hack/k8s/node-down.sh — stops the real node (KCMF_K8S_NODE_MODE=real) and
# undoes every VM-wide change node.sh made. Called by down.sh when the state
# dir has node/; safe to run on a half-started node (each step checks its own
# record in $KCMF_K8S_STATE/node/).
#
# Order: pv-recycler, coredns, kube-proxy, kubelet (SIGTERM, as down.sh does);
# then every process in the /kcmf-node cgroups (the pods: SIGKILL); then the
# containerd shims and anything else left in the node's private mount namespace
# (recorded at start: all of them are ours by construction); then containerd.
# Then: kube-proxy --cleanup and removal of the remaining KUBE-*/CNI-*/KCMF-*
# iptables chains (up.sh refuses to start if any exist before) and of the empty
# nf_tables tables iptables-nft created for them, the bridge,
# net.ipv4.ip_forward back to its recorded value, the /kcmf-node cgroups
# (depth-first, in every hierarchy), and the mount points it created.
set -euo pipefail

state="${KCMF_K8S_STATE:-/tmp/kcmf-k8s}"
nstate="$state/node"
grace="${KCMF_K8S_STOP_GRACE:-15}"

log() { echo "node-down.sh: $*" >&2; }

[[ -d "$nstate" ]] || exit 0

ours() { # <pid> <exe>
  [[ -r "/proc/$1/cmdline" ]] &&
    tr '\0' '\n' <"/proc/$1/cmdline" | head -n1 | grep -qxF "$2"
}

stop_entry() { # <name>: stop the process recorded under <name> in pids
  local name pid exe
  read -r name pid exe < <(awk -v n="$1" '$1 == n' "$state/pids" 2>/dev/null) || return 0
  [[ -n "${pid:-}" ]] || return 0
  ours "$pid" "$exe" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while ours "$pid" "$exe" && ((SECONDS < deadline)); do sleep 0.2; done
  if ours "$pid" "$exe"; then
    log "$name (pid $pid) ignored SIGTERM for ${grace}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while ours "$pid" "$exe"; do sleep 0.1; done
  fi
  log "stopped $name (pid $pid)"
}

cgroup_mounts() { awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/mounts; }

# Pids in our cgroup subtree (any hierarchy).
cgroup_pids() {
  local m
  for m in $(cgroup_mounts); do
    [[ -d "$m/kcmf-node" ]] || continue
    find "$m/kcmf-node" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

# Pids in the node's private mount namespace. A namespace id is reused by the kernel once
# the namespace is gone, so the recorded id alone proves nothing: while our containerd is
# alive its namespace is the node's; without it only containerd shims in the recorded
# namespace are taken (never an unrelated process that happens to get the same id).
mntns_pids() {
  local ns p only_shims=1 ctd exe
  ns="$(cat "$nstate/mntns" 2>/dev/null)" || return 0
  [[ -n "$ns" ]] || return 0
  read -r _ ctd exe < <(awk '$1 == "containerd"' "$state/pids" 2>/dev/null) || true
  if [[ -n "${ctd:-}" ]] && ours "$ctd" "$exe" &&
    [[ "$(readlink "/proc/$ctd/ns/mnt" 2>/dev/null)" == "$ns" ]]; then
    only_shims=0
  fi
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/ns/mnt" 2>/dev/null)" == "$ns" ]] || continue
    if ((only_shims)); then
      [[ "$(readlink "$p/exe" 2>/dev/null)" == */containerd-shim* ]] || continue
    fi
    echo "${p#/proc/}"
  done
  return 0
}

for n in pv-recycler coredns kube-proxy kubelet; do stop_entry "$n"; done

# The pods (test workloads): SIGKILL, until the cgroups are empty.
for _ in $(seq 1 50); do
  mapfile -t pids < <(cgroup_pids)
  ((${#pids[@]})) || break
  kill -KILL "${pids[@]}" 2>/dev/null || true
  sleep 0.2
done
((${#pids[@]} == 0)) || log "WARNING: processes left in the kcmf-node cgroups: ${pids[*]}"

# Shims and anything else in our mount namespace except containerd itself.
ctd_pid="$(awk '$1 == "containerd" {print $2}' "$state/pids" 2>/dev/null || true)"
for sig in TERM KILL; do
  mapfile -t pids < <(mntns_pids | grep -vxF "${ctd_pid:-none}" || true)
  ((${#pids[@]})) || break
  kill "-$sig" "${pids[@]}" 2>/dev/null || true
  sleep 1
done
stop_entry containerd
for _ in $(seq 1 25); do
  mapfile -t pids < <(mntns_pids)
  ((${#pids[@]})) || break
  kill -KILL "${pids[@]}" 2>/dev/null || true
  sleep 0.2
done
((${#pids[@]} == 0)) || log "WARNING: processes left in the node mount namespace: ${pids[*]}"

# iptables: kube-proxy's own cleanup, then whatever KUBE-*/CNI-*/KCMF-* chains
# remain (kubelet's canaries, portmap's hostport chains, our KCMF-FORWARD):
# first the rules in other chains jumping to them, then flush, then delete.
bindir="$(cat "$nstate/bindir" 2>/dev/null || true)"
if [[ -x "$bindir/kube-proxy" ]]; then
  "$bindir/kube-proxy" --cleanup >>"$state/logs/kube-proxy-cleanup.log" 2>&1 ||
    log "kube-proxy --cleanup failed (see logs/kube-proxy-cleanup.log); removing chains by hand"
fi
ours_re='^(KUBE-|CNI-|KCMF-)'
for fam in iptables ip6tables iptables-legacy ip6tables-legacy; do
  command -v "$fam-save" >/dev/null || continue
  dump="$("$fam-save" 2>/dev/null || true)"
  grep -qE '^:(KUBE-|CNI-|KCMF-)' <<<"$dump" || continue
  script="$(awk -v re="$ours_re" '
    /^\*/ { if (t != "") flush(); t = $0; nd = 0; nc = 0; next }
    /^:/  { c = substr($1, 2); if (c ~ re) chains[++nc] = c; next }
    /^-A/ {
      if ($2 ~ re) next
      for (i = 3; i <= NF; i++)
        if (($i == "-j" || $i == "-g") && $(i + 1) ~ re) { del[++nd] = "-D" substr($0, 3); break }
      next
    }
    /^COMMIT/ { flush(); t = ""; next }
    function flush(   i) {
      if (nd == 0 && nc == 0) return
      print t
      for (i = 1; i <= nd; i++) print del[i]
      for (i = 1; i <= nc; i++) print "-F " chains[i]
      for (i = 1; i <= nc; i++) print "-X " chains[i]
      print "COMMIT"
      nd = 0; nc = 0
    }' <<<"$dump")"
  if [[ -n "$script" ]]; then
    if "$fam-restore" --noflush <<<"$script"; then
      log "removed KUBE-*/CNI-*/KCMF-* chains ($fam)"
    else
      log "WARNING: $fam-restore failed removing our chains"
    fi
  fi
done

# nf_tables tables that iptables-nft created for us: delete them if they hold
# no rules and no chains but the base ones (else someone else uses them now).
if [[ -f "$nstate/nft-tables.before" ]] && command -v nft >/dev/null; then
  while read -r _ fam name; do
    grep -qxF "table $fam $name" "$nstate/nft-tables.before" && continue
    listing="$(nft -a list table "$fam" "$name" 2>/dev/null)" || continue
    if grep -E '# handle [0-9]+$' <<<"$listing" | grep -vqE '^[[:space:]]*(table|chain) '; then
      continue # has rules
    fi
    if grep -E '^[[:space:]]*chain ' <<<"$listing" |
      grep -vqE 'chain (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) '; then
      continue # has other chains
    fi
    nft delete table "$fam" "$name" && log "removed empty nf_tables table $fam $name"
  done < <(nft list tables 2>/dev/null)
fi

if [[ -s "$nstate/bridge" ]]; then
  br="$(cat "$nstate/bridge")"
  if ip link show "$br" >/dev/null 2>&1; then
    ip link del "$br" && log "removed bridge $br"
  fi
fi

if [[ -s "$nstate/ip_forward.orig" ]]; then
  orig="$(cat "$nstate/ip_forward.orig")"
  if [[ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$orig" ]]; then
    echo "$orig" >/proc/sys/net/ipv4/ip_forward
    log "net.ipv4.ip_forward back to $orig"
  fi
fi

# cgroups, depth-first, in every hierarchy (runc may add some in cgroup2 too).
for m in $(cgroup_mounts); do
  [[ -d "$m/kcmf-node" ]] || continue
  find "$m/kcmf-node" -depth -type d -exec rmdir {} + 2>/dev/null || true
  if [[ -d "$m/kcmf-node" ]]; then
    log "WARNING: could not remove $m/kcmf-node"
  fi
done

# Nothing of ours should be mounted on the host (all mounts were made in the
# private namespace, which is gone with its last process); check anyway.
mapfile -t mnts < <(awk -v s="$state/" 'index($2, s) == 1 {print $2}' /proc/mounts | sort -r)
for m in "${mnts[@]}"; do
  umount -l "$m" && log "unmounted leftover $m"
done

if [[ -f "$nstate/created-dirs" ]]; then
  while read -r d; do
    [[ -n "$d" ]] || continue
    rmdir "$d" 2>/dev/null || log "WARNING: $d not empty; left in place"
  done <"$nstate/created-dirs"
fi
# kubelet must never have written the machine's kernel settings (node.sh hands it
# bind-mounted copies): compare with the values recorded at start, put any changed one
# back, and fail loudly so a test run notices.
changed=0
if [[ -s "$nstate/sysctl.orig" ]]; then
  while IFS='=' read -r key was; do
    now="$(cat "/proc/sys/$key")"
    if [[ "$now" != "$was" ]]; then
      log "ERROR: kernel setting ${key//\//.} changed from $was to $now while the node ran; restoring it"
      echo "$was" >"/proc/sys/$key" || true
      changed=1
    fi
  done <"$nstate/sysctl.orig"
fi
log "node stopped and cleaned up"
if ((changed)); then exit 3; fi
