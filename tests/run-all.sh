#!/usr/bin/env bash
# The test command (README, .ci/run): installs and starts what the tests need — PostgreSQL
# and Redis from Debian packages, the benchmark data from registry packages, a local
# Kubernetes control plane built from Go modules (cached outside the checkout) — then runs
# formatting and lint checks and every test, and stops exactly what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=never
# A test run builds from scratch in a fresh checkout: incremental state (2 GB) buys nothing.
export CARGO_INCREMENTAL=0
# Selected with the whole workspace, the operator's test features reuse the dependencies the
# workspace build compiled (`-p kcmf-operator` alone resolves features differently: a rebuild).
OP_FEATURES="kcmf-operator/cluster kcmf-operator/e2e"
export KCMF_CACHE_DIR=${KCMF_CACHE_DIR:-$HOME/.cache/kcmf}
LOGS=${KCMF_TEST_LOGS:-/tmp/kcmf-test-logs}
mkdir -p "$LOGS"
rm -f "$LOGS"/cargo-test*.log

step() { echo; echo "==> $* ($(date +%T))"; }
# Steps that failed after the tests began, named in the summary (a step that fails before
# a test runs, such as the control plane not starting, adds no failed test to the count).
failures=()

# Background builds run in their own sessions: a failing step stops them with the run.
stop_background() {
  local p
  for p in "$@"; do
    if [ -n "$p" ] && grep -qa build.sh "/proc/$p/cmdline" 2>/dev/null; then
      kill -- "-$p" 2>/dev/null || true
    fi
  done
}

cleanup() {
  local rc=$?
  step "stopping what this run started"
  stop_background "${K8S_BUILD_PID:-}" "${IMAGES_PID:-}"
  [ -x hack/k8s/down.sh ] && hack/k8s/down.sh >/dev/null 2>&1 || true
  tests/services.sh stop || true
  exit $rc
}
trap cleanup EXIT

# The builds, the control plane and the images need room; say so before a build dies of it.
avail_gb=$(df -Pk "$ROOT" | awk 'NR == 2 {print int($4 / 1048576)}')
echo "disk: ${avail_gb} GiB free for $ROOT (a cold run writes ~10 GiB)"
if [ "$avail_gb" -lt 12 ]; then
  echo "warning: less than 12 GiB free; the build may fail with 'No space left on device'" >&2
fi

step "PostgreSQL and Redis"
tests/services.sh start >/dev/null
# shellcheck disable=SC1091
source "${KCMF_SVC_DIR:-/tmp/kcmf-services}/env.sh"

K8S=0
if [ -x hack/k8s/build.sh ]; then
  K8S=1
  step "Kubernetes control plane: building from Go modules in the background (cached)"
  setsid hack/k8s/build.sh >"$LOGS/k8s-build.log" 2>&1 &
  K8S_BUILD_PID=$!
fi

if [ -x tests/data/fetch.sh ]; then
  step "benchmark data from registry packages"
  tests/data/fetch.sh
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo build (tests and binaries)"
cargo build --workspace --all-targets

step "images for the real node (hack/images/build.sh; debug binaries) in the background"
# The recipe users follow (hack/images/README.md), with the binaries just built. The base
# layers are cached by package list; a warm build only adds the binaries (~10 s).
hack/images/build.sh --check-dockerfiles
IMAGES_ENV="$ROOT/target/images/images.env"
setsid hack/images/build.sh --matcher-bin target/debug/kcmf-matcher --operator-bin target/debug/kcmf-operator \
  >"$LOGS/images-build.log" 2>&1 &
IMAGES_PID=$!

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
# The feature-gated cluster and e2e tests too (same workspace feature set: no rebuild of deps).
cargo clippy --workspace --all-targets --features "$OP_FEATURES" -- -D warnings

if [ "$K8S" = 1 ]; then
  step "waiting for the control-plane build"
  if ! wait "$K8S_BUILD_PID"; then tail -n 50 "$LOGS/k8s-build.log"; exit 1; fi
  step "starting the control plane"
  hack/k8s/up.sh
  # shellcheck disable=SC1091
  source "${KCMF_K8S_STATE:-/tmp/kcmf-k8s}/env.sh"
fi

step "cargo test --workspace (unit and integration tests on PostgreSQL, Redis, SQLite)"
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee "$LOGS/cargo-test.log"
rc_main=${PIPESTATUS[0]}
[ "$rc_main" = 0 ] || failures+=("cargo test --workspace (log: $LOGS/cargo-test.log)")

