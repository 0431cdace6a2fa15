#!/usr/bin/env bash
# HTTP benchmark: cached POST /api/v1/match/entity on `kcmf-matcher serve` vs a
# bare axum "hello" server (matcher/examples/hello.rs, the framework ceiling).
#
#   bench/http.sh
#
# Starts both (release builds) on free ports on 127.0.0.1 with a throwaway data
# dir, takes the bootstrap admin key from the server's stderr, warms the cache
# with curl (checks "cached": true on the second call), then runs wrk -t2 for
# DURATION (default 15s) at 64 and 256 connections against each target and
# prints: target, connections, requests/s, p50, p99, and cached/ceiling ratios.
# Env: SKIP_BUILD=1, DURATION=15s, CONNS="64 256", THREADS=2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
mkdir -p "$OUT"
DURATION=${DURATION:-15s}
CONNS=${CONNS:-64 256}
THREADS=${THREADS:-2}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
command -v curl >/dev/null || apt-get install -y curl >/dev/null
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "building kcmf-matcher + hello example (release; waits for the shared cargo lock)..." >&2
  nice -n 5 flock /tmp/kcmf-cargo.lock cargo build --release -p kcmf-matcher --bin kcmf-matcher --example hello >&2
fi
BIN=$ROOT/target/release/kcmf-matcher
HELLO=$ROOT/target/release/examples/hello

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DATA=$(mktemp -d /tmp/kcmf-http-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

KPORT=$(free_port); HPORT=$(free_port)
while [ "$HPORT" = "$KPORT" ]; do HPORT=$(free_port); done
KCMF_DATA_DIR=$DATA RATE_LIMIT=1000000000 LOG_LEVEL=warn PORT=$KPORT \
  "$BIN" serve 2>"$OUT/http-serve.err" >"$OUT/http-serve.out" &
PIDS+=($!)
PORT=$HPORT "$HELLO" 2>"$OUT/http-hello.err" &
PIDS+=($!)

wait_up() { for _ in $(seq 1 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1" >&2; return 1; }
wait_up "http://127.0.0.1:$KPORT/health" || { cat "$OUT/http-serve.err" >&2; exit 1; }
wait_up "http://127.0.0.1:$HPORT/"
KEY=$(grep -oE '^ +kcmf_[A-Za-z0-9_-]+' "$OUT/http-serve.err" | tr -d ' ' | head -1 || true)
[ -n "$KEY" ] || { echo "no bootstrap key (kcmf_...) on the server's stderr:" >&2; cat "$OUT/http-serve.err" >&2; exit 1; }
export KCMF_API_KEY=$KEY

URL=http://127.0.0.1:$KPORT/api/v1/match/entity
BODY='{"left": {"name": "Jonathan Smith", "email": "jon.smith@example.com", "city": "Springfield", "dob": "1984-02-29"}, "right": {"name": "Jon Smith", "email": "jon.smith@example.com", "city": "Springfield", "dob": "29/02/1984"}}'
export KCMF_BODY=$BODY
echo "body: $BODY" >&2
for i in 1 2; do
  ans=$(curl -s -w '\n%{http_code}' -H "X-API-Key: $KEY" -H 'Content-Type: application/json' -d "$BODY" "$URL")
  echo "warm-up $i: ${ans//$'\n'/ | HTTP }" >&2
done
echo "$ans" | grep -q '"cached": *true' || { echo "second call is not cached; aborting" >&2; exit 1; }

ROWS=()
declare -A RPS
bench() { # name conns url [script]
  local name=$1 c=$2 url=$3 script=${4:-} log=$OUT/http-$1-$2.txt
  echo "== wrk $name, $c connections, $DURATION" >&2
  wrk -t"$THREADS" -c"$c" -d"$DURATION" --latency ${script:+-s "$script"} "$url" >"$log" 2>&1 || true
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/{print $2}' "$log")
  p50=$(awk '$1=="50%"{print $2}' "$log")
  p99=$(awk '$1=="99%"{print $2}' "$log")
  non2xx=$(awk '/Non-2xx or 3xx responses/{print $NF}' "$log")
  RPS[$name-$c]=$rps
  ROWS+=("$(printf '%-14s %6s %12s %10s %10s %8s' "$name" "$c" "$rps" "$p50" "$p99" "${non2xx:-0}")")
}
for c in $CONNS; do
  bench kcmf-cached "$c" "$URL" "$ROOT/bench/http-entity.lua"
  bench hello "$c" "http://127.0.0.1:$HPORT/"
done

{
  echo
  echo "http benchmark ($(date -u +%FT%TZ), $(nproc) cores, wrk -t$THREADS -d$DURATION, client and servers on the same host)"
  printf '%-14s %6s %12s %10s %10s %8s\n' target conns "requests/s" p50 p99 non2xx
  printf '%s\n' "${ROWS[@]}"
  for c in $CONNS; do
    python3 -c "import sys; k,h=float(sys.argv[1]),float(sys.argv[2]); print(f'cached/ceiling at $c connections: {k/h:.2f}')" \
      "${RPS[kcmf-cached-$c]:-0}" "${RPS[hello-$c]:-1}"
  done
  echo "targets: cached >= 0.50 of the ceiling; p99 < 5 ms at 256 connections"
} | tee "$OUT/http.txt"
