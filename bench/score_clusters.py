#!/usr/bin/env python3
"""Pairwise precision / recall / F1 of predicted clusters against the known groups.

    score_clusters.py PRED.csv TRUTH.csv [--json | --short]

PRED.csv: `cluster,id` rows (records in clusters of >= 2; absent records are
singletons). TRUTH.csv: the generated input; the group of `rec-<g>-org` /
`rec-<g>-dup-<k>` is <g>. A pair counts as predicted when both records share a
predicted cluster, as true when both share a group.
"""
import csv
import json
import sys
from collections import Counter, defaultdict


def group(rec_id):
    # rec-<g>-org | rec-<g>-dup-<k>
    return rec_id.split("-", 2)[1]


def pairs(n):
    return n * (n - 1) // 2


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    pred_path, truth_path = args
    true_sizes = Counter()
    with open(truth_path, newline="") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            true_sizes[group(row[0])] += 1
    true_pairs = sum(pairs(n) for n in true_sizes.values())

    clusters = defaultdict(list)
    seen = set()
    with open(pred_path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        ci, ii = header.index("cluster"), header.index("id")
        for row in r:
            rid = row[ii]
            if rid in seen:
                sys.exit(f"{pred_path}: id {rid} is in more than one cluster")
            seen.add(rid)
            clusters[row[ci]].append(rid)
    pred_pairs = tp = 0
    for ids in clusters.values():
        pred_pairs += pairs(len(ids))
        tp += sum(pairs(n) for n in Counter(group(i) for i in ids).values())
    p = tp / pred_pairs if pred_pairs else 0.0
    rc = tp / true_pairs if true_pairs else 0.0
    f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
    out = dict(precision=p, recall=rc, f1=f1, tp=tp, predicted_pairs=pred_pairs,
               true_pairs=true_pairs, clusters=len(clusters),
               clustered_records=len(seen))
    if "--json" in sys.argv:
        print(json.dumps(out))
    elif "--short" in sys.argv:
        print(f"{p:.4f} {rc:.4f} {f1:.4f}")
    else:
        print(f"precision {p:.4f}  recall {rc:.4f}  F1 {f1:.4f}  "
              f"(tp {tp}, predicted pairs {pred_pairs}, true pairs {true_pairs}, "
              f"{len(clusters)} clusters)")


if __name__ == "__main__":
    main()
