#!/usr/bin/env bash
# hack/k8s/node-smoke.sh — end-to-end check of the real-node mode.
#
# Starts (or reuses) `KCMF_K8S_NODE_MODE=real hack/k8s/up.sh`, builds a tiny
# busybox image (Debian busybox-static, via hack/images/oci-image.py), imports
# it with load-image.sh and checks, in namespace kcmf-node-smoke:
#   - a pod becomes Ready through a real HTTP readiness probe (busybox httpd);
#     create -> Ready latency is printed
#   - a Service resolves by NAME through CoreDNS from another pod and answers
#   - the Service's ClusterIP answers from the host (kube-proxy iptables rules)
#   - kubectl logs and kubectl exec work
#   - a pod running as uid 70 with fsGroup 70 writes to a PVC of class `local`;
#     after the PVC is deleted its PV becomes Available again (pv-recycler)
#   - deleting a Deployment removes its pods
# Then (unless NODE_SMOKE_KEEP=1) runs down.sh and verifies that nothing is
# left: bridge, KUBE-*/CNI-*/KCMF-* chains, nf_tables tables, cgroups, mounts,
# processes, and that
# ip_forward / vm.overcommit_memory / kernel.panic / kernel.panic_on_oops have
# the values they had before up.sh.
# Work dir ${KCMF_CACHE_DIR:-~/.cache/kcmf}/node-smoke keeps only busybox.oci.tar (~2 MB).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="${KCMF_K8S_STATE:-/tmp/kcmf-k8s}"
export KCMF_K8S_STATE="$state"
work="${KCMF_CACHE_DIR:-$HOME/.cache/kcmf}/node-smoke"
ns=kcmf-node-smoke
image=localhost/kcmf-busybox:1.35.0

