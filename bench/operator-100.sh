#!/usr/bin/env bash
# bench/operator-100.sh — operator performance on the local control plane (hack/k8s/up.sh).
#
# Creates N (default 100) KcmfDeployments (default spec: managed Redis + PostgreSQL, i.e.
# 3 pods and 2 PVCs each) in a fresh namespace kcmf-bench-HHMMSS, and reports
#   - seconds from `kubectl apply` until all are Ready=True for their generation,
#   - the operator's RSS: idle before any object, peak during the run, idle after settling.
# Targets (issue): < 30 s, idle RSS < 40 MiB.
# The single kwok node holds 250 pods, so the script registers extra fake nodes
# (kwok manages every node) and removes them at the end.
#
# BENCH_MODE=managed (default): the default spec, managed Redis + PostgreSQL (3 pods, 2 PVCs each;
#   dominated by kwok's PVC provisioning and the scheduler's retries of pods with unbound PVCs).
# BENCH_MODE=external: Redis/PostgreSQL URLs from a Secret (1 pod each; operator-bound).
# Also reported: the time until every object's status shows its generation (all children
# applied by the operator), which is the operator's share of the total.
#
# Usage: bench/operator-100.sh [N]     (env: KCMF_K8S_STATE, BENCH_NS, BENCH_MODE, BENCH_KEEP=1 keeps objects)
set -euo pipefail

n="${1:-100}"
mode="${BENCH_MODE:-managed}"
# A fresh name per run: the API server's NamespaceLifecycle admission looks a recently
# deleted namespace up live (a GET per write) when one of that name is created again.
ns="${BENCH_NS:-kcmf-bench-$(date +%H%M%S)}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${KCMF_K8S_STATE:-/tmp/kcmf-k8s}"
out="$root/bench/out"
mkdir -p "$out"
log() { echo "operator-100: $*" >&2; }

[[ -f "$state/env.sh" ]] || { log "no control plane: run hack/k8s/up.sh first"; exit 1; }
# shellcheck source=/dev/null
source "$state/env.sh"
kubectl get --raw=/readyz >/dev/null || { log "API server not reachable"; exit 1; }

log "building the operator (release)"
(cd "$root" && CARGO_TARGET_DIR="$root/target/op" nice -n 5 flock /tmp/kcmf-cargo.lock \
  cargo build --release -q -p kcmf-operator)
bin="$root/target/op/release/kcmf-operator"

kubectl apply --server-side --force-conflicts -f "$root/crds/" >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/kcmfdeployments.kcmf.io >/dev/null

pods_per=3; [[ "$mode" == external ]] && pods_per=1
extra_nodes=$(( (n * pods_per + 60) / 240 ))
for i in $(seq 1 "$extra_nodes"); do
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: kwok-bench-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, kubernetes.io/hostname: kwok-bench-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
spec: {providerID: "kwok://kwok-bench-$i"}
status:
  capacity: {cpu: "64", memory: 512Gi, pods: "250", ephemeral-storage: 1Ti}
  allocatable: {cpu: "64", memory: 512Gi, pods: "250", ephemeral-storage: 1Ti}
YAML
done
for i in $(seq 1 "$extra_nodes"); do
  kubectl wait --for=condition=Ready --timeout=60s "node/kwok-bench-$i" >/dev/null
done

kubectl delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
# A namespace still being garbage-collected (an earlier run, a test) loads the control
# plane for a minute or more: wait until none is left, or the figures are not comparable.
for _ in $(seq 1 600); do
  terminating=$(kubectl get namespaces --no-headers | awk '$2 == "Terminating"' | wc -l)
  [[ "$terminating" -eq 0 ]] && break
  [[ "${waited:-0}" -eq 0 ]] && log "waiting for $terminating terminating namespace(s) to go" && waited=1
  sleep 0.5
done
kubectl create namespace "$ns" >/dev/null
until kubectl -n "$ns" get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WATCH_NAMESPACE="$ns" LEADER_ELECTION=false METRICS_ADDR="127.0.0.1:$port" LOG_LEVEL=warn \
  "$bin" run >"$out/operator-100.log" 2>&1 &
op=$!
cleanup() {
  kill "$op" 2>/dev/null || true
  wait "$op" 2>/dev/null || true
  [[ -n "${sampler:-}" ]] && kill "$sampler" 2>/dev/null || true
  if [[ "${BENCH_KEEP:-0}" != 1 ]]; then
    kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
    for i in $(seq 1 "$extra_nodes"); do kubectl delete node "kwok-bench-$i" --wait=false >/dev/null 2>&1 || true; done
  fi
}
trap cleanup EXIT

