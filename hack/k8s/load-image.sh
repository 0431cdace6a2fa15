#!/usr/bin/env bash
# hack/k8s/load-image.sh <oci-tar>... — imports image tars (OCI layout or
# docker-archive, e.g. from hack/images/oci-image.py) into the containerd of the
# running real node (KCMF_K8S_NODE_MODE=real hack/k8s/up.sh), namespace k8s.io,
# where kubelet finds them (use a tag other than :latest, or
# imagePullPolicy: IfNotPresent/Never: no registry is reachable).
set -euo pipefail

state="${KCMF_K8S_STATE:-/tmp/kcmf-k8s}"
sock="${KCMF_K8S_CONTAINERD_SOCK:-$state/containerd/containerd.sock}"

die() { echo "load-image.sh: ERROR: $*" >&2; exit 1; }

(($# > 0)) || die "usage: $0 <oci-tar>..."
[[ -S "$sock" ]] || die "no containerd socket at $sock (is the cluster up with KCMF_K8S_NODE_MODE=real?)"
for f in "$@"; do
  [[ -f "$f" ]] || die "$f: no such file"
  ctr -a "$sock" -n k8s.io images import --all-platforms "$f" >&2
done
