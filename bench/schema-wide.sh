#!/usr/bin/env bash
# Wide schema matching benchmark (issue 16, item 1): POST /api/v1/match/schema with two
# tables of N columns each (default 1000), alone and CONC (default 4) at once while
# GET /health is sent back to back; N=300 (the issue's 11.3 s figure) for comparison;
# one request over the column cap.
#
#   bench/schema-wide.sh            # N=1000, compare 300
#   bench/schema-wide.sh 500        # another N
#   BIN=/path/to/kcmf-matcher COMPARE="300 600" RUNS=5 bench/schema-wide.sh
#
# Starts `kcmf-matcher serve` on a free port with a throwaway data dir (KCMF_DATA_DIR),
# RATE_LIMIT=1000000000, LOG_LEVEL=warn and a config file (KCMF_CONFIG) that raises
# matching.max_columns to max(N, COMPARE) and turns the result cache off (every request
# is computed); the bootstrap admin key (kcmf_...) is read from the server's stderr.
# bench/schema_wide.py generates the tables (seeded: realistic names such as
# customer_email_3 / client_mail_3, order_quantity / ord_qty, 3-5 samples of the
# column's shape per column, ~80% of the concepts in both tables) and measures.
# Output: a table on stdout, appended to bench/out/schema-wide.txt (with the load
# average: the figures depend on what else runs on the machine).
# Env: BIN (default target/release/kcmf-matcher; nothing is built), N, COMPARE="300",
# RUNS=3, CONC=4, COMPARE_CONC=2, SEED=16, KEEP_LOG=1 (keep the server log),
# SERVER_LOG_LEVEL (default warn; e.g. debug), PERF=1 (perf record the server, call graphs, during
# one extra request at N before the measurements: bench/out/schema-wide.perf.txt;
# PERF_ONLY=1 stops after it; PERF_CALLGRAPH=dwarf,16384 (the release profile has no
# frame pointers), PERF_FREQ=199).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
mkdir -p "$OUT"
N=${1:-${N:-1000}}
COMPARE=${COMPARE:-300}
RUNS=${RUNS:-3}
CONC=${CONC:-4}
COMPARE_CONC=${COMPARE_CONC:-2}
SEED=${SEED:-16}
BIN=${BIN:-$ROOT/target/release/kcmf-matcher}
[ -x "$BIN" ] || { echo "no executable $BIN (build it, or set BIN=...)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

CAP=$N
for c in $COMPARE; do [ "$c" -gt "$CAP" ] && CAP=$c; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DATA=$(mktemp -d /tmp/kcmf-schema-wide.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

cat >"$DATA/bench.yaml" <<EOF
matching:
  max_columns: $CAP
cache:
  enabled: false
EOF

PORT=$(free_port)
ERR=$OUT/schema-wide-serve.err
KCMF_CONFIG=$DATA/bench.yaml KCMF_DATA_DIR=$DATA RATE_LIMIT=1000000000 \
  LOG_LEVEL=${SERVER_LOG_LEVEL:-warn} PORT=$PORT \
  "$BIN" serve 2>"$ERR" >"$OUT/schema-wide-serve.out" &
SERVER=$!
PIDS+=($SERVER)

wait_up() { for _ in $(seq 1 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1" >&2; return 1; }
wait_up "http://127.0.0.1:$PORT/health" || { cat "$ERR" >&2; exit 1; }
KEY=$(grep -oE '^ +kcmf_[A-Za-z0-9_-]+' "$ERR" | tr -d ' ' | head -1 || true)
[ -n "$KEY" ] || { echo "no bootstrap key (kcmf_...) on the server's stderr:" >&2; cat "$ERR" >&2; exit 1; }

if [ "${PERF:-0}" = 1 ]; then
  command -v perf >/dev/null || { echo "PERF=1 but no perf" >&2; exit 1; }
  python3 "$ROOT/bench/schema_wide.py" gen "$N" --seed "$((SEED + 1))" >"$DATA/perf-body.json"
  perf record --call-graph "${PERF_CALLGRAPH:-dwarf,16384}" -F "${PERF_FREQ:-199}" -p "$SERVER" -o "$DATA/perf.data" 2>"$DATA/perf.err" &
  PERFPID=$!
  PIDS+=("$PERFPID")
  sleep 1
  curl -s -o /dev/null -w "perf request: HTTP %{http_code} in %{time_total} s\n" \
    -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
    --data-binary @"$DATA/perf-body.json" "http://127.0.0.1:$PORT/api/v1/match/schema" >&2
  kill -INT "$PERFPID"; wait "$PERFPID" 2>/dev/null || true
  cp "$DATA/perf.err" "$OUT/schema-wide.perf.err" 2>/dev/null || true
  perf report -i "$DATA/perf.data" --stdio --no-children --percent-limit 0.5 2>/dev/null \
    >"$OUT/schema-wide.perf.txt" || true
  perf report -i "$DATA/perf.data" --stdio --children --percent-limit 2 2>/dev/null \
    >"$OUT/schema-wide.perf-children.txt" || true
  echo "perf report: $OUT/schema-wide.perf.txt (self), $OUT/schema-wide.perf-children.txt (children)" >&2
  [ "${PERF_ONLY:-0}" = 1 ] && exit 0
fi

HEADER="
schema-wide benchmark ($(date -u +%FT%TZ), $(nproc) cores, $(basename "$BIN") $("$BIN" --version 2>/dev/null | awk '{print $NF}'), client and server on the same host, matching.max_columns=$CAP, cache off)
load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$ROOT/bench/schema_wide.py" run --url "http://127.0.0.1:$PORT" --key "$KEY" \
  --n "$N" --compare $COMPARE --runs "$RUNS" --conc "$CONC" --compare-conc "$COMPARE_CONC" \
  --cap "$CAP" --seed "$SEED" --out "$OUT/schema-wide.txt" --header "$HEADER"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/schema-wide.txt"
