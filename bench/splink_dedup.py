#!/usr/bin/env python3
"""Splink 4 (DuckDB backend) dedup baseline on a Febrl-like CSV.

    splink_dedup.py INPUT.csv --out clusters.csv [--threshold 0.85]

Writes `cluster,id` for every record in a cluster of >= 2 (same format as
`kcmf-matcher dedup`). Model: Fellegi-Sunter with
  - blocking (predictions): given+surname, surname+dob, given+dob,
    swapped given/surname, soc_sec_id, postcode+street_number, dob+postcode
  - comparisons: given_name, surname (Jaro-Winkler + exact levels, term
    frequency adjustments), date_of_birth (exact / Levenshtein 1 / 2),
    street_number, address_1 (JW), suburb (JW), postcode, soc_sec_id
    (exact / Levenshtein 1 / 2)
  - lambda from a deterministic-rules recall estimate, u by random sampling,
    m by EM on two blocking passes (dob; given+surname), predict, then connected
    components at the threshold.
Light, documented preprocessing a splink user would do: lower-case, trim, and
normalise date_of_birth to YYYYMMDD from YYYY-MM-DD and DD/MM/YYYY.
Stage timings go to stderr.
"""
import argparse
import re
import sys
import time

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

T0 = time.time()


def stage(msg):
    print(f"[{time.time() - T0:7.2f}s] {msg}", file=sys.stderr, flush=True)


ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def norm_dob(s):
    if not isinstance(s, str):
        return None
    m = ISO.match(s)
    if m:
        return m.group(1) + m.group(2) + m.group(3)
    m = DMY.match(s)
    if m:
        return m.group(3) + m.group(2) + m.group(1)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threshold", type=float, default=0.85)
    ap.add_argument("--max-pairs-u", type=float, default=5e6)
    a = ap.parse_args()

    stage(f"reading {a.input}")
    df = pd.read_csv(a.input, dtype=str, keep_default_na=True)
    for c in df.columns:
        df[c] = df[c].str.strip().str.lower()
    df["date_of_birth"] = df["date_of_birth"].map(norm_dob)
    df = df.where(df.notna(), None)
    stage(f"{len(df)} records")

    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="rec_id",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
            block_on("date_of_birth", "postcode"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.9, 0.8]).configure(
                term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("surname", [0.9, 0.8]).configure(
                term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9]),
            cl.JaroWinklerAtThresholds("suburb", [0.9]),
            cl.ExactMatch("postcode"),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(df, settings, DuckDBAPI())
    stage("estimating lambda (deterministic rules)")
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id", "date_of_birth"), block_on("given_name", "surname", "date_of_birth")],
        recall=0.7,
    )
    stage("estimating u by random sampling")
    linker.training.estimate_u_using_random_sampling(max_pairs=a.max_pairs_u, seed=1)
    stage("estimating m by EM (blocking on date_of_birth)")
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), estimate_without_term_frequencies=True)
    stage("estimating m by EM (blocking on given_name + surname)")
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname"), estimate_without_term_frequencies=True)
    stage("predicting")
    pred = linker.inference.predict(threshold_match_probability=min(0.5, a.threshold))
    stage(f"clustering at {a.threshold}")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=a.threshold)
    c = clusters.as_pandas_dataframe()[["cluster_id", "rec_id"]]
    sizes = c.groupby("cluster_id")["rec_id"].transform("size")
    c = c[sizes >= 2].rename(columns={"cluster_id": "cluster", "rec_id": "id"})
    c.to_csv(a.out, index=False)
    stage(f"wrote {a.out}: {c['cluster'].nunique()} clusters ({len(c)} records)")


if __name__ == "__main__":
    main()
