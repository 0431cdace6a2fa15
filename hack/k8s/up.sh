#!/usr/bin/env bash
# hack/k8s/up.sh — starts the local Kubernetes control plane for tests.
#
# Owns the state dir ${KCMF_K8S_STATE:-/tmp/kcmf-k8s}:
#   pki/          CA, apiserver serving cert, service-account key pair (openssl)
#   etcd/         etcd data (--unsafe-no-fsync)
#   logs/         one log per component
#   pids          "<name> <pid> <binary>" of every process started, in start order
#   ports.env     the loopback ports picked (free ports, chosen on first start)
#   kubeconfig    admin kubeconfig (static token in system:masters)
#   env.sh        `source` it: exports KUBECONFIG and PATH (bin dir first)
# Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
# (fake node + pod/volume lifecycle stages), all on 127.0.0.1, registers one
# fake Node and waits until /readyz is OK, the node is Ready and untainted and
# the `default` ServiceAccount exists. PVCs are provisioned and bound by kwok's
# volume stages through the default StorageClass `kwok-volume`.
#
# KCMF_K8S_NODE_MODE=real: same control plane, but instead of kwok a real node
# (containerd + runc + CNI bridge + kubelet + kube-proxy + CoreDNS) where pods
# really run; see node.sh (setup) and node-down.sh (teardown). The API server
# then listens on the bridge address 10.244.0.1 (reachable from pods), and the
# default StorageClass is `local` (static local PVs).
# If the cluster in the state dir is already up and healthy it returns at once.
# Stop it with hack/k8s/down.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="${KCMF_K8S_STATE:-/tmp/kcmf-k8s}"
mode="${KCMF_K8S_NODE_MODE:-kwok}"
if [[ "$mode" == real ]]; then
  node_name="${KCMF_K8S_NODE:-kcmf-node-0}"
else
  node_name="${KCMF_K8S_NODE:-kwok-node-0}"
fi
timeout="${KCMF_K8S_TIMEOUT:-180}"

log() { echo "up.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Is every recorded process alive (and still the binary we started)?
pids_alive() {
  local name pid exe
  [[ -s "$state/pids" ]] || return 1
  while read -r name pid exe; do
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" | head -n1 | grep -qxF "$exe" || return 1
  done <"$state/pids"
}

healthy() {
  [[ -f "$state/env.sh" && -f "$state/kubeconfig" ]] || return 1
  [[ "$(cat "$state/mode" 2>/dev/null || echo kwok)" == "$mode" ]] || return 1
  pids_alive || return 1
  # shellcheck source=/dev/null
  (source "$state/env.sh" &&
    kubectl get --raw=/readyz >/dev/null 2>&1 &&
    [[ "$(kubectl get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]])
}

case "$mode" in
  kwok | real) ;;
  *) die "KCMF_K8S_NODE_MODE must be kwok or real, not '$mode'" ;;
esac

bindir="$("$here/build.sh" | tail -n1)"

# One up.sh per state dir at a time (the lock file lives next to the state dir).
mkdir -p "$(dirname "$state")"
exec 8>"$state.lock"
flock 8
[[ -x "$bindir/kube-apiserver" ]] || die "build.sh did not produce binaries"
stages_file="$(dirname "$bindir")/kwok-stages.yaml"

if healthy; then
  log "already up (state $state)"
  echo "$state/env.sh"
  exit 0
fi
# Never tear down a live cluster of the other mode (someone is using it).
running_mode="$(cat "$state/mode" 2>/dev/null || echo kwok)"
if [[ -e "$state" && "$running_mode" != "$mode" ]] && pids_alive; then
  die "a $running_mode-mode cluster is running in $state; stop it first (hack/k8s/down.sh) or use another KCMF_K8S_STATE"
fi
if [[ -e "$state" ]]; then
  log "stale state in $state; cleaning it up first"
  "$here/down.sh"
fi
if [[ "$mode" == real ]]; then
  # shellcheck source=node.sh
  source "$here/node.sh"
  node_preflight
fi

mkdir -p "$state"/{pki,etcd,logs}
chmod 700 "$state" "$state/etcd"
: >"$state/pids"
echo "$mode" >"$state/mode"

# ---------------------------------------------------------------- ports
used_ports=" "
# Ports are picked below the kernel's ephemeral range: a port in it that nothing listens on
# can still be taken by an outgoing connection before the component binds it (etcd failed
# a CI run so: "bind: address already in use" on 47574, inside 32768-60999). A port is
# free when no socket at all, listening or connected, uses it.
ephemeral_low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
port_span=$((ephemeral_low - 20000))
((port_span >= 1000)) || port_span=10000
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % port_span))
    [[ "$used_ports" == *" $p "* ]] && continue
    if [[ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]]; then
      used_ports+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}
