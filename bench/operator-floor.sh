#!/usr/bin/env bash
# bench/operator-floor.sh — what the control plane alone needs for the objects that
# bench/operator-100.sh creates, with no operator in the loop: the floor under its
# "time to all Ready".
#
#   1. runs bench/operator-100.sh (BENCH_KEEP=1) and keeps its namespace and nodes;
#   2. exports every child the operator made (PVCs, Secrets, ConfigMaps, Services,
#      Deployments, StatefulSets, PDBs, NetworkPolicies), without owner references,
#      status or server-assigned fields;
#   3. deletes that namespace and waits until it is gone;
#   4. applies the same objects with `kubectl apply --server-side` in 8 parallel streams
#      into a fresh namespace, and reports the seconds until every pod is Ready and the
#      CPU seconds the control-plane processes used meanwhile.
# If the floor is over 30 s, the operator-100 target cannot be met on this machine
# whatever the operator does.
#
# Usage: bench/operator-floor.sh [N]   (env: KCMF_K8S_STATE; BENCH_MODE as operator-100.sh)
set -euo pipefail

n="${1:-100}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${KCMF_K8S_STATE:-/tmp/kcmf-k8s}"
out="$root/bench/out"
# Fresh names per run (see operator-100.sh: a re-created namespace costs a live lookup per write).
stamp=$(date +%H%M%S)
src_ns="kcmf-bench-$stamp"
ns="kcmf-floor-$stamp"
mkdir -p "$out"
log() { echo "operator-floor: $*" >&2; }

BENCH_KEEP=1 BENCH_NS="$src_ns" bash "$root/bench/operator-100.sh" "$n"
# shellcheck source=/dev/null
source "$state/env.sh"
# shellcheck source=bench/k8s-lib.sh
source "$root/bench/k8s-lib.sh"

cleanup() {
  kubectl delete namespace "$ns" "$src_ns" --ignore-not-found --wait=true --timeout=300s >/dev/null 2>&1 || true
  kubectl get nodes -o name | grep '^node/kwok-bench-' | xargs -r kubectl delete --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "exporting the operator's children"
work="$out/floor"
rm -rf "$work"
mkdir -p "$work"
kubectl get pvc,secret,configmap,service,deployment,statefulset,poddisruptionbudget,networkpolicy \
  -n "$src_ns" -l app.kubernetes.io/managed-by=kcmf-operator -o json >"$work/raw.json"
python3 - "$work" "$ns" <<'PY'
import json, sys
work, ns = sys.argv[1], sys.argv[2]
items = json.load(open(f"{work}/raw.json"))["items"]
out = []
for o in items:
    m = o["metadata"]
    meta = {"name": m["name"], "namespace": ns}
    for k in ("labels", "annotations"):
        kept = {a: b for a, b in (m.get(k) or {}).items()
                if not a.startswith(("kubectl.kubernetes.io", "deployment.kubernetes.io",
                                     "pv.kubernetes.io", "volume."))}
        if kept:
            meta[k] = kept
    o["metadata"] = meta
    o.pop("status", None)
    spec = o.get("spec") or {}
    if o["kind"] == "Service":
        for f in ("clusterIP", "clusterIPs"):
            spec.pop(f, None)
    if o["kind"] == "PersistentVolumeClaim":
        spec.pop("volumeName", None)
    out.append(o)
streams = 8
for i in range(streams):
    json.dump({"apiVersion": "v1", "kind": "List", "items": out[i::streams]},
              open(f"{work}/part-{i}.json", "w"))
print(f"{len(out)} objects", file=sys.stderr)
PY

log "deleting namespace $src_ns (waits for the garbage collector)"
kubectl delete namespace "$src_ns" --wait=true --timeout=300s >/dev/null
kubectl delete namespace "$ns" --ignore-not-found --wait=true --timeout=300s >/dev/null
kubectl create namespace "$ns" >/dev/null
until kubectl -n "$ns" get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done
sleep 5

pods=$(python3 -c 'import json,sys; print(sum(o["kind"] in ("Deployment","StatefulSet") and (o["spec"].get("replicas") or 1) for p in sys.argv[1:] for o in json.load(open(p))["items"]))' "$work"/part-*.json)
log "applying the children of $n objects ($pods pods) with no operator running"
cpu_start=$(cp_cpu)
api_requests "$out/operator-floor.api-before"
start=$(date +%s.%N)
for f in "$work"/part-*.json; do
  kubectl apply --server-side -f "$f" >/dev/null &
done
wait
applied=$(date +%s.%N)
ready=0
while :; do
  ready=$(kubectl get pods -n "$ns" -o json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
print(sum(any(c["type"] == "Ready" and c["status"] == "True" for c in (p.get("status") or {}).get("conditions", [])) for p in items))')
  [[ "$ready" -ge "$pods" ]] && break
  if (( $(echo "$(date +%s.%N) - $start > 300" | bc) )); then log "timeout: $ready/$pods pods Ready"; break; fi
  sleep 0.5
done
end=$(date +%s.%N)
cpu_end=$(cp_cpu)
api_requests "$out/operator-floor.api-after"
cpu=$(cp_cpu_delta "$cpu_start" "$cpu_end")

printf '%s\n' \
  "floor, no operator:      children of $n KcmfDeployments, $pods pods ($ready Ready)" \
  "time to all applied:     $(echo "$applied - $start" | bc) s   (kubectl, 8 streams)" \
  "time to all pods Ready:  $(echo "$end - $start" | bc) s" \
  "control-plane CPU s:     $cpu" | tee "$out/operator-floor.txt"
python3 "$root/bench/api-requests-delta.py" "$out/operator-floor.api-before" "$out/operator-floor.api-after" \
  >"$out/operator-floor.requests.txt"
log "API requests until all pods Ready, by kind: $out/operator-floor.requests.txt"
