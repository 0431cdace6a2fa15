#!/usr/bin/env bash
# hack/k8s/smoke.sh — smoke check of a running local control plane (hack/k8s/up.sh).
#
# Owns: the namespace kcmf-smoke (created, then deleted). Checks, against the
# cluster in $KUBECONFIG (default: ${KCMF_K8S_STATE:-/tmp/kcmf-k8s}/env.sh):
#   - a Deployment rolls out (deployment -> replicaset -> pods Ready via kwok)
#   - a StatefulSet with a volumeClaimTemplate rolls out (PVC bound by kwok)
#   - a CronJob creates a Job (cronjob controller) that Completes (job controller)
#   - deleting them lets the garbage collector remove ReplicaSets/pods/Jobs,
#     and deleting the namespace removes the PVCs and their PVs.
# Exits non-zero on any failure.
set -euo pipefail

state="${KCMF_K8S_STATE:-/tmp/kcmf-k8s}"
if [[ -z "${KUBECONFIG:-}" ]]; then
  # shellcheck source=/dev/null
  source "$state/env.sh"
fi
ns=kcmf-smoke
timeout="${KCMF_SMOKE_TIMEOUT:-120}"
k() { kubectl -n "$ns" "$@"; }
log() { echo "smoke.sh: $*" >&2; }

fail() {
  log "FAILED: $*"
  k get all,pvc -o wide >&2 || true
  kubectl get pv >&2 || true
  k get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 20 >&2 || true
  exit 1
}

# wait_until <what> <command...>
wait_until() {
  local what="$1" deadline=$((SECONDS + timeout))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${timeout}s: $what"
    sleep 1
  done
  log "ok: $what"
}
none_left() { # <kind> <selector>: no objects of kind match selector
  [[ -z "$(k get "$1" -l "$2" -o name 2>/dev/null)" ]]
}

kubectl get --raw=/readyz >/dev/null || fail "apiserver not ready"
if kubectl get namespace "$ns" >/dev/null 2>&1; then
  log "deleting leftover namespace $ns"
  kubectl delete namespace "$ns" --wait=true --timeout=120s >/dev/null
fi
kubectl create namespace "$ns" >/dev/null
wait_until "ServiceAccount $ns/default" k get serviceaccount default

start=$SECONDS
k apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: smoke-deploy
spec:
  replicas: 2
  selector:
    matchLabels: {app: smoke-deploy}
  template:
    metadata:
      labels: {app: smoke-deploy}
    spec:
      containers:
      - name: app
        image: registry.invalid/smoke:1
        resources:
          requests: {cpu: 100m, memory: 64Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: smoke-sts
spec:
  clusterIP: None
  selector: {app: smoke-sts}
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: smoke-sts
spec:
  serviceName: smoke-sts
  replicas: 2
  selector:
    matchLabels: {app: smoke-sts}
  template:
    metadata:
      labels: {app: smoke-sts}
    spec:
      containers:
      - name: app
        image: registry.invalid/smoke:1
        volumeMounts:
        - name: data
          mountPath: /data
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 1Gi}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: smoke-cron
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    metadata:
      labels: {app: smoke-cron}
    spec:
      backoffLimit: 0
      template:
        metadata:
          labels: {app: smoke-cron}
        spec:
          restartPolicy: Never
          containers:
          - name: job
            image: registry.invalid/smoke:1
EOF
log "applied Deployment, StatefulSet (volumeClaimTemplate) and CronJob"

k rollout status deployment/smoke-deploy --timeout="${timeout}s" >/dev/null ||
  fail "deployment rollout"
log "ok: Deployment ready ($(k get pods -l app=smoke-deploy --no-headers | wc -l) pods)"

k rollout status statefulset/smoke-sts --timeout="${timeout}s" >/dev/null ||
  fail "statefulset rollout"
for i in 0 1; do
  phase="$(k get pvc "data-smoke-sts-$i" -o jsonpath='{.status.phase}')"
  [[ "$phase" == Bound ]] || fail "PVC data-smoke-sts-$i is '$phase', not Bound"
  ready="$(k get pod "smoke-sts-$i" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"
  [[ "$ready" == True ]] || fail "pod smoke-sts-$i not Ready"
done
log "ok: StatefulSet ready, PVCs Bound"

# The CronJob fires at the next minute boundary (<= 60s).
cron_job() { k get jobs -l app=smoke-cron -o jsonpath='{.items[?(@.metadata.ownerReferences[0].kind=="CronJob")].metadata.name}'; }
has_cron_job() { [[ -n "$(cron_job)" ]]; }
timeout=$((timeout + 60)) wait_until "CronJob created a Job" has_cron_job
job="$(cron_job)"
job="${job%% *}"
k wait --for=condition=complete "job/$job" --timeout="${timeout}s" >/dev/null ||
  fail "job $job did not complete"
log "ok: Job $job (from CronJob) Complete"
log "workloads up in $((SECONDS - start))s"

# --- garbage collection
k delete deployment smoke-deploy --wait=false >/dev/null
wait_until "GC removed the Deployment's ReplicaSets" none_left replicasets app=smoke-deploy
wait_until "GC removed the Deployment's pods" none_left pods app=smoke-deploy

k delete cronjob smoke-cron --wait=false >/dev/null
wait_until "GC removed the CronJob's Jobs" none_left jobs app=smoke-cron
wait_until "GC removed the Job's pods" none_left pods app=smoke-cron

k delete statefulset smoke-sts --wait=false >/dev/null
wait_until "GC removed the StatefulSet's pods" none_left pods app=smoke-sts

pvs="$(kubectl get pv -o jsonpath="{.items[?(@.spec.claimRef.namespace==\"$ns\")].metadata.name}")"
kubectl delete namespace "$ns" --wait=false >/dev/null
wait_until "namespace $ns deleted" bash -c "! kubectl get namespace $ns"
for pv in $pvs; do
  wait_until "PV $pv removed" bash -c "! kubectl get pv $pv"
done
log "PASS in $((SECONDS - start))s"
