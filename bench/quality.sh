#!/usr/bin/env bash
# Prints the engine's quality on the benchmarks in one table (embedded backbone by
# default; BACKBONE=openai|gguf to try another). Builds the data with
# tests/data/fetch.sh and the release binary first.
#
# One default configuration for every set, no per-set settings: Febrl 1-4, Fodors-Zagats,
# DBLP-ACM (scored on its 415 labelled pairs), the seeded shapes of bench/gen_shapes.py
# (split names and date parts, heavy-tailed entities, differently named link columns,
# organisations, products), Febrl reshaped as real files come (bench/reshape_febrl.py:
# blanks, joined and renamed columns, other date forms) and the Valentine-style
# schema-matching tasks.
#
# Targets (issue 12): F1 >= 0.95 and blocking recall >= 0.99 on every entity set,
# SM micro-F1 >= 0.95 on the default build; Febrl4 F1 >= 0.999 in <= 1 s end to end.
# DETAILS=1 also prints each set's cluster-size histogram and column alignment;
# SHAPES_SEED=N draws the generated sets with another seed. ORACLE=1 also prints, under
# each entity set, what any decision on the same comparisons could reach with the truth
# in hand (bench/oracle.py: is a shortfall the model's or the data's?).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
backbone="${BACKBONE:-local}"
bash tests/data/fetch.sh >/dev/null
# EMBEDDINGS=1: schema matching also compares column names by MiniLM sentence embeddings
# (build with --features embeddings; the model from tests/data/fetch-embeddings.sh).
features=()
if [ "${EMBEDDINGS:-0}" = 1 ]; then
  features=(--features embeddings)
  EMBEDDING_MODEL="$(bash tests/data/fetch-embeddings.sh)"
  export EMBEDDING_MODEL
fi
if [ -z "${KCMF_BIN:-}" ]; then
  nice -n 5 flock /tmp/kcmf-cargo.lock cargo build --release -p kcmf-matcher "${features[@]}" --quiet
  KCMF_BIN="$root/target/release/kcmf-matcher"
fi
c="tests/data/cache"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

