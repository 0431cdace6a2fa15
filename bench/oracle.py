#!/usr/bin/env python3
"""How far a run is from what its comparisons allow: reads `eval em|dedup --pairs out.csv`.

An F1 below target says nothing of whether the model or the data is at fault. This
measures, with the truth in hand, what a decision on the same candidate pairs could reach:

  ours        the run's own predictions (dedup: the pairs its clusters imply, counted on
              the candidates only; pairs joined through a cluster that blocking never
              proposed are not in the file)
  threshold   the best single threshold on the run's own probability (the weight breaks
              its ties; is only the cut off?)
  patterns    each agreement pattern (the tuple of field levels) decided by how often it
              is true in the other half of the pairs (two folds, split by a hash of the
              ids; a pattern seen fewer than three times there keeps the run's
              probability), ranked by that rate and then the run's score, and the best
              threshold on it (are the level weights off?)
  in-sample   the same, learnt and scored on all pairs: an optimistic ceiling, not a
              reachable figure

A link run that gave no record of a side two partners is held to that shape
(`one_per_record`). Recall counts every true pair, so blocking misses (`--true-pairs`, the run's
`true_pairs=`) cap all four. A set whose F1 is near `patterns` is limited by its noise
(or by what the comparisons can see); one far below it has headroom in the model.

Usage: oracle.py PAIRS.csv [--true-pairs N] [--name NAME]
"""

import argparse
import csv
import zlib
from collections import defaultdict

MIN_SEEN = 3


def best_f1(scored, n_true):
    """Best F1 over thresholds on `scored` = [(score, is_true)], ties kept together."""
    scored = sorted(scored, key=lambda x: x[0], reverse=True)
    tp = fp = 0
    best = (0.0, 0.0, 0.0, None)
    i = 0
    while i < len(scored):
        s = scored[i][0]
        while i < len(scored) and scored[i][0] == s:
            tp += scored[i][1]
            fp += 1 - scored[i][1]
            i += 1
        if tp:
            p, r = tp / (tp + fp), tp / n_true
            f = 2 * p * r / (p + r)
            if f > best[2]:
                best = (p, r, f, s)
    return best


def one_per_record(scored, rows, sides):
    """Keeps, on each side in `sides` (0 left, 1 right), at most one pair per record, as
    the run's predictions have: pairs taken best first, each kept while its records on
    those sides are still free (with one side, each record's best pair). The run assigns
    a group's pairs for the greatest total weight, so on households this can fall a
    little short of it."""
    order = sorted(range(len(rows)), key=lambda i: scored[i][0], reverse=True)
    taken = [set(), set()]
    keep = []
    for i in order:
        ids = rows[i][6]
        if any(ids[side] in taken[side] for side in sides):
            continue
        for side in sides:
            taken[side].add(ids[side])
        keep.append(i)
    return [scored[i] for i in keep]


def prf(tp, fp, n_true):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / n_true if n_true else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pairs")
    ap.add_argument("--true-pairs", type=int, default=None)
    ap.add_argument("--name", default=None)
    a = ap.parse_args()
    rows = []
    linked = True
    with open(a.pairs, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        levels = [i for i, h in enumerate(header) if h.startswith("level:")]
        for row in r:
            # the probability ranks; the weight (link runs) breaks its ties near 1
            score = (float(row[3]), float(row[2]) if row[2] else 0.0)
            fold = zlib.crc32(f"{row[0]}\x00{row[1]}".encode()) & 1
            pat = tuple(row[i] for i in levels)
            rows.append((score, int(row[4]), int(row[5]), pat, fold, float(row[3]), (row[0], row[1])))
            linked = linked and bool(row[2])
    cand_true = sum(t for _, _, t, _, _, _, _ in rows)
    n_true = a.true_pairs if a.true_pairs is not None else cand_true
    if n_true < cand_true or n_true == 0:
        raise SystemExit(f"--true-pairs {n_true}: the file holds {cand_true} true candidates")
    ours = prf(sum(p and t for _, p, t, _, _, _, _ in rows), sum(p and not t for _, p, t, _, _, _, _ in rows), n_true)
    # a link run whose predictions give no record of a side two partners: the oracles
    # keep that shape (`one_per_record`)
    sides = []
    if linked:
        for side in (0, 1):
            seen = defaultdict(int)
            for r in rows:
                seen[r[6][side]] += r[1]
            if all(v <= 1 for v in seen.values()):
                sides.append(side)
    shaped = lambda scored: one_per_record(scored, rows, sides)
    thr = best_f1(shaped([(s, t) for s, _, t, _, _, _, _ in rows]), n_true)
    stats = [defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])]
    for _, _, t, pat, fold, _, _ in rows:
        stats[fold][pat][0] += t
        stats[fold][pat][1] += 1
    # a pattern seen fewer than MIN_SEEN times in the other fold keeps the run's probability
    def rate(s, prob, pat, fold):
        other = stats[1 - fold].get(pat)
        if other and other[1] >= MIN_SEEN:
            return (other[0] / other[1], s)
        return (prob, s)

    cv = best_f1(shaped([(rate(s, pr, pat, fold), t) for s, _, t, pat, fold, pr, _ in rows]), n_true)
    # both folds together
    both = {
        pat: [sum(f[pat][k] for f in stats if pat in f) for k in (0, 1)]
        for pat in stats[0].keys() | stats[1].keys()
    }
    ins = best_f1(shaped([((both[pat][0] / both[pat][1], s), t) for s, _, t, pat, _, _, _ in rows]), n_true)
    name = a.name or a.pairs
    print(
        f"{name:<34} blk_rec {cand_true / max(n_true, 1):.4f}  "
        f"ours {ours[2]:.4f}  threshold {thr[2]:.4f} (at p {thr[3][0] if thr[3] else 1:.3f})  patterns {cv[2]:.4f} "
        f"(P {cv[0]:.4f} R {cv[1]:.4f})  in-sample {ins[2]:.4f}  "
        f"[{len(rows)} pairs, {len(both)} patterns"
        + (f", one partner per {' and '.join(['left', 'right'][x] for x in sides)} record" if sides else "")
        + "]"
    )


if __name__ == "__main__":
    main()