# shellcheck source=bench/k8s-lib.sh
source "$root/bench/k8s-lib.sh"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$op/status" 2>/dev/null || echo 0; }
until curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do sleep 0.1; done
sleep 3
idle_before=$(rss_kib)

# Sample RSS every 100 ms into a file; the peak is its maximum.
( while kill -0 "$op" 2>/dev/null; do rss_kib; sleep 0.1; done ) >"$out/operator-100.rss.samples" &
sampler=$!

manifest="$out/kcmf-100.yaml"
: >"$manifest"
spec='{}'
if [[ "$mode" == external ]]; then
  kubectl -n "$ns" create secret generic bench-urls \
    --from-literal=redis=redis://:pw@redis.example:6379/0 \
    --from-literal=db=postgres://kcmf:pw@pg.example:5432/kcmf >/dev/null
  spec='{redis: {external: {urlSecretRef: {name: bench-urls, key: redis}}}, postgres: {external: {urlSecretRef: {name: bench-urls, key: db}}}}'
fi
for i in $(seq -w 1 "$n"); do
  printf 'apiVersion: kcmf.io/v1alpha1\nkind: KcmfDeployment\nmetadata:\n  name: bench-%s\n  namespace: %s\nspec: %s\n---\n' "$i" "$ns" "$spec" >>"$manifest"
done

log "creating $n KcmfDeployments"
cpu_start=$(cp_cpu)
api_requests "$out/operator-100.api-before"
op_ticks_start=$(awk '{print $14 + $15}' "/proc/$op/stat")
start=$(date +%s.%N)
kubectl apply -f "$manifest" >/dev/null
ready=0
applied_at=""
while :; do
  read -r applied ready < <(kubectl get kcmf -n "$ns" -o json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
cur = [k for k in items if (k.get("status") or {}).get("observedGeneration") == k["metadata"]["generation"]]
ready = [k for k in cur if any(c["type"] == "Ready" and c["status"] == "True" for c in k["status"].get("conditions", []))]
print(len(cur), len(ready))')
  if [[ -z "$applied_at" && "$applied" -ge "$n" ]]; then applied_at=$(date +%s.%N); fi
  [[ "$ready" -ge "$n" ]] && break
  now=$(date +%s.%N)
  if (( $(echo "$now - $start > 300" | bc) )); then log "timeout: $ready/$n Ready after 300 s"; break; fi
  sleep 0.5
done
end=$(date +%s.%N)
elapsed=$(echo "$end - $start" | bc)
cpu_end=$(cp_cpu)
api_requests "$out/operator-100.api-after"
op_cpu=$(printf '%.1f' "$(echo "scale=2; ($(awk '{print $14 + $15}' "/proc/$op/stat") - $op_ticks_start) / $(getconf CLK_TCK)" | bc)")

log "settling 20 s for the idle RSS"
sleep 20
idle_after=$(rss_kib)
kill "$sampler" 2>/dev/null || true
peak=$(sort -n "$out/operator-100.rss.samples" | tail -n1)
reconciles=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^kcmf_operator_reconciles_total/ {s += $2} END {print s+0}')
errors=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^kcmf_operator_reconcile_errors_total/ {s += $2} END {print s+0}')

printf '%s\n' \
  "mode:                    $mode" \
  "objects:                 $n ($ready Ready)" \
  "time to all applied:     $(echo "${applied_at:-$end} - $start" | bc) s   (status.observedGeneration current: the operator's part)" \
  "time to all Ready:       ${elapsed} s   (target < 30 s)" \
  "RSS idle, no objects:    $(( idle_before / 1024 )) MiB" \
  "RSS peak:                $(( peak / 1024 )) MiB" \
  "RSS idle, $n objects:   $(( idle_after / 1024 )) MiB   (target < 40 MiB)" \
  "reconciles / errors:     $reconciles / $errors" \
  "CPU s until all Ready:   operator $op_cpu; control plane: $(cp_cpu_delta "$cpu_start" "$cpu_end")" \
  | tee "$out/operator-100.txt"
python3 "$root/bench/api-requests-delta.py" "$out/operator-100.api-before" "$out/operator-100.api-after" \
  >"$out/operator-100.requests.txt"
log "API requests until all Ready, by kind: $out/operator-100.requests.txt"
