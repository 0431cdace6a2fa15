#!/usr/bin/env python3
"""Deterministic synthetic Febrl-like person file for dedup benchmarks.

    gen_febrl_like.py N OUT.csv [--seed S] [--dup-rate R]

Columns (as Febrl): rec_id,given_name,surname,street_number,address_1,address_2,
suburb,postcode,state,date_of_birth,soc_sec_id.

Exactly N rows: originals `rec-<g>-org` plus 0-3 duplicates `rec-<g>-dup-<k>` of
each (by default ~16% of rows are duplicates). The true groups follow from the id.
Duplicates get 1-4 corruptions: typos (substitution, insertion, deletion,
transposition) in names/addresses/suburb, keyboard-style digit errors in
numbers, given/surname swap, missing values, date format noise (YYYY-MM-DD,
DD/MM/YYYY, swapped day/month), postcode/suburb changes (moved house).

Vocabularies are pseudo-words built from syllables (5k given names, 20k
surnames, 10k street names, 3k suburbs), drawn with a shifted Zipf law so the
most frequent given name is ~1.5% and the most frequent surname ~0.7% of rows
(roughly real-world skew). Pure standard library; 1M rows in ~20 s.
Rows are shuffled (seeded), so file order carries no signal.
"""
import argparse
import random
import sys
from itertools import accumulate

ONSETS = ["", "b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "kl",
          "l", "m", "n", "p", "pr", "r", "s", "sh", "st", "t", "th", "tr", "v", "w", "z"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ie", "ou", "y"]
CODAS = ["", "", "", "n", "r", "l", "s", "th", "m", "ck", "nd", "rt", "x"]
STREET_TYPES = ["street", "road", "avenue", "place", "crescent", "drive", "close",
                "court", "lane", "parade", "circuit", "way"]
STATES = ["nsw", "vic", "qld", "wa", "sa", "tas", "act", "nt"]
STATE_W = [32, 26, 20, 10, 7, 2, 2, 1]
BUILDINGS = ["rosedale", "kingsford", "wattle", "harbour view", "the grange",
             "sunnyside", "parkview", "ocean breeze", "hillcrest", "meadowbank"]
ALPHA = "abcdefghijklmnopqrstuvwxyz"


def vocab(rng, n, min_syl, max_syl):
    out, seen = [], set()
    while len(out) < n:
        w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                    for _ in range(rng.randint(min_syl, max_syl)))
        if len(w) >= 3 and w not in seen:
            seen.add(w)
            out.append(w)
    return out


def zipf_cum(n, shift):
    return list(accumulate(1.0 / (r + shift) for r in range(1, n + 1)))


def typo(rng, s):
    if not s:
        return s
    n = len(s)
    i = rng.randrange(n)
    op = rng.random()
    if op < 0.35:  # substitution
        return s[:i] + rng.choice(ALPHA) + s[i + 1:]
    if op < 0.6:  # insertion
        return s[:i] + rng.choice(ALPHA) + s[i:]
    if op < 0.85 and n > 2:  # deletion
        return s[:i] + s[i + 1:]
    if n > 1:  # transposition
        i = min(i, n - 2)
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    return s + rng.choice(ALPHA)


def digit_typo(rng, s):
    if not s:
        return s
    i = rng.randrange(len(s))
    if rng.random() < 0.7 or len(s) < 2:
        return s[:i] + str(rng.randrange(10)) + s[i + 1:]
    i = min(i, len(s) - 2)
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def date_noise(rng, d):
    if len(d) != 8:
        return d
    y, m, dd = d[:4], d[4:6], d[6:]
    r = rng.random()
    if r < 0.3:
        return f"{y}-{m}-{dd}"
    if r < 0.55:
        return f"{dd}/{m}/{y}"
    if r < 0.75 and int(dd) <= 12:
        return y + dd + m  # day/month swapped
    return digit_typo(rng, d)  # a wrong digit


# field indexes (0 = rec_id)
GN, SN, SNUM, A1, A2, SUB, PC, ST, DOB, SSN = range(1, 11)


