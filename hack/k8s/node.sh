# shellcheck shell=bash disable=SC2154 # state, bindir, pki, here, node_name: set by up.sh
# hack/k8s/node.sh — the real-node half of up.sh (KCMF_K8S_NODE_MODE=real).
# Sourced by up.sh, which defines state, bindir, pki, here, node_name, log, die,
# start, start_cmd, wait_for and free_port. Not executable on its own.
#
# Owns, under the state dir: node/ (configs, undo records, pause image, IPAM
# data, pod logs), containerd/ (root, state, socket), kubelet/ (--root-dir),
# pv/NN (local PersistentVolume directories). VM-wide, while up and undone by
# node-down.sh: the bridge kcmf0 (10.244.0.1/24, plus a route for the Service
# CIDR over it), the iptables chain KCMF-FORWARD (drops bridge traffic that would
# leave the machine) and the KUBE-* chains of kube-proxy/kubelet (and the
# nf_tables tables iptables-nft creates for them, if they were not there),
# net.ipv4.ip_forward=1 (the value before is recorded), the cgroup /kcmf-node in
# every v1 hierarchy, and — only if missing before — the empty mount points
# /run/containerd, /var/lib/cni and /var/lib/kubelet.
#
# containerd and kubelet share ONE private mount namespace (unshare, then
# nsenter): tmpfs on /run/containerd, /var/lib/cni, /var/lib/kubelet and
# /var/log, and the kernel
# tunables kubelet checks bind-mounted with the values it wants, so kubelet's
# protectKernelDefaults passes without any VM-wide sysctl being written.

# shellcheck source=versions.env
source "$here/versions.env"

node_bridge=kcmf0
node_ip=10.244.0.1
node_pod_subnet=10.244.0.0/24
node_cluster_cidr=10.244.0.0/16
node_cgroup=kcmf-node
pause_image="localhost/pause:$PAUSE_VERSION"
nstate="$state/node"
ctd_dir="$state/containerd"
ctd_sock="$ctd_dir/containerd.sock"
local_pvs="${KCMF_K8S_LOCAL_PVS:-24}"
local_pv_size="${KCMF_K8S_LOCAL_PV_SIZE:-20Gi}"
# The tunables kubelet's setupKernelTunables (v1.35.8) checks, with the values
# it requires (component-helpers/node/util/sysctl).
node_sysctls=(
  vm/overcommit_memory=1
  vm/panic_on_oom=0
  kernel/panic=10
  kernel/panic_on_oops=1
  kernel/keys/root_maxkeys=1000000
  kernel/keys/root_maxbytes=25000000
)

# v1 cgroup hierarchies (mount points).
cgroup_v1_mounts() { awk '$3 == "cgroup" {print $2}' /proc/mounts; }

# Our chains, in iptables-save output of any table / family.
node_chains_present() {
  local save
  for save in iptables-save ip6tables-save iptables-legacy-save ip6tables-legacy-save; do
    command -v "$save" >/dev/null || continue
    "$save" 2>/dev/null | grep -qE '^:(KUBE-|CNI-|KCMF-)' && return 0
  done
  return 1
}

