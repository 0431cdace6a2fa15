#!/usr/bin/env bash
# hack/k8s/build.sh — builds the local control-plane binaries from Go modules.
#
# Owns: the binary cache ${KCMF_CACHE_DIR:-$HOME/.cache/kcmf}/k8s/<kube-version>-<hash>/bin
# with etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
# kwok and helm, plus the real-node binaries (KCMF_K8S_NODE_MODE=real): kubelet,
# kube-proxy, coredns and pause (build/pause/linux/pause.c of k8s.io/kubernetes,
# gcc -Os -static). <hash> covers versions.env and the helper modules under
# tools/ (go.mod, go.sum, etcd/main.go, coredns/main.go), so a version bump
# lands in a fresh directory.
# If every binary is already there it returns at once.
#
# Builds with the machine's Go (GOTOOLCHAIN=local), CGO_ENABLED=0, -trimpath,
# version-stamping ldflags, under `nice -n 15` (Rust builds run concurrently).
# All build chatter goes to stderr; the LAST stdout line is the bin dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/tools"

# shellcheck source=versions.env
source "$here/versions.env"
export GOTOOLCHAIN CGO_ENABLED=0 GOFLAGS=-mod=readonly

bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm
  kubelet kube-proxy coredns pause)

hash="$(cat "$here/versions.env" \
  "$tools/go.mod" "$tools/go.sum" "$tools/etcd/main.go" \
  "$tools/kwok/go.mod" "$tools/kwok/go.sum" \
  "$tools/helm/go.mod" "$tools/helm/go.sum" \
  "$tools/coredns/go.mod" "$tools/coredns/go.sum" "$tools/coredns/main.go" | sha256sum | cut -c1-12)"
cache_root="${KCMF_CACHE_DIR:-$HOME/.cache/kcmf}/k8s"
dest="$cache_root/${KUBE_VERSION}-${hash}"
bindir="$dest/bin"

complete() {
  local b
  for b in "${bins[@]}"; do [[ -x "$bindir/$b" ]] || return 1; done
  [[ -f "$dest/.complete" && -f "$dest/kwok-stages.yaml" ]]
}

if complete; then
  echo "$bindir"
  exit 0
fi

mkdir -p "$dest"
# One builder per cache dir; a second caller waits, then finds the result.
exec 9>"$dest/.lock"
if ! flock -n 9; then
  echo "build.sh: another build of $dest is running; waiting..." >&2
  flock 9
fi
if complete; then
  echo "$bindir"
  exit 0
fi

command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
echo "build.sh: $(go version), building into $dest" >&2

# Check that versions.env and the helper modules agree.
modver() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }
check() {
  local got
  got="$(modver "$1" "$2")"
  if [[ "$got" != "$3" ]]; then
    echo "build.sh: $2 is $got in $1/go.mod but versions.env says $3" >&2
    exit 1
  fi
}
check "$tools" k8s.io/kubernetes "$KUBE_VERSION"
check "$tools" k8s.io/apiserver "$KUBE_STAGING_VERSION"
check "$tools" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
check "$tools/kwok" sigs.k8s.io/kwok "$KWOK_VERSION"
check "$tools/helm" helm.sh/helm/v3 "$HELM_VERSION"
check "$tools/coredns" github.com/coredns/coredns "$COREDNS_VERSION"

tmp="$dest/bin.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

gobuild() { nice -n 15 go build -p 2 -trimpath -buildvcs=false "$@"; }
start=$SECONDS

# Kubernetes: same -X stamps as hack/lib/version.sh (client-go + component-base).
IFS=. read -r kmaj kmin _ <<<"${KUBE_VERSION#v}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  kldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$kmaj -X $pkg.gitMinor=$kmin"
  kldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
echo "build.sh: kubernetes $KUBE_VERSION + etcd $ETCD_VERSION" >&2
(cd "$tools" && gobuild -ldflags "$kldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy)
(cd "$tools" && gobuild -ldflags "-s -w" -o "$tmp/etcd" ./etcd)

# The pod sandbox ("pause") binary, as build/pause/Makefile builds it.
kube_dir="$(cd "$tools" && go mod download -json k8s.io/kubernetes | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
nice -n 15 gcc -Os -static -Wall -Werror -DVERSION="$PAUSE_VERSION" \
  -o "$tmp/pause" "$kube_dir/build/pause/linux/pause.c"

# CoreDNS (cluster DNS of the real node): coremain.Run() with the plugins used.
echo "build.sh: coredns $COREDNS_VERSION" >&2
(cd "$tools/coredns" && gobuild \
  -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
  -o "$tmp/coredns" .)

echo "build.sh: kwok $KWOK_VERSION" >&2
(cd "$tools/kwok" && gobuild \
  -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
  -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok)

# helm: as helm's Makefile does — version stamp, plus the default Kubernetes
# version for offline template/lint derived from helm's own client-go (else 1.20).
echo "build.sh: helm $HELM_VERSION" >&2
hcg="$(modver "$tools/helm" k8s.io/client-go)"
IFS=. read -r hcg_maj hcg_min _ <<<"${hcg#v}"
hmaj=$((hcg_maj + 1))
hldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
hldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  hldflags+=" -X $pkg.k8sVersionMajor=$hmaj -X $pkg.k8sVersionMinor=$hcg_min"
done
(cd "$tools/helm" && gobuild -ldflags "$hldflags" -o "$tmp/helm" helm.sh/helm/v3/cmd/helm)

# kwok's default stages ship in its module (kustomize/stage/...); keep a copy
# next to the binaries so up.sh does not depend on the module cache.
kwok_dir="$(cd "$tools/kwok" && go mod download -json sigs.k8s.io/kwok | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
stages=(
  node/fast/node-initialize.yaml
  node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml
  pod/fast/pod-complete.yaml
  pod/fast/pod-delete.yaml
  volume/fast/pvc-provision.yaml
  volume/fast/pv-bind.yaml
  volume/fast/pvc-delete.yaml
  volume/fast/pv-delete.yaml
)
for f in "${stages[@]}"; do
  echo "---"
  echo "# from sigs.k8s.io/kwok@$KWOK_VERSION kustomize/stage/$f"
  cat "$kwok_dir/kustomize/stage/$f"
done >"$dest/kwok-stages.yaml.tmp"
mv "$dest/kwok-stages.yaml.tmp" "$dest/kwok-stages.yaml"

for b in "${bins[@]}"; do
  [[ -x "$tmp/$b" ]] || { echo "build.sh: $b missing after build" >&2; exit 1; }
done
rm -rf "$bindir"
mv "$tmp" "$bindir"
trap - EXIT
date -u +%Y-%m-%dT%H:%M:%SZ >"$dest/.complete"
# Binaries of older versions or recipes are dead weight (~1 GB each): keep only this one.
find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name "${dest##*/}" -exec rm -rf {} + 2>/dev/null || true
echo "build.sh: done in $((SECONDS - start))s: $(du -sh "$bindir" | cut -f1) in $bindir" >&2
echo "$bindir"