step "schemathesis: the OpenAPI document against the server (tests/schemathesis.sh)"
# any 5xx, or a status, body, content type or header the document does not describe, fails
bash tests/schemathesis.sh target/debug/kcmf-matcher
rc_schemathesis=$?
[ "$rc_schemathesis" = 0 ] || failures+=("schemathesis (report: $LOGS/schemathesis.log)")
rc_k8s=0
if [ "$K8S" = 1 ]; then
  step "operator tests on the control plane, kwok node (tests/cluster.rs)"
  cargo test --workspace --features "$OP_FEATURES" --test cluster -- --test-threads=4 2>&1 | tee "$LOGS/cargo-test-cluster.log"
  rc_k8s=${PIPESTATUS[0]}
  [ "$rc_k8s" = 0 ] || failures+=("operator cluster tests (log: $LOGS/cargo-test-cluster.log)")

  step "end-to-end on a real node: containerd, kubelet, kube-proxy, CoreDNS (operator/tests/e2e/)"
  hack/k8s/down.sh >/dev/null 2>&1
  rc_e2e=0
  if ! wait "$IMAGES_PID"; then
    tail -n 30 "$LOGS/images-build.log"
    rc_e2e=1
    failures+=("end-to-end: building the images (log: $LOGS/images-build.log)")
  elif ! KCMF_K8S_NODE_MODE=real hack/k8s/up.sh >"$LOGS/k8s-real-up.log" 2>&1; then
    tail -n 40 "$LOGS/k8s-real-up.log"
    rc_e2e=1
    failures+=("end-to-end: starting the real node (log: $LOGS/k8s-real-up.log)")
  else
    # shellcheck disable=SC1091
    source "${KCMF_K8S_STATE:-/tmp/kcmf-k8s}/env.sh"
    # shellcheck disable=SC1090
    source "$IMAGES_ENV" # export lines: KCMF_IMAGE_* for the test binary
    if ! hack/k8s/load-image.sh "$KCMF_IMAGE_MATCHER_TAR" "$KCMF_IMAGE_OPERATOR_TAR" \
      "$KCMF_IMAGE_REDIS_TAR" "$KCMF_IMAGE_POSTGRES_TAR"; then
      echo "could not load the images into the node" >&2
      rc_e2e=1
      failures+=("end-to-end: loading the images into the node")
    else
      cargo test --workspace --features "$OP_FEATURES" --test e2e -- --test-threads=1 --nocapture 2>&1 |
        tee "$LOGS/cargo-test-e2e.log"
      rc_e2e=${PIPESTATUS[0]}
      [ "$rc_e2e" = 0 ] || failures+=("end-to-end tests (log: $LOGS/cargo-test-e2e.log)")
    fi
    # Stop the node now, not in the exit trap: down.sh fails when a kernel setting changed.
    if ! hack/k8s/down.sh >"$LOGS/k8s-real-down.log" 2>&1; then
      tail -n 20 "$LOGS/k8s-real-down.log"
      rc_e2e=1
      failures+=("end-to-end: stopping the real node (log: $LOGS/k8s-real-down.log)")
    fi
  fi
  [ "$rc_e2e" = 0 ] || rc_k8s=1
fi
step "optional features: local-llm (Gemma 3 270M GGUF in-process) and embeddings (MiniLM)"
# llama.cpp and candle take ~15 min to compile on 2 cores, so these builds have their own
# target dir in the cache outside the checkout, keyed by the llama-cpp-2 version: only a
# cold cache pays for it. cmake and libclang-dev come from tests/services.sh. The models
# come from PyPI packages (tests/data/fetch-model.sh, tests/data/fetch-embeddings.sh).
FEATURES="local-llm embeddings"
# Without debug info (CARGO_PROFILE_DEV_DEBUG=0): a cold build of the tests took 13.6 min
# instead of ~22 (the key says so, as the artifacts differ).
LLM_TARGET="$KCMF_CACHE_DIR/cargo-target/features-$(grep -o 'llama-cpp-2 = { version = "=[0-9.]*' matcher/Cargo.toml | grep -o '[0-9.]*$')-nodebug"
# older keys' targets are dead weight (the debug-info one was 7.7 GB)
find "$KCMF_CACHE_DIR/cargo-target" -mindepth 1 -maxdepth 1 -name 'features-*' ! -name "${LLM_TARGET##*/}" \
  -exec rm -rf {} + 2>/dev/null || true
rc_llm=0
if model="$(tests/data/fetch-model.sh)" && emb="$(tests/data/fetch-embeddings.sh)"; then
  export KCMF_GGUF_MODEL="$model" KCMF_EMBEDDING_MODEL="$emb"
  CARGO_TARGET_DIR="$LLM_TARGET" CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0 \
    cargo clippy -p kcmf-matcher --features "$FEATURES" --all-targets -- -D warnings 2>&1 | tee "$LOGS/clippy-features.log"
  rc_llm=${PIPESTATUS[0]}
  [ "$rc_llm" = 0 ] || failures+=("optional features: clippy (log: $LOGS/clippy-features.log)")
  CARGO_TARGET_DIR="$LLM_TARGET" CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0 \
    cargo test -p kcmf-matcher --features "$FEATURES" --lib --test gguf --test quality 2>&1 | tee "$LOGS/cargo-test-features.log"
  if [ "${PIPESTATUS[0]}" != 0 ]; then
    rc_llm=1
    failures+=("optional features: tests (log: $LOGS/cargo-test-features.log)")
  fi
else
  echo "could not fetch the models" >&2
  rc_llm=1
  failures+=("optional features: fetching the models")
fi
set -e
step "summary"
read -r passed failed < <(grep -h '^test result:' "$LOGS"/cargo-test*.log |
  awk '{for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i }} END {print p+0, f+0}')
echo "$passed passed, $failed failed"
if [ "${#failures[@]}" = 0 ]; then
  echo "every step passed"
else
  echo "failed steps:"
  printf '  - %s\n' "${failures[@]}"
fi
[ "$rc_main" = 0 ] && [ "$rc_schemathesis" = 0 ] && [ "$rc_k8s" = 0 ] && [ "$rc_llm" = 0 ]
