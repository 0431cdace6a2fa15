#!/usr/bin/env bash
# Link benchmark: `kcmf-matcher eval em` on the two halves of a synthetic Febrl-like file.
#
#   bench/link.sh [SIZES...]           (default: 1000000)
#
# For each size N: bench/out/febrl-N.csv (bench/gen_febrl_like.py, seeded, cached, as
# bench/dedup.sh makes it) is split into its originals (left, ~84% of the rows) and the
# first duplicate of each (right), with the truth from the ids (`rec-G-org` links
# `rec-G-dup-0`); the link runs under /usr/bin/time -v. Prints one row per size: records
# left and right, wall s, peak MiB, precision, recall, F1. Logs: bench/out/link-N.err.
#
# Env: SKIP_BUILD=1 (use the existing target/release/kcmf-matcher), KCMF_BIN=path.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=time-lib.sh
. "$ROOT/bench/time-lib.sh"
OUT=$ROOT/bench/out
mkdir -p "$OUT"
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000000)
BIN=${KCMF_BIN:-$ROOT/target/release/kcmf-matcher}
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${KCMF_BIN:-}" ]; then
  nice -n 5 flock /tmp/kcmf-cargo.lock cargo build --release -p kcmf-matcher --bin kcmf-matcher >&2 || exit 1
fi
printf '%9s %9s %9s %9s %8s %8s %8s\n' left right wall_s peak_mib P R F1
for n in "${SIZES[@]}"; do
  data=$OUT/febrl-$n.csv
  if [ ! -s "$data" ]; then
    python3 "$ROOT/bench/gen_febrl_like.py" "$n" "$data.tmp" >&2 && mv "$data.tmp" "$data" || exit 1
  fi
  python3 - "$data" "$OUT/link-$n" <<'PY' || exit 1
import csv, sys
src, stem = sys.argv[1], sys.argv[2]
with open(src, newline="") as f, open(stem + "-left.csv", "w", newline="") as lf, \
        open(stem + "-right.csv", "w", newline="") as rf, \
        open(stem + "-truth.csv", "w", newline="") as tf:
    rows = csv.reader(f)
    head = next(rows)
    left, right, truth = csv.writer(lf), csv.writer(rf), csv.writer(tf)
    left.writerow(head), right.writerow(head), truth.writerow(["left_id", "right_id"])
    for row in rows:
        if row[0].endswith("-org"):
            left.writerow(row)
        elif row[0].endswith("-dup-0"):
            right.writerow(row)
            truth.writerow([row[0][: -len("-dup-0")] + "-org", row[0]])
PY
  err=$OUT/link-$n.err
  /usr/bin/time -v "$BIN" eval em --left "$OUT/link-$n-left.csv" --right "$OUT/link-$n-right.csv" \
    --truth "$OUT/link-$n-truth.csv" >"$OUT/link-$n.txt" 2>"$err" || { echo "link failed: $err" >&2; exit 1; }
  val() { grep -E "^$1=" "$OUT/link-$n.txt" | cut -d= -f2; }
  wall=$(time_wall_s "$err")
  rss=$(time_peak_mib "$err")
  printf '%9s %9s %9s %9s %8s %8s %8s\n' "$(($(wc -l <"$OUT/link-$n-left.csv") - 1))" \
    "$(($(wc -l <"$OUT/link-$n-right.csv") - 1))" "$wall" "$rss" "$(val precision)" "$(val recall)" "$(val f1)"
done