etcd_port="${KCMF_K8S_ETCD_PORT:-$(free_port)}"
etcd_peer_port="$(free_port)"
api_port="${KCMF_K8S_API_PORT:-$(free_port)}"
kcm_port="$(free_port)"
sched_port="$(free_port)"
kwok_port="$(free_port)"
cat >"$state/ports.env" <<EOF
ETCD_PORT=$etcd_port
ETCD_PEER_PORT=$etcd_peer_port
APISERVER_PORT=$api_port
KCM_PORT=$kcm_port
SCHEDULER_PORT=$sched_port
KWOK_PORT=$kwok_port
EOF

# ---------------------------------------------------------------- PKI
pki="$state/pki"
service_cidr="10.96.0.0/16"
service_ip="10.96.0.1"
# kwok: everything on loopback. real: the API server on the bridge address,
# which pods reach (and the `kubernetes` Service's endpoint).
api_ip=127.0.0.1
extra_san=""
if [[ "$mode" == real ]]; then
  api_ip=10.244.0.1
  extra_san=",IP:$api_ip"
fi
log "generating PKI in $pki"
(
  cd "$pki"
  exec 2>"$state/logs/openssl.log"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj "/CN=kcmf-local-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
  cat >apiserver.ext <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$service_ip$extra_san
EOF
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out apiserver.crt -days 3650 -extfile apiserver.ext
  # Aggregation layer (requestheader): own CA + client cert, as kubeadm does.
  openssl req -x509 -newkey rsa:2048 -nodes -keyout front-proxy-ca.key -out front-proxy-ca.crt \
    -days 3650 -subj "/CN=kcmf-front-proxy-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=clientAuth" >front-proxy-client.ext
  openssl req -newkey rsa:2048 -nodes -keyout front-proxy-client.key -out front-proxy-client.csr \
    -subj "/CN=front-proxy-client"
  openssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key \
    -CAcreateserial -out front-proxy-client.crt -days 3650 -extfile front-proxy-client.ext
  if [[ "$mode" == real ]]; then
    # API server -> kubelet (logs, exec): client cert in system:masters.
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=clientAuth" >kubelet-client.ext
    openssl req -newkey rsa:2048 -nodes -keyout kubelet-client.key -out kubelet-client.csr \
      -subj "/O=system:masters/CN=kcmf-apiserver-kubelet-client"
    openssl x509 -req -in kubelet-client.csr -CA ca.crt -CAkey ca.key \
      -CAcreateserial -out kubelet-client.crt -days 3650 -extfile kubelet-client.ext
  fi
  openssl genrsa -out sa.key 2048
  openssl rsa -in sa.key -pubout -out sa.pub
  chmod 600 ./*.key
)

# Static tokens: everything we run is in system:masters (a test cluster).
token() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
admin_token="$(token)"
kcm_token="$(token)"
sched_token="$(token)"
kwok_token="$(token)"
cat >"$pki/tokens.csv" <<EOF
$admin_token,kcmf-admin,kcmf-admin,"system:masters"
$kcm_token,kcmf-kube-controller-manager,kcmf-kcm,"system:masters"
$sched_token,kcmf-kube-scheduler,kcmf-scheduler,"system:masters"
$kwok_token,kcmf-kwok,kcmf-kwok,"system:masters"
EOF
if [[ "$mode" == real ]]; then
  kubelet_token="$(token)"
  proxy_token="$(token)"
  coredns_token="$(token)"
  cat >>"$pki/tokens.csv" <<EOF
$kubelet_token,kcmf-kubelet,kcmf-kubelet,"system:masters"
$proxy_token,kcmf-kube-proxy,kcmf-kube-proxy,"system:masters"
$coredns_token,kcmf-coredns,kcmf-coredns,"system:masters"
EOF
fi
chmod 600 "$pki/tokens.csv"

server="https://$api_ip:$api_port"
ca_data="$(base64 -w0 <"$pki/ca.crt")"
kubeconfig() { # <file> <user> <token>
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kcmf-local
  cluster:
    server: $server
    certificate-authority-data: $ca_data
users:
- name: $2
  user:
    token: $3
contexts:
- name: kcmf-local
  context:
    cluster: kcmf-local
    user: $2
    namespace: default
current-context: kcmf-local
EOF
  chmod 600 "$1"
}
kubeconfig "$state/kubeconfig" kcmf-admin "$admin_token"
kubeconfig "$pki/kcm.kubeconfig" kcmf-kube-controller-manager "$kcm_token"
kubeconfig "$pki/scheduler.kubeconfig" kcmf-kube-scheduler "$sched_token"
kubeconfig "$pki/kwok.kubeconfig" kcmf-kwok "$kwok_token"
if [[ "$mode" == real ]]; then
  kubeconfig "$pki/kubelet.kubeconfig" kcmf-kubelet "$kubelet_token"
  kubeconfig "$pki/kube-proxy.kubeconfig" kcmf-kube-proxy "$proxy_token"
  kubeconfig "$pki/coredns.kubeconfig" kcmf-coredns "$coredns_token"
fi

cat >"$state/env.sh" <<EOF
# Generated by hack/k8s/up.sh — source me.
export KUBECONFIG="$state/kubeconfig"
export PATH="$bindir:\$PATH"
export KCMF_K8S_STATE="$state"
export KCMF_K8S_BIN="$bindir"
export KCMF_K8S_API_SERVER="$server"
export KCMF_K8S_NODE_MODE="$mode"
EOF
if [[ "$mode" == real ]]; then
  cat >>"$state/env.sh" <<EOF
export KCMF_K8S_CONTAINERD_SOCK="$state/containerd/containerd.sock"
# Images: hack/k8s/load-image.sh <oci-tar>...  Inspect the node's containerd with
#   ctr -a "\$KCMF_K8S_CONTAINERD_SOCK" -n k8s.io images ls   (or: containers ls, tasks ls)
EOF
fi
export KUBECONFIG="$state/kubeconfig"
export PATH="$bindir:$PATH"

# ---------------------------------------------------------------- processes
start() { # <name> <binary> args...
  local name="$1" exe="$bindir/$2"
  shift 2
  start_cmd "$name" "$exe" "$exe" "$@"
}

# start_cmd <name> <exe> <command...>: as start, for a command that ends up
# exec'ing <exe> in the same process (unshare/nsenter wrappers).
start_cmd() {
  local name="$1" exe="$2"
  shift 2
  setsid "$@" </dev/null >>"$state/logs/$name.log" 2>&1 8>&- &
  local pid=$! tries=0
  # Wait until the fork has exec'd the binary: until then /proc/<pid>/cmdline
  # still reads "bash" or "setsid", and pids_alive would take it for dead
  # (a race that failed CI on a loaded machine).
  until tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1 | grep -qxF "$exe"; do
    kill -0 "$pid" 2>/dev/null || die "$name exited at start; see $state/logs/$name.log"
    ((++tries < 200)) || die "$name (pid $pid) did not exec $exe within 10s"
    sleep 0.05
  done
  echo "$name $pid $exe" >>"$state/pids"
  log "started $name (pid $pid)"
}

on_fail() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    log "FAILED (rc $rc); logs in $state/logs. Last lines:"
    tail -n 5 "$state"/logs/*.log >&2 || true
    KEEP_LOGS=1 "$here/down.sh" || true
  fi
}
trap on_fail EXIT
if [[ "$mode" == real ]]; then
  node_prepare
fi

# wait_for <what> <command...>: poll until the command succeeds.
wait_for() {
  local what="$1" deadline=$((SECONDS + timeout))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what"
    pids_alive || die "a component exited while waiting for $what"
    sleep 0.5
  done
  log "$what: ok"
}

start etcd etcd \
  --name=kcmf \
  --data-dir="$state/etcd" \
  --listen-client-urls="http://127.0.0.1:$etcd_port" \
  --advertise-client-urls="http://127.0.0.1:$etcd_port" \
  --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster="kcmf=http://127.0.0.1:$etcd_peer_port" \
  --unsafe-no-fsync=true \
  --log-level=warn
wait_for "etcd /health" curl -sf "http://127.0.0.1:$etcd_port/health"

api_mode_args=(--endpoint-reconciler-type=none)
if [[ "$mode" == real ]]; then
  # lease: publish the `kubernetes` Service endpoint (10.96.0.1:443 -> $api_ip).
  api_mode_args=(--endpoint-reconciler-type=lease
    --kubelet-client-certificate="$pki/kubelet-client.crt"
    --kubelet-client-key="$pki/kubelet-client.key"
    --kubelet-preferred-address-types=InternalIP)
fi
start kube-apiserver kube-apiserver \
  --bind-address="$api_ip" \
  --advertise-address="$api_ip" \
  --secure-port="$api_port" \
  --etcd-servers="http://127.0.0.1:$etcd_port" \
  --tls-cert-file="$pki/apiserver.crt" \
  --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" \
  --token-auth-file="$pki/tokens.csv" \
  --requestheader-client-ca-file="$pki/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User \
  --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$pki/front-proxy-client.crt" \
  --proxy-client-key-file="$pki/front-proxy-client.key" \
  --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$pki/sa.pub" \
  --service-account-signing-key-file="$pki/sa.key" \
  --service-cluster-ip-range="$service_cidr" \
  "${api_mode_args[@]}" \
  --allow-privileged=true \
  --profiling=false
wait_for "kube-apiserver /readyz" kubectl get --raw=/readyz

# Client QPS and sync concurrency as scale-test clusters set them (defaults are
# 20 qps / 5 workers): with 100 KcmfDeployments the controller-manager has to
# write ~2,000 objects (ReplicaSets, Pods, PVCs, EndpointSlices) and would
# otherwise throttle itself, not the operator, for over a minute.
start kube-controller-manager kube-controller-manager \
  --kubeconfig="$pki/kcm.kubeconfig" \
  --authentication-kubeconfig="$pki/kcm.kubeconfig" \
  --authorization-kubeconfig="$pki/kcm.kubeconfig" \
  --bind-address=127.0.0.1 \
  --secure-port="$kcm_port" \
  --leader-elect=false \
  --controllers='*' \
  --service-account-private-key-file="$pki/sa.key" \
  --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" \
  --cluster-signing-key-file="$pki/ca.key" \
  --service-cluster-ip-range="$service_cidr" \
  --kube-api-qps=200 --kube-api-burst=400 \
  --concurrent-deployment-syncs=10 --concurrent-replicaset-syncs=10 \
  --concurrent-statefulset-syncs=20 \
  --profiling=false

start kube-scheduler kube-scheduler \
  --kubeconfig="$pki/scheduler.kubeconfig" \
  --authentication-kubeconfig="$pki/scheduler.kubeconfig" \
  --authorization-kubeconfig="$pki/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 \
  --secure-port="$sched_port" \
  --leader-elect=false \
  --kube-api-qps=200 --kube-api-burst=400 \
  --profiling=false

if [[ "$mode" == kwok ]]; then
  # Only Stage objects in the config: a KwokConfiguration given there is taken
  # without defaults (kwok v0.8.0 then fails: "node leases parallelism must be
  # greater than 0"), so options go in as flags.
  cp "$stages_file" "$state/kwok.yaml"
  start kwok kwok \
    --kubeconfig="$pki/kwok.kubeconfig" \
    --config="$state/kwok.yaml" \
    --manage-all-nodes=true \
    --node-lease-duration-seconds=40 \
    --cidr=10.244.0.0/16 \
    --node-ip=10.0.0.1 \
    --server-address="127.0.0.1:$kwok_port"
fi

wait_for "kube-controller-manager /healthz" curl -skf "https://127.0.0.1:$kcm_port/healthz"
wait_for "kube-scheduler /healthz" curl -skf "https://127.0.0.1:$sched_port/healthz"
if [[ "$mode" == kwok ]]; then
  wait_for "kwok /healthz" curl -sf "http://127.0.0.1:$kwok_port/healthz"

  # Default StorageClass served by kwok's volume stages (pvc-provision / pv-bind):
  # same object as kwok's kustomize/stage/volume/fast/storage-class.yaml.
  kubectl apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: kwok-volume
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kwok.x-k8s.io/volume
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF

  # The fake node. kwok's node-initialize stage fills in conditions/addresses and
  # keeps the capacity given here; the lease keeps it Ready.
  kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $node_name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: $node_name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: kcmf-local
spec:
  providerID: kwok://$node_name
status:
  capacity:
    cpu: "32"
    memory: 256Gi
    pods: "250"
    ephemeral-storage: 1Ti
  allocatable:
    cpu: "32"
    memory: 256Gi
    pods: "250"
    ephemeral-storage: 1Ti
EOF
else
  node_start
fi

node_ready() {
  [[ "$(kubectl get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
node_untainted() {
  ! kubectl get node "$node_name" -o jsonpath='{.spec.taints[*].key}' | grep -q 'node.kubernetes.io/not-ready'
}
wait_for "node $node_name Ready" node_ready
wait_for "node $node_name without not-ready taint" node_untainted
wait_for "ServiceAccount default/default" kubectl -n default get serviceaccount default

log "cluster up: $server (state $state)"
log "use: source $state/env.sh"
echo "$state/env.sh"