val() { grep -E "^$1=" "$2" | tail -n1 | cut -d= -f2; }
row() { # name target file
  local f="$3"
  printf "%-34s %8s %8s %8s %12s %9s %9s %8s %8s\n" "$1" "$(val precision "$f")" "$(val recall "$f")" \
    "$(val f1 "$f")" "$(val candidate_pairs "$f")" "$(val blocking_recall "$f" || true)" \
    "$(val blocking_reach "$f" || true)" \
    "$(val wall_seconds "$f")" "$2"
}
run() { # name target args...
  local name="$1" target="$2"; shift 2
  local pairs=()
  if [ "${ORACLE:-0}" = 1 ] && [ "$1" != sm ]; then pairs=(--pairs "$out/$name.pairs.csv"); fi
  "$KCMF_BIN" eval "$@" --backbone "$backbone" "${pairs[@]}" >"$out/$name.txt"
  row "$name" "$target" "$out/$name.txt"
  if [ "${DETAILS:-0}" = 1 ]; then grep -E '^(aligned|cluster_sizes)' "$out/$name.txt" | sed 's/^/    /' || true; fi
  if [ ${#pairs[@]} -gt 0 ]; then
    python3 bench/oracle.py "$out/$name.pairs.csv" --true-pairs "$(grep -oE '^true_pairs=[0-9]+' "$out/$name.txt" | cut -d= -f2)" \
      --name "    oracle" || true
    rm -f "$out/$name.pairs.csv"
  fi
}
s="$c/shapes"
# SHAPES_SEED=N: the seeded shapes drawn again with another seed (a robustness check:
# no figure may rest on the default seed's draw)
if [ -n "${SHAPES_SEED:-}" ]; then
  s="$out/shapes"
  python3 bench/gen_shapes.py "$s" --seed "$SHAPES_SEED" >/dev/null
fi

printf "%-34s %8s %8s %8s %12s %9s %9s %8s %8s\n" dataset precision recall f1 candidates blk_rec blk_reach seconds target
run febrl4-link 0.999 em --left $c/febrl/dataset4a.csv --right $c/febrl/dataset4b.csv --truth $c/febrl/febrl4_truth.csv
run fodors-zagats 0.98 em --left $c/restaurants/fodors.csv --right $c/restaurants/zagats.csv --truth $c/restaurants/fz_truth.csv
run febrl3-dedup 0.99 dedup --input $c/febrl/dataset3.csv --truth $c/febrl/febrl3_truth.csv
run febrl1-dedup - dedup --input $c/febrl/dataset1.csv --truth $c/febrl/febrl1_truth.csv
run febrl2-dedup - dedup --input $c/febrl/dataset2.csv --truth $c/febrl/febrl2_truth.csv
run dblp-acm-link 0.95 em --left $c/dblp_acm/dblp.csv --right $c/dblp_acm/acm.csv --truth $c/dblp_acm/truth.csv --judged $c/dblp_acm/judged.csv
run person-split-dedup 0.95 dedup --input $s/person_split/input.csv --truth $s/person_split/truth.csv
run person-split-coded-dedup 0.95 dedup --input $s/person_split/input_coded.csv --truth $s/person_split/truth.csv
run person-heavy-dedup 0.95 dedup --input $s/person_heavy/input.csv --truth $s/person_heavy/truth.csv
run person-heavy-patents-dedup 0.95 dedup --input $s/person_heavy/input_patents.csv --truth $s/person_heavy/truth.csv
run person-names-dob-dedup 0.95 dedup --input $s/person_names_dob/input.csv --truth $s/person_names_dob/truth.csv
run person-names-dob-full-dedup 0.95 dedup --input $s/person_names_dob/input_full.csv --truth $s/person_names_dob/truth.csv
run person-names-dob-whole-dedup 0.95 dedup --input $s/person_names_dob/input_whole.csv --truth $s/person_names_dob/truth.csv
run person-names-dob-pop-dedup 0.98 dedup --input $s/person_names_dob_pop/input.csv --truth $s/person_names_dob_pop/truth.csv
run person-names-dob-pop-whole-dedup 0.98 dedup --input $s/person_names_dob_pop/input_whole.csv --truth $s/person_names_dob_pop/truth.csv
run person-names-dob-pop-gaps-dedup 0.98 dedup --input $s/person_names_dob_pop/input_gaps.csv --truth $s/person_names_dob_pop/truth.csv
run person-names-dob-titled-dedup 0.95 dedup --input $s/person_names_dob/input_titled.csv --truth $s/person_names_dob/truth.csv
run person-names-dob-pop-titled-dedup 0.98 dedup --input $s/person_names_dob_pop/input_titled.csv --truth $s/person_names_dob_pop/truth.csv
run person-link 0.95 em --left $s/person_link/left.csv --right $s/person_link/right.csv --truth $s/person_link/truth.csv
run person-tax-link 0.95 em --left $s/person_tax_link/left.csv --right $s/person_tax_link/right.csv --truth $s/person_tax_link/truth.csv
run person-tax-renamed-link 0.95 em --left $s/person_tax_link/left.csv --right $s/person_tax_link/right_renamed.csv --truth $s/person_tax_link/truth.csv
run person-link-whole 0.95 em --left $s/person_link/left_whole.csv --right $s/person_link/right.csv --truth $s/person_link/truth.csv
run person-tax-nodob-link 0.95 em --left $s/person_tax_link/left.csv --right $s/person_tax_link/right_nodob.csv --truth $s/person_tax_link/truth.csv
run person-link-pop 0.98 em --left $s/person_link_pop/left.csv --right $s/person_link_pop/right.csv --truth $s/person_link_pop/truth.csv
run person-link-pop-whole 0.98 em --left $s/person_link_pop/left_whole.csv --right $s/person_link_pop/right.csv --truth $s/person_link_pop/truth.csv
run person-tax-pop-link 0.98 em --left $s/person_tax_link_pop/left.csv --right $s/person_tax_link_pop/right.csv --truth $s/person_tax_link_pop/truth.csv
run person-tax-pop-coded-link 0.98 em --left $s/person_tax_link_pop/left_coded.csv --right $s/person_tax_link_pop/right_coded.csv --truth $s/person_tax_link_pop/truth.csv
run person-tax-pop-mainframe-link 0.98 em --left $s/person_tax_link_pop/left.csv --right $s/person_tax_link_pop/right_mainframe.csv --truth $s/person_tax_link_pop/truth.csv
run person-tax-pop-french-link 0.98 em --left $s/person_tax_link_pop/left_french.csv --right $s/person_tax_link_pop/right.csv --truth $s/person_tax_link_pop/truth.csv
run person-tax-pop-serial-link 0.98 em --left $s/person_tax_link_pop/left.csv --right $s/person_tax_link_pop/right_serial.csv --truth $s/person_tax_link_pop/truth.csv
run person-tax-pop-placeholder-link 0.98 em --left $s/person_tax_link_pop/left_placeholder.csv --right $s/person_tax_link_pop/right_placeholder.csv --truth $s/person_tax_link_pop/truth.csv
run person-tax-pop-nodob-link 0.98 em --left $s/person_tax_link_pop/left.csv --right $s/person_tax_link_pop/right_nodob.csv --truth $s/person_tax_link_pop/truth.csv
run person-tax-pop-clean-link 0.98 em --left $s/person_tax_link_pop_clean/left.csv --right $s/person_tax_link_pop_clean/right.csv --truth $s/person_tax_link_pop_clean/truth.csv
run person-tax-pop-clean-nodob-link 0.98 em --left $s/person_tax_link_pop_clean/left.csv --right $s/person_tax_link_pop_clean/right_nodob.csv --truth $s/person_tax_link_pop_clean/truth.csv
run person-tax-forms-dedup 0.98 dedup --input $s/person_tax_link_pop/right.csv --truth $s/person_tax_link_pop/forms_truth.csv
run person-census-dedup 0.95 dedup --input $s/person_census/input.csv --truth $s/person_census/truth.csv
run person-census-household-dedup 0.95 dedup --input $s/person_census/input_household.csv --truth $s/person_census/truth.csv
run person-census-mainframe-dedup 0.95 dedup --input $s/person_census/input_mainframe.csv --truth $s/person_census/truth.csv
run person-census-german-dedup 0.95 dedup --input $s/person_census/input_german.csv --truth $s/person_census/truth.csv
run person-census-unnamed-dedup 0.95 dedup --input $s/person_census/input_unnamed.csv --truth $s/person_census/truth.csv
run person-census-recounted-dedup 0.95 dedup --input $s/person_census_recounted/input.csv --truth $s/person_census_recounted/truth.csv
run person-census-large-dedup 0.95 dedup --input $s/person_census_large/input.csv --truth $s/person_census_large/truth.csv
run person-register-link 0.98 em --left $s/person_register_link/left.csv --right $s/person_register_link/right.csv --truth $s/person_register_link/truth.csv
run person-tax-forms-nodob-dedup 0.95 dedup --input $s/person_tax_link/right_nodob.csv --truth $s/person_tax_link/forms_truth.csv
r="$c/reshaped"
run febrl2-sparse-dedup 0.95 dedup --input $r/febrl2_sparse/input.csv --truth $c/febrl/febrl2_truth.csv
run febrl2-titled-dedup 0.99 dedup --input $r/febrl2_titled/input.csv --truth $c/febrl/febrl2_truth.csv
run febrl3-renamed-dedup 0.99 dedup --input $r/febrl3_renamed/input.csv --truth $c/febrl/febrl3_truth.csv
run febrl3-worded-dedup 0.99 dedup --input $r/febrl3_worded/input.csv --truth $c/febrl/febrl3_truth.csv
run febrl4-reshaped-link 0.99 em --left $c/febrl/dataset4a.csv --right $r/febrl4_reshaped/right.csv --truth $c/febrl/febrl4_truth.csv
run febrl4-postal-link 0.99 em --left $c/febrl/dataset4a.csv --right $r/febrl4_postal/right.csv --truth $c/febrl/febrl4_truth.csv
run febrl4-exported-link 0.99 em --left $c/febrl/dataset4a.csv --right $r/febrl4_exported/right.csv --truth $c/febrl/febrl4_truth.csv
run febrl3-crm-dedup 0.99 dedup --input $r/febrl3_crm/input.csv --truth $c/febrl/febrl3_truth.csv
run febrl4-jsonl-link 0.99 em --left $c/febrl/dataset4a.csv --right $r/febrl4_jsonl/right.jsonl --truth $c/febrl/febrl4_truth.csv
run febrl4-sparse-link 0.95 em --left $r/febrl4_sparse/a.csv --right $r/febrl4_sparse/b.csv --truth $c/febrl/febrl4_truth.csv
run org-dedup 0.95 dedup --input $s/org_dedup/input.csv --truth $s/org_dedup/truth.csv
run product-link 0.95 em --left $s/product_link/left.csv --right $s/product_link/right.csv --truth $s/product_link/truth.csv
run product-catalog-link 0.95 em --left $s/product_catalog_link/left.csv --right $s/product_catalog_link/right.csv --truth $s/product_catalog_link/truth.csv
run product-title-link 0.95 em --left $s/product_title_link/left.csv --right $s/product_title_link/right.csv --truth $s/product_title_link/truth.csv
sum=0; n=0; tp=0; pp=0; cp=0
count() { # file: adds its pair counts to tp, pp, cp
  local line
  line="$(grep '^true_pairs=' "$1")"
  tp=$((tp + $(echo "$line" | sed 's/.*true_pairs=\([0-9]*\).*/\1/')))
  pp=$((pp + $(echo "$line" | sed 's/.*predicted_pairs=\([0-9]*\).*/\1/')))
  cp=$((cp + $(echo "$line" | sed 's/.*correct_pairs=\([0-9]*\).*/\1/')))
}
micro() { python3 -c "p=$cp/max($pp,1); r=$cp/max($tp,1); print(2*p*r/max(p+r,1e-9))"; }
for d in $c/sm/*/ $s/sm/*/; do
  name="sm-$(basename "$d")"
  run "$name" 0.95 sm --source "$d/source.json" --target "$d/target.json" --truth "$d/truth.csv"
  sum="$(python3 -c "print($sum + $(val f1 "$out/$name.txt"))")"; n=$((n + 1))
  count "$out/$name.txt"
done
printf "%-34s %8s %8s %8.4f\n" "sm-mean ($n tasks)" "" "" "$(python3 -c "print($sum / $n)")"
printf "%-34s %8s %8s %8.4f\n" "sm-micro ($cp of $tp true, $pp predicted)" "" "" "$(micro)"
# person tables named as enterprise systems name columns (bench/gen_shapes.py
# NAMING_GROUPS, 59 tasks): a row for each task below 1.0, then their micro-F1
n=0; tp=0; pp=0; cp=0
for d in $s/sm_names/*/; do
  name="sm-names-$(basename "$d")"
  "$KCMF_BIN" eval sm --source "$d/source.json" --target "$d/target.json" --truth "$d/truth.csv" \
    --backbone "$backbone" >"$out/$name.txt"
  if [ "$(val f1 "$out/$name.txt")" != 1.0000 ]; then row "$name" 0.95 "$out/$name.txt"; fi
  n=$((n + 1))
  count "$out/$name.txt"
done
printf "%-34s %8s %8s %8.4f\n" "sm-names-micro ($n tasks: $cp of $tp true, $pp predicted)" "" "" "$(micro)"
