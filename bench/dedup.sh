#!/usr/bin/env bash
# Dedup benchmark: `kcmf-matcher dedup` vs splink 4 (DuckDB) on synthetic Febrl-like files.
#
#   bench/dedup.sh [SIZES...]          (default: 100000 1000000)
#
# For each size N: generate bench/out/febrl-N.csv (seeded, cached), run both tools
# under /usr/bin/time -v (wall time, peak RSS), score the `cluster,id` outputs with
# bench/score_clusters.py (pairwise precision/recall/F1 against the known groups)
# and print one table. Logs: bench/out/dedup-<tool>-N.{csv,err}; table: bench/out/dedup.txt.
#
# Env: SKIP_BUILD=1 (use the existing target/release/kcmf-matcher), KCMF_BIN=path, SKIP_SPLINK=1,
#      THRESHOLD (default 0.85, both tools), RUN_TIMEOUT (s per run, default 2400).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=time-lib.sh
. "$ROOT/bench/time-lib.sh"
OUT=$ROOT/bench/out
mkdir -p "$OUT"
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(100000 1000000)
THRESHOLD=${THRESHOLD:-0.85}
RUN_TIMEOUT=${RUN_TIMEOUT:-2400}
BIN=${KCMF_BIN:-$ROOT/target/release/kcmf-matcher}
VENV=$OUT/venv

[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "building kcmf-matcher (release; waits for the shared cargo lock)..." >&2
  nice -n 5 flock /tmp/kcmf-cargo.lock cargo build --release -p kcmf-matcher --bin kcmf-matcher >&2 || exit 1
fi
if [ "${SKIP_SPLINK:-0}" != 1 ] && ! "$VENV/bin/python" -c 'import splink' 2>/dev/null; then
  echo "creating $VENV with splink 4..." >&2
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "splink>=4,<5" >&2 || exit 1
fi

# run NAME N CMD... : runs under time -v, appends a table row
ROWS=()
run() {
  local tool=$1 n=$2; shift 2
  local csv=$OUT/dedup-$tool-$n.csv err=$OUT/dedup-$tool-$n.err
  rm -f "$csv"
  echo "== $tool, $n records" >&2
  timeout "$RUN_TIMEOUT" /usr/bin/time -v "$@" --out "$csv" 2>"$err"
  local rc=$?
  grep -E '^\[' "$err" | sed 's/^/   /' >&2
  local wall rss
  wall=$(time_wall_s "$err")
  rss=$(time_peak_mib "$err")
  if [ $rc -ne 0 ] || [ ! -s "$csv" ]; then
    echo "   $tool failed (rc=$rc; timeout ${RUN_TIMEOUT}s => 124); see $err" >&2
    ROWS+=("$(printf '%-8s %9s %9s %9s %10s %8s %8s' "$tool" "$n" "${wall:-?}" "${rss:-?}" "rc=$rc" - -)")
    return
  fi
  read -r p r f < <(python3 "$ROOT/bench/score_clusters.py" "$csv" "$OUT/febrl-$n.csv" --short)
  echo "   wall ${wall}s, peak ${rss} MiB, P $p R $r F1 $f" >&2
  ROWS+=("$(printf '%-8s %9s %9s %9s %10s %8s %8s' "$tool" "$n" "$wall" "$rss" "$p" "$r" "$f")")
}

for n in "${SIZES[@]}"; do
  data=$OUT/febrl-$n.csv
  if [ ! -s "$data" ]; then
    echo "== generating $data" >&2
    python3 "$ROOT/bench/gen_febrl_like.py" "$n" "$data.tmp" && mv "$data.tmp" "$data" || exit 1
  fi
  run kcmf "$n" "$BIN" dedup "$data" --threshold "$THRESHOLD"
  [ "${SKIP_SPLINK:-0}" = 1 ] || run splink "$n" "$VENV/bin/python" "$ROOT/bench/splink_dedup.py" "$data" --threshold "$THRESHOLD"
done

{
  echo
  echo "dedup benchmark ($(date -u +%FT%TZ), $(nproc) cores, threshold $THRESHOLD)"
  printf '%-8s %9s %9s %9s %10s %8s %8s\n' tool records "wall s" "peak MiB" precision recall F1
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "targets: kcmf 1M records < 60 s wall, < 2048 MiB peak, F1 >= splink's F1, >= 5x faster than splink"
} | tee "$OUT/dedup.txt"