def corrupt(rng, row, suburbs, sub_cum, sub_pc):
    r = list(row)
    for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 4))):
        k = rng.random()
        if k < 0.30:  # typo in a text field
            f = rng.choice((GN, GN, SN, SN, A1, SUB))
            r[f] = typo(rng, r[f])
        elif k < 0.42:  # digit error
            f = rng.choice((SNUM, PC, SSN, SSN))
            r[f] = digit_typo(rng, r[f])
        elif k < 0.52:  # given/surname swap
            r[GN], r[SN] = r[SN], r[GN]
        elif k < 0.70:  # missing value
            f = rng.choice((GN, SN, SNUM, A1, A2, SUB, PC, ST, DOB, SSN))
            r[f] = ""
        elif k < 0.85:  # date format noise
            r[DOB] = date_noise(rng, r[DOB])
        elif k < 0.92:  # moved: new address
            s = rng.choices(range(len(suburbs)), cum_weights=sub_cum)[0]
            r[SUB], r[PC] = suburbs[s], sub_pc[s]
            r[SNUM] = str(rng.randint(1, 400))
        else:  # second typo in a name (heavier damage)
            f = rng.choice((GN, SN))
            r[f] = typo(rng, typo(rng, r[f]))
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261128)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    vrng = random.Random(args.seed ^ 0x5EED)
    given = vocab(vrng, 5000, 1, 3)
    surnames = vocab(vrng, 20000, 2, 3)
    streets = vocab(vrng, 10000, 1, 3)
    suburbs = vocab(vrng, 3000, 2, 3)
    sub_state = vrng.choices(STATES, weights=STATE_W, k=len(suburbs))
    sub_pc = [str(vrng.randint(200, 9999)).zfill(4) for _ in suburbs]
    g_cum, s_cum = zipf_cum(len(given), 10), zipf_cum(len(surnames), 20)
    st_cum, sub_cum = zipf_cum(len(streets), 50), zipf_cum(len(suburbs), 30)

    n = args.n
    # dups per original: 0 (88%), 1 (7%), 2 (3%), 3 (2%) -> ~16% of rows are duplicates
    n_orig_est = int(n / 1.19) + 8
    gi = rng.choices(range(len(given)), cum_weights=g_cum, k=n_orig_est)
    si = rng.choices(range(len(surnames)), cum_weights=s_cum, k=n_orig_est)
    sti = rng.choices(range(len(streets)), cum_weights=st_cum, k=n_orig_est)
    subi = rng.choices(range(len(suburbs)), cum_weights=sub_cum, k=n_orig_est)
    ssn_pool = rng.sample(range(1_000_000, 9_999_999), n_orig_est)

    rows_written = 0
    g = 0
    with open(args.out, "w", newline="") as f:
        f.write("rec_id,given_name,surname,street_number,address_1,address_2,"
                "suburb,postcode,state,date_of_birth,soc_sec_id\n")
        buf = []
        rand = rng.random
        while rows_written < n:
            if g >= n_orig_est:  # extremely unlikely; keep exact N
                gi.append(rng.randrange(len(given)))
                si.append(rng.randrange(len(surnames)))
                sti.append(rng.randrange(len(streets)))
                subi.append(rng.randrange(len(suburbs)))
                ssn_pool.append(rng.randrange(1_000_000, 9_999_999))
            s = subi[g]
            u = rand()
            a2 = ""
            if u < 0.15:
                a2 = f"unit {rng.randint(1, 60)}"
            elif u < 0.22:
                a2 = rng.choice(BUILDINGS)
            dob = f"{rng.randint(1930, 2008)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            row = [f"rec-{g}-org", given[gi[g]], surnames[si[g]], str(rng.randint(1, 400)),
                   f"{streets[sti[g]]} {rng.choice(STREET_TYPES)}", a2, suburbs[s],
                   sub_pc[s], sub_state[s], dob, str(ssn_pool[g])]
            # original-level missingness (Febrl has some)
            if rand() < 0.05:
                row[rng.choice((SNUM, A1, SUB, DOB, SSN))] = ""
            buf.append(",".join(row))
            rows_written += 1
            v = rand()
            ndup = 0 if v < 0.88 else 1 if v < 0.95 else 2 if v < 0.98 else 3
            for k in range(min(ndup, n - rows_written)):
                d = corrupt(rng, row, suburbs, sub_cum, sub_pc)
                d[0] = f"rec-{g}-dup-{k}"
                buf.append(",".join(d))
                rows_written += 1
            g += 1
        # shuffled: duplicates are not next to their originals (file order carries no signal)
        rng.shuffle(buf)
        for i in range(0, len(buf), 50000):
            f.write("\n".join(buf[i:i + 50000]) + "\n")
    print(f"{args.out}: {rows_written} rows, {g} originals, "
          f"{rows_written - g} duplicates ({100.0 * (rows_written - g) / rows_written:.1f}%)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
