#!/usr/bin/env bash
# Checks that the OpenAPI document is exactly what the server does: starts
# `kcmf-matcher serve` (embedded SQLite store, in-process cache, a temporary data dir) and
# runs schemathesis against /api/v1/openapi.json with a bounded number of examples per
# operation. The run fails on any 5xx, any response whose body, status, content type or
# headers the document does not describe.
#
#   tests/schemathesis.sh [BINARY]    # default $KCMF_BIN, else target/debug/kcmf-matcher
#
# schemathesis comes from PyPI, pinned, into a venv cached outside the checkout and keyed
# by its version ($KCMF_CACHE_DIR/venv-schemathesis-<version>). The caller is an admin key
# from VALID_API_KEYS: such keys are not in the store, so no request (DELETE
# /api/v1/keys/{id} included) can revoke it. The full report goes to
# $KCMF_TEST_LOGS/schemathesis.log; the terminal gets the summary.
#
# Knobs: KCMF_SCHEMATHESIS_EXAMPLES (examples per operation, default 150),
# KCMF_SCHEMATHESIS_SEED (default 1: a run is reproducible), KCMF_SCHEMATHESIS_CHECKS (the
# checks, comma-separated; default the five above).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
BIN=${1:-${KCMF_BIN:-target/debug/kcmf-matcher}}
EXAMPLES=${KCMF_SCHEMATHESIS_EXAMPLES:-150}
SEED=${KCMF_SCHEMATHESIS_SEED:-1}
CHECKS=${KCMF_SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}
CACHE=${KCMF_CACHE_DIR:-$HOME/.cache/kcmf}
VENV="$CACHE/venv-schemathesis-$VERSION"
LOGS=${KCMF_TEST_LOGS:-/tmp/kcmf-test-logs}
LOG="$LOGS/schemathesis.log"
PY="${PYTHON:-python3}"

log() { echo "[schemathesis] $*" >&2; }

[ -x "$BIN" ] || { log "no executable $BIN (build it first: cargo build -p kcmf-matcher)"; exit 1; }
mkdir -p "$LOGS"
LOGS=$(cd "$LOGS" && pwd)
LOG="$LOGS/schemathesis.log"

# --- schemathesis, cached by version ---------------------------------------------------
if [ ! -f "$VENV/.installed" ]; then
  if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    log "installing python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    sudo_=""
    [ "$(id -u)" = 0 ] || sudo_="sudo"
    $sudo_ apt-get -o DPkg::Lock::Timeout=300 update -qq
    $sudo_ apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  log "installing schemathesis==$VERSION into $VENV"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
  touch "$VENV/.installed"
fi
"$VENV/bin/schemathesis" --version | grep -qF "$VERSION" \
  || { log "$VENV does not hold schemathesis $VERSION"; exit 1; }

# --- the server ------------------------------------------------------------------------
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="kcmf_schemathesis_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf 'app:\n  host: 127.0.0.1\n' >"$tmp/config.yaml"
env -i PATH="$PATH" HOME="$HOME" \
  KCMF_CONFIG="$tmp/config.yaml" KCMF_DATA_DIR="$tmp/data" PORT="$port" LOG_LEVEL=warn \
  VALID_API_KEYS="$key" RATE_LIMIT=1000000 AUTH_FAILURE_LIMIT=1000000 \
  "$BIN" serve >"$LOGS/schemathesis-server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
# status URL [KEY]: the HTTP status of a GET (000 when nothing answers)
status() {
  "$PY" - "$@" <<'PYEOF'
import sys, urllib.error, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"X-API-Key": sys.argv[2]} if len(sys.argv) > 2 else {})
try:
    print(urllib.request.urlopen(req, timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError:
    print("000")
PYEOF
}
for _ in $(seq 300); do
  [ "$(status "$base/health")" = 200 ] && break
  kill -0 "$pid" 2>/dev/null || { log "the server exited:"; tail -n 20 "$LOGS/schemathesis-server.log" >&2; exit 1; }
  sleep 0.1
done
[ "$(status "$base/health")" = 200 ] || { log "the server did not answer /health"; exit 1; }

# --- the run ---------------------------------------------------------------------------
log "schemathesis $VERSION against $BIN: $EXAMPLES examples per operation, seed $SEED (log: $LOG)"
start=$(date +%s)
set +e
# From the temporary dir: schemathesis keeps a cache of failures in ./.schemathesis. One
# worker: with two, hypothesis' shared cache of lambda sources broke the coverage phase of
# an operation now and then ("AST constructor recursion depth mismatch", a runtime error).
(cd "$tmp" && timeout "${KCMF_SCHEMATHESIS_TIMEOUT:-900}" "$VENV/bin/schemathesis" run "$base/api/v1/openapi.json" \
  --header "X-API-Key: $key" \
  --checks "$CHECKS" \
  --max-examples "$EXAMPLES" --seed "$SEED" --workers 1 \
  --request-timeout 60 --no-color --continue-on-failure \
  --report junit --report-junit-path "$LOGS/schemathesis-junit.xml" \
  >"$LOG" 2>&1)
rc=$?
set -e
secs=$(( $(date +%s) - start ))

# The admin key must have survived the run (keys from VALID_API_KEYS are not revocable).
code=$(status "$base/api/v1/keys" "$key")
if [ "$code" != 200 ]; then
  log "the admin key no longer works after the run (GET /api/v1/keys: $code)"
  rc=1
fi
if ! kill -0 "$pid" 2>/dev/null; then
  log "the server died during the run:"
  tail -n 20 "$LOGS/schemathesis-server.log" >&2
  rc=1
fi

# Each failure's operation, check and statuses, then schemathesis' own SUMMARY section
# (the requests that reproduce a failure are in the log).
sed -n '/^=* *FAILURES *=*$/,$p' "$LOG" | grep -E '^(_{3,}|- |    Received|    Documented)' | head -n 80 >&2 || true
sed -n '/^=* *SUMMARY *=*$/,$p' "$LOG" >&2
log "exit $rc after ${secs}s (full report: $LOG)"
exit "$rc"