log() { echo "node-smoke.sh: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
pass() { log "ok: $*"; }

sysctl_keys=(net/ipv4/ip_forward vm/overcommit_memory kernel/panic kernel/panic_on_oops)
declare -A before
for k in "${sysctl_keys[@]}"; do before[$k]="$(cat "/proc/sys/$k")"; done

# ------------------------------------------------------------------ cluster
env_sh="$(KCMF_K8S_NODE_MODE=real "$here/up.sh" | tail -n1)"
# shellcheck source=/dev/null
source "$env_sh"
[[ "${KCMF_K8S_NODE_MODE:-}" == real ]] || fail "cluster in $state is not in real mode"
# up.sh may have been up already: take ip_forward's value from its record.
before[net/ipv4/ip_forward]="$(cat "$state/node/ip_forward.orig")"
created_dirs="$(cat "$state/node/created-dirs")"
nft_before="$(cat "$state/node/nft-tables.before")"

# ------------------------------------------------------------------ image
mkdir -p "$work"
trap 'rm -rf "$work/root" "$work/deb"' EXIT
if [[ ! -f "$work/busybox.oci.tar" ]]; then
  rm -rf "$work/root" "$work/deb"
  mkdir -p "$work/deb"
  (cd "$work/deb" && apt-get download busybox-static >/dev/null 2>&1) ||
    fail "apt-get download busybox-static"
  dpkg-deb -x "$work"/deb/busybox-static_*.deb "$work/deb/x"
  r="$work/root"
  mkdir -p "$r"/{bin,etc,tmp,www,data}
  chmod 1777 "$r/tmp"
  install -m 0755 "$work/deb/x/bin/busybox" "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do
    [[ "$a" == busybox ]] || ln -s busybox "$r/bin/$a"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'postgres:x:70:70:postgres:/tmp:/bin/sh' \
    'nobody:x:65534:65534:nobody:/:/bin/false' >"$r/etc/passwd"
  printf '%s\n' 'root:x:0:' 'postgres:x:70:' 'nogroup:x:65534:' >"$r/etc/group"
  echo kcmf-node-smoke-ok >"$r/www/index.html"
  echo 'hosts: files dns' >"$r/etc/nsswitch.conf"
  python3 "$here/../images/oci-image.py" --tag "$image" --layer-dir "$r" \
    --cmd '["/bin/sh"]' --workdir / --out "$work/busybox.oci.tar"
  rm -rf "$work/root" "$work/deb"
fi
"$here/load-image.sh" "$work/busybox.oci.tar"
pass "image $image imported"

# ------------------------------------------------------------------ workloads
kubectl delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
kubectl create namespace "$ns" >/dev/null
kubectl -n "$ns" wait --for=jsonpath='{.metadata.name}'=default serviceaccount/default --timeout=60s >/dev/null 2>&1 ||
  sleep 2

# 1. Pod start latency: create -> Ready (readiness probe = HTTP GET on httpd).
t0="$(date +%s.%N)"
kubectl -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: probe
  labels: {app: probe}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: $image
    imagePullPolicy: Never
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
EOF
kubectl -n "$ns" wait --for=condition=Ready pod/probe --timeout=120s >/dev/null ||
  fail "pod probe not Ready (kubectl -n $ns describe pod probe)"
t1="$(date +%s.%N)"
latency="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')"
pass "pod create -> Ready (HTTP readiness probe): ${latency}s"

# 2. Deployment + Service, and a client pod.
kubectl -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: $image
        imagePullPolicy: Never
        command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
        ports: [{containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: sh
    image: $image
    imagePullPolicy: Never
    command: ["sh", "-c", "echo kcmf-log-marker; trap 'exit 0' TERM; while :; do sleep 1; done"]
EOF
t0="$(date +%s.%N)"
kubectl -n "$ns" rollout status deployment/web --timeout=120s >/dev/null || fail "deployment web not available"
t1="$(date +%s.%N)"
pass "deployment web (2 replicas) available in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')s"
kubectl -n "$ns" wait --for=condition=Ready pod/client --timeout=120s >/dev/null || fail "pod client not Ready"

# 3. Service by name through CoreDNS, from another pod (also: kubectl exec).
# (busybox 1.35's `wget -T` segfaults: `timeout` instead.)
url="http://web.$ns.svc.cluster.local/"
ok=""
for _ in $(seq 1 20); do
  if out="$(kubectl -n "$ns" exec client -- timeout 5 wget -qO- "$url" 2>&1)" && [[ "$out" == kcmf-node-smoke-ok ]]; then
    ok=1
    break
  fi
  sleep 1
done
[[ -n "$ok" ]] || fail "wget $url from pod client: $out"
pass "kubectl exec + CoreDNS: $url answered from pod client"
kubectl -n "$ns" exec client -- nslookup "kubernetes.default.svc.cluster.local" 10.244.0.1 2>/dev/null |
  grep -q 10.96.0.1 || fail "nslookup kubernetes.default from pod client"
pass "CoreDNS: kubernetes.default.svc.cluster.local -> 10.96.0.1"
# The API server through the `kubernetes` Service (10.96.0.1:443) from a pod:
# busybox's TLS client lacks the API server's ciphers, so a TLS alert FROM THE
# PEER (the API server answering the handshake) counts as reached.
out="$(kubectl -n "$ns" exec client -- sh -c 'timeout 5 wget -qO- --no-check-certificate https://10.96.0.1/livez 2>&1 || true')"
grep -qE '^ok$|from peer' <<<"$out" || fail "https://10.96.0.1/livez from pod client: $out"
pass "API server answers a pod at 10.96.0.1:443 (the kubernetes Service endpoint)"

# 4. ClusterIP from the host (kube-proxy).
cip="$(kubectl -n "$ns" get service web -o jsonpath='{.spec.clusterIP}')"
out="$(curl -s --max-time 5 "http://$cip/" || true)"
[[ "$out" == kcmf-node-smoke-ok ]] || fail "curl http://$cip/ from the host: '$out'"
pass "ClusterIP $cip answers from the host"

# 5. kubectl logs.
kubectl -n "$ns" logs client | grep -q kcmf-log-marker || fail "kubectl logs client"
pass "kubectl logs"

# 6. PVC on the `local` class, uid 70 / fsGroup 70 (as the PostgreSQL pod runs).
kubectl -n "$ns" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  storageClassName: local
  accessModes: [ReadWriteOnce]
  resources:
    requests: {storage: 1Gi}
---
apiVersion: v1
kind: Pod
metadata:
  name: pvc
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 70, runAsGroup: 70, fsGroup: 70}
  containers:
  - name: sh
    image: $image
    imagePullPolicy: Never
    command: ["sh", "-c", "echo written-by-70 > /data/f && trap 'exit 0' TERM; while :; do sleep 1; done"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
EOF
kubectl -n "$ns" wait --for=condition=Ready pod/pvc --timeout=120s >/dev/null || fail "pod pvc not Ready"
out="$(kubectl -n "$ns" exec pvc -- sh -c 'id -u; stat -c %g /data; cat /data/f')"
[[ "$(tr '\n' ' ' <<<"$out")" == "70 70 written-by-70 " ]] || fail "PVC as uid 70/fsGroup 70: '$out'"
pv="$(kubectl -n "$ns" get pvc data -o jsonpath='{.spec.volumeName}')"
pass "uid 70 with fsGroup 70 writes to PVC data (PV $pv, class local)"
kubectl -n "$ns" delete pod pvc --wait=true >/dev/null
kubectl -n "$ns" delete pvc data --wait=true >/dev/null
for _ in $(seq 1 60); do
  [[ "$(kubectl get pv "$pv" -o jsonpath='{.status.phase}')" == Available ]] && break
  sleep 1
done
[[ "$(kubectl get pv "$pv" -o jsonpath='{.status.phase}')" == Available ]] ||
  fail "PV $pv not Available again after its PVC was deleted"
pass "PV $pv recycled to Available"

# 7. Deleting a Deployment removes its pods.
kubectl -n "$ns" delete deployment web --wait=true >/dev/null
for _ in $(seq 1 60); do
  [[ -z "$(kubectl -n "$ns" get pods -l app=web -o name)" ]] && break
  sleep 1
done
[[ -z "$(kubectl -n "$ns" get pods -l app=web -o name)" ]] || fail "pods of deleted deployment web remain"
pass "deployment deleted: its pods are gone"

kubectl delete namespace "$ns" --wait=false >/dev/null
log "pod start latency (create -> Ready): ${latency}s"

if [[ "${NODE_SMOKE_KEEP:-0}" == 1 ]]; then
  log "NODE_SMOKE_KEEP=1: cluster left running"
  exit 0
fi

# ------------------------------------------------------------------ teardown
bindir="$KCMF_K8S_BIN"
mntns="$(cat "$state/node/mntns")"
"$here/down.sh"

errs=0
bad() { log "FAIL after down.sh: $*"; errs=$((errs + 1)); }
ip link show kcmf0 >/dev/null 2>&1 && bad "bridge kcmf0 still exists"
for save in iptables-save ip6tables-save iptables-legacy-save ip6tables-legacy-save; do
  command -v "$save" >/dev/null || continue
  if "$save" 2>/dev/null | grep -qE '^:(KUBE-|CNI-|KCMF-)'; then bad "$save still lists KUBE-/CNI-/KCMF- chains"; fi
done
[[ "$(nft list tables)" == "$nft_before" ]] || bad "nf_tables tables differ from before up.sh: $(nft list tables | tr '\n' ' ')"
for k in "${sysctl_keys[@]}"; do
  now="$(cat "/proc/sys/$k")"
  [[ "$now" == "${before[$k]}" ]] || bad "$k is $now, was ${before[$k]}"
done
while read -r m; do
  [[ ! -e "$m/kcmf-node" ]] || bad "cgroup $m/kcmf-node still exists"
done < <(awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/mounts)
if awk -v s="$state" 'index($2, s) == 1' /proc/mounts | grep -q .; then bad "mounts left under $state"; fi
for d in $created_dirs; do [[ ! -e "$d" ]] || bad "$d (created by up.sh) still exists"; done
for p in /proc/[0-9]*; do
  exe="$(readlink "$p/exe" 2>/dev/null || true)"
  case "$exe" in
    "$bindir/kubelet" | "$bindir/kube-proxy" | "$bindir/coredns") bad "${exe##*/} still running (${p#/proc/})" ;;
  esac
  if [[ "$(readlink "$p/ns/mnt" 2>/dev/null)" == "$mntns" ]]; then bad "process ${p#/proc/} ($exe) still in the node mount namespace"; fi
  if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$state/"; then
    bad "process ${p#/proc/} still refers to $state: $(tr '\0' ' ' <"$p/cmdline" | cut -c1-120)"
  fi
done
[[ ! -e "$state" ]] || bad "$state still exists"
((errs == 0)) || fail "$errs teardown check(s) failed"
pass "down.sh left nothing behind (bridge, chains, sysctls, cgroups, mounts, dirs, processes)"
log "PASS (pod start latency ${latency}s)"
