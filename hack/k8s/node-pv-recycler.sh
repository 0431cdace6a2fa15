#!/usr/bin/env bash
# hack/k8s/node-pv-recycler.sh <state-dir> — started by up.sh in real-node mode.
#
# The `local` StorageClass has no provisioner, so a PV whose claim is deleted
# stays Released. Every few seconds this wipes the directory of each Released
# kcmf-local-* PV and removes its claimRef, which makes it Available again
# (what sig-storage-local-static-provisioner does). Touches only PVs labelled
# kcmf.local/local-pv=true whose path is under <state-dir>/pv/.
set -euo pipefail

state="$1"
export KUBECONFIG="$state/kubeconfig"
kubectl="$(cat "$state/node/bindir")/kubectl"

while sleep 3; do
  "$kubectl" get pv -l kcmf.local/local-pv=true \
    -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name} {.spec.local.path}{"\n"}{end}' \
    2>/dev/null | while read -r name path; do
    [[ -n "$name" && "$path" == "$state/pv/"* && -d "$path" ]] || continue
    find "$path" -mindepth 1 -delete 2>/dev/null || true
    chown 0:0 "$path" && chmod 0755 "$path" || continue
    if "$kubectl" patch pv "$name" --type=json \
      -p '[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null 2>&1; then
      echo "$(date -u +%FT%TZ) recycled $name"
    fi
  done || true # an API hiccup (kubectl failing) must not end the loop: up.sh watches this pid
done