node_preflight() {
  local errs=() m
  [[ $EUID -eq 0 ]] || die "real node mode needs root"
  grep -qw overlay /proc/filesystems || errs+=("no overlay in /proc/filesystems (containerd's overlayfs snapshotter)")
  [[ "$(stat -fc %T /sys/fs/cgroup)" == tmpfs ]] ||
    errs+=("/sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup), not a cgroup v1 tmpfs (this mode is written for cgroup v1)")
  if ! { [[ -r /dev/kmsg ]] && timeout 2 dd if=/dev/kmsg of=/dev/null bs=16384 count=1 iflag=nonblock status=none; }; then
    errs+=("/dev/kmsg is not readable (kubelet's OOM watcher needs it)")
  fi
  # Pod -> ClusterIP -> pod on the same bridge is DNAT'ed by iptables only when bridged
  # traffic passes through it (no masquerading here).
  [[ "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)" == 1 ]] ||
    errs+=("net.bridge.bridge-nf-call-iptables is not 1 (br_netfilter): Services between pods would not work")
  if ((${#errs[@]})); then
    for m in "${errs[@]}"; do log "preflight: $m"; done
    die "preflight failed; the real node cannot run on this machine"
  fi
  "$here/node-deps.sh"
  ip link show "$node_bridge" >/dev/null 2>&1 && die "bridge $node_bridge exists already (not ours); remove it first"
  node_chains_present && die "KUBE-*/CNI-*/KCMF-* iptables chains exist already (not ours); refusing to start"
  for m in $(cgroup_v1_mounts); do
    [[ ! -e "$m/$node_cgroup" ]] || die "cgroup $m/$node_cgroup exists already; run hack/k8s/down.sh or remove it"
  done
  log "preflight: ok (overlay, cgroup v1, /dev/kmsg, packages)"
}

# Before the API server starts: bridge, forwarding, cgroups, mount points.
node_prepare() {
  local m d kv
  mkdir -p "$nstate"/{cni,ipam,pod-logs,sysctl} "$state/kubelet" "$ctd_dir"
  echo "$bindir" >"$nstate/bindir"

  cat /proc/sys/net/ipv4/ip_forward >"$nstate/ip_forward.orig"
  # The VM-wide values of the tunables kubelet checks: node-down.sh fails when any changed.
  for kv in "${node_sysctls[@]}"; do
    echo "${kv%%=*}=$(cat "/proc/sys/${kv%%=*}")"
  done >"$nstate/sysctl.orig"
  # nf_tables tables before (iptables-nft creates filter/nat/mangle on first use;
  # node-down.sh deletes the ones that were not there, once they are empty).
  nft list tables >"$nstate/nft-tables.before"
  ip link add "$node_bridge" type bridge
  echo "$node_bridge" >"$nstate/bridge"
  ip addr add "$node_ip/24" dev "$node_bridge"
  ip link set "$node_bridge" up
  # Service IPs from the host go over the bridge, never out of the default route.
  ip route add 10.96.0.0/16 dev "$node_bridge" src "$node_ip"
  # Pods talk to this machine only: nothing is forwarded between the bridge and
  # any other interface.
  iptables -w -N KCMF-FORWARD
  iptables -w -A KCMF-FORWARD -i "$node_bridge" ! -o "$node_bridge" -j DROP
  iptables -w -A KCMF-FORWARD -o "$node_bridge" ! -i "$node_bridge" -j DROP
  iptables -w -I FORWARD 1 -j KCMF-FORWARD
  # Routing Service traffic from a pod back onto the bridge needs forwarding.
  echo 1 >/proc/sys/net/ipv4/ip_forward

  : >"$nstate/cgroups"
  for m in $(cgroup_v1_mounts); do
    mkdir "$m/$node_cgroup"
    echo "$m/$node_cgroup" >>"$nstate/cgroups"
    if [[ -f "$m/cpuset.cpus" ]]; then
      cat "$m/cpuset.cpus" >"$m/$node_cgroup/cpuset.cpus"
      cat "$m/cpuset.mems" >"$m/$node_cgroup/cpuset.mems"
    fi
  done

  : >"$nstate/created-dirs"
  for d in /run/containerd /var/lib/cni /var/lib/kubelet; do
    if [[ ! -d "$d" ]]; then
      mkdir -p "$d"
      echo "$d" >>"$nstate/created-dirs"
    fi
  done

  for kv in "${node_sysctls[@]}"; do
    mkdir -p "$nstate/sysctl/$(dirname "${kv%%=*}")"
    echo "${kv#*=}" >"$nstate/sysctl/${kv%%=*}"
  done
  log "node: bridge $node_bridge $node_ip/24, cgroup /$node_cgroup, ip_forward 1 (was $(cat "$nstate/ip_forward.orig"))"
}

node_write_configs() {
  local kv
  kubelet_port="$(free_port)"
  kubelet_healthz_port="$(free_port)"
  proxy_healthz_port="$(free_port)"
  proxy_metrics_port="$(free_port)"
  dns_health_port="$(free_port)"
  dns_ready_port="$(free_port)"
  cat >>"$state/ports.env" <<EOF
KUBELET_PORT=$kubelet_port
KUBELET_HEALTHZ_PORT=$kubelet_healthz_port
KUBE_PROXY_HEALTHZ_PORT=$proxy_healthz_port
KUBE_PROXY_METRICS_PORT=$proxy_metrics_port
COREDNS_HEALTH_PORT=$dns_health_port
COREDNS_READY_PORT=$dns_ready_port
EOF

  cat >"$ctd_dir/config.toml" <<EOF
# Generated by hack/k8s/node.sh (containerd 1.6, config v2).
version = 2
root = "$ctd_dir/root"
state = "$ctd_dir/state"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$ctd_sock"
[ttrpc]
  address = "$ctd_dir/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$ctd_dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$nstate/cni"
    max_conf_num = 1
EOF

  cat >"$nstate/cni/10-kcmf.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kcmf",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$node_bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$nstate/ipam",
        "ranges": [[{"subnet": "$node_pod_subnet", "gateway": "$node_ip"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  # Inside the private mount namespace, then exec containerd.
  {
    echo "#!/bin/sh"
    echo "# Generated by hack/k8s/node.sh: mount setup of the node's private mount namespace."
    echo "set -eu"
    echo "mount -t tmpfs -o mode=0711 kcmf-containerd /run/containerd"
    echo "mount -t tmpfs -o mode=0755 kcmf-cni /var/lib/cni"
    echo "mount -t tmpfs -o mode=0755 kcmf-log /var/log"
    # kubelet's fixed device-plugin socket dir /var/lib/kubelet/device-plugins.
    echo "mount -t tmpfs -o mode=0755 kcmf-kubelet /var/lib/kubelet"
    for kv in "${node_sysctls[@]}"; do
      echo "mount --bind '$nstate/sysctl/${kv%%=*}' '/proc/sys/${kv%%=*}'"
      echo "mount -o remount,bind,ro '/proc/sys/${kv%%=*}'"
    done
    echo "exec /usr/bin/containerd --config '$ctd_dir/config.toml'"
  } >"$nstate/ns-setup.sh"

  echo "nameserver $node_ip" >"$nstate/resolv.conf"

  cat >"$nstate/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 host without systemd; never move processes that are not ours
# (no kubeletCgroups / systemCgroups / runtimeCgroups).
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$node_cgroup
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
# No CAP_SYS_RESOURCE: a negative oom_score_adj is refused.
oomScoreAdj: 0
# Checked against the values bind-mounted in the private mount namespace.
protectKernelDefaults: true
failSwapOn: false
containerRuntimeEndpoint: unix://$ctd_sock
imageServiceEndpoint: unix://$ctd_sock
podLogsDir: $nstate/pod-logs
address: $node_ip
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz_port
clusterDNS: [$node_ip]
clusterDomain: cluster.local
resolvConf: $nstate/resolv.conf
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization:
  mode: Webhook
rotateCertificates: false
serverTLSBootstrap: false
# A shared, sometimes nearly full disk: evict only at the very end, no image GC.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
  imagefs.inodesFree: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
kubeAPIQPS: 50
kubeAPIBurst: 100
EOF

  cat >"$nstate/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $pki/kube-proxy.kubeconfig
mode: iptables
hostnameOverride: $node_name
bindAddress: $node_ip
healthzBindAddress: 127.0.0.1:$proxy_healthz_port
metricsBindAddress: 127.0.0.1:$proxy_metrics_port
clusterCIDR: $node_cluster_cidr
nodePortAddresses: [$node_ip/32]
oomScoreAdj: 0
# Zero = leave the VM-wide conntrack sysctls alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  # true would set net.ipv4.conf.all.route_localnet=1 VM-wide.
  localhostNodePorts: false
EOF

  cat >"$nstate/Corefile" <<EOF
cluster.local:53 {
    bind $node_ip
    errors
    health 127.0.0.1:$dns_health_port
    ready 127.0.0.1:$dns_ready_port
    kubernetes cluster.local {
        kubeconfig $pki/coredns.kubeconfig kcmf-local
        pods insecure
        ttl 5
    }
    cache 5
    loadbalance
}
EOF
}

node_start() {
  local ctd_pid
  node_write_configs

  # pause image for the pod sandboxes (no registry reachable).
  mkdir -p "$nstate/pause-layer"
  install -m 0755 "$bindir/pause" "$nstate/pause-layer/pause"
  python3 "$here/../images/oci-image.py" --tag "$pause_image" --layer-dir "$nstate/pause-layer" \
    --entrypoint '["/pause"]' --user 65535:65535 --out "$nstate/pause.oci.tar" 2>>"$state/logs/images.log"

  start_cmd containerd /usr/bin/containerd \
    unshare --mount --propagation private -- /bin/sh "$nstate/ns-setup.sh"
  ctd_pid="$(awk '$1 == "containerd" {print $2}' "$state/pids")"
  readlink "/proc/$ctd_pid/ns/mnt" >"$nstate/mntns"
  wait_for "containerd socket" ctr -a "$ctd_sock" version
  ctr -a "$ctd_sock" -n k8s.io images import --all-platforms "$nstate/pause.oci.tar" >>"$state/logs/images.log" 2>&1
  log "imported $pause_image"

  start_cmd kubelet "$bindir/kubelet" \
    nsenter -t "$ctd_pid" -m -- "$bindir/kubelet" \
    --config="$nstate/kubelet.yaml" \
    --kubeconfig="$pki/kubelet.kubeconfig" \
    --root-dir="$state/kubelet" \
    --cert-dir="$state/kubelet/pki" \
    --hostname-override="$node_name" \
    --node-ip="$node_ip" \
    --node-labels=topology.kubernetes.io/zone=kcmf-local \
    --v=1

  start kube-proxy kube-proxy --config="$nstate/kube-proxy.yaml"
  start coredns coredns -conf "$nstate/Corefile"

  start_cmd pv-recycler /bin/bash /bin/bash "$here/node-pv-recycler.sh" "$state"

  wait_for "kubelet /healthz" curl -sf "http://127.0.0.1:$kubelet_healthz_port/healthz"
  wait_for "kube-proxy /healthz" curl -sf "http://127.0.0.1:$proxy_healthz_port/healthz"
  wait_for "coredns /ready" curl -sf "http://127.0.0.1:$dns_ready_port/ready"

  node_local_storage
}

# Static local PersistentVolumes (local volumes apply fsGroup; hostPath does not)
# and the default StorageClass `local`. Released PVs are wiped and made
# Available again by node-pv-recycler.sh.
node_local_storage() {
  local i n
  {
    cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
EOF
    for ((i = 0; i < local_pvs; i++)); do
      printf -v n '%02d' "$i"
      mkdir -p "$state/pv/$n"
      cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: kcmf-local-$n
  labels:
    kcmf.local/local-pv: "true"
spec:
  capacity:
    storage: $local_pv_size
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local
  volumeMode: Filesystem
  local:
    path: $state/pv/$n
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - key: kubernetes.io/hostname
          operator: In
          values: [$node_name]
EOF
    done
  } | kubectl apply -f - >/dev/null
  log "storage: default StorageClass local, $local_pvs local PVs of $local_pv_size in $state/pv"
}
