#!/usr/bin/env python3
"""Wide schema matching benchmark client (issue 16, item 1). Stdlib only.

    bench/schema_wide.py gen N [--seed S] > body.json     # print one request body
    bench/schema_wide.py run --url http://127.0.0.1:PORT --key KEY --n 1000 --compare 300 \
        --cap 1000 --out bench/out/schema-wide.txt

`gen` builds two tables of N columns each (seeded): ~80% of the concepts appear in both
tables under different spellings (`customer_email_3` / `client_mail_3`, `order_quantity`
/ `ord_qty`, `created_date` / `create_dt`), the rest in one table only; each column has
3-5 samples of its concept's shape (emails, phones, dates in another format on the
target side, amounts, ids, statuses, cities, ...), a `type` on most columns and a
`description` on a few.

`run` (server already started by bench/schema-wide.sh) measures, per size:
  (a) RUNS sequential requests: wall time min/median, server elapsed_ms, matches;
  (b) CONC requests at once while one thread sends GET /health back to back on a
      kept-alive connection: /health p50/p99/max/count during the window, and each
      request's wall time;
and, once, a request over the cap (cap+1 columns): status and body.
The cache is expected off on the server (each run is a fresh computation).
"""

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
import urllib.parse

# ---- generation ----------------------------------------------------------------------

ENTITIES = [
    ("customer", ["cust", "client"]),
    ("order", ["ord", "purchase"]),
    ("product", ["prod", "item"]),
    ("supplier", ["vendor", "supp"]),
    ("employee", ["emp", "staff"]),
    ("invoice", ["inv", "bill"]),
    ("shipment", ["shp", "delivery"]),
    ("account", ["acct", "acc"]),
    ("payment", ["pmt", "pay"]),
    ("store", ["shop", "branch"]),
    ("warehouse", ["wh", "depot"]),
    ("campaign", ["cmpgn", "promo"]),
    ("contract", ["ctr", "agreement"]),
    ("ticket", ["tkt", "case"]),
    ("patient", ["pt", "patnt"]),
    ("device", ["dev", "equipment"]),
]

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
         "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
         "Thomas", "Sarah", "Carlos", "Aisha", "Wei", "Olga", "Kenji", "Fatima"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
        "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
        "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Nguyen", "Kowalski", "Okafor"]
CITIES = ["Springfield", "Riverside", "Franklin", "Greenville", "Bristol", "Clinton",
          "Fairview", "Salem", "Madison", "Georgetown", "Arlington", "Ashland", "Dover",
          "Oxford", "Jackson", "Burlington", "Manchester", "Milton", "Newport", "Auburn"]
COUNTRIES = [("US", "United States"), ("DE", "Germany"), ("FR", "France"), ("GB", "United Kingdom"),
             ("JP", "Japan"), ("BR", "Brazil"), ("IN", "India"), ("CA", "Canada"), ("ES", "Spain")]
STREETS = ["Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Lake Rd",
           "Hill St", "Park Ave", "Washington Blvd", "2nd St", "Church Rd"]
STATUSES = ["active", "pending", "closed", "cancelled", "shipped", "on_hold", "new"]
CATEGORIES = ["electronics", "grocery", "apparel", "toys", "garden", "books", "sports",
              "automotive", "health", "office"]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "BRL", "INR", "CAD"]
WORDS = ["fast", "delivery", "requested", "fragile", "gift", "wrap", "call", "before",
         "leave", "at", "door", "priority", "customer", "note", "return", "damaged", "box"]
DOMAINS = ["example.com", "mail.test", "corp.example.org", "inbox.test", "web.example.net"]


def _date(r):
    return (r.randint(1950, 2025), r.randint(1, 12), r.randint(1, 28))


def s_email(r, side):
    f, l = r.choice(FIRST).lower(), r.choice(LAST).lower()
    return f"{f}.{l}{r.randint(1, 99)}@{r.choice(DOMAINS)}"


def s_phone(r, side):
    a, b, c = r.randint(200, 989), r.randint(200, 999), r.randint(0, 9999)
    return f"({a}) {b}-{c:04d}" if side == "t" else f"+1-{a}-{b}-{c:04d}"


def s_name(r, side):
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def s_first(r, side):
    return r.choice(FIRST)


def s_last(r, side):
    return r.choice(LAST)


def s_date(r, side):
    y, m, d = _date(r)
    return f"{d:02d}/{m:02d}/{y}" if side == "t" else f"{y}-{m:02d}-{d:02d}"


def s_ts(r, side):
    y, m, d = _date(r)
    hh, mm, ss = r.randint(0, 23), r.randint(0, 59), r.randint(0, 59)
    if side == "t":
        return f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}"
    return f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z"


def s_amount(r, side):
    v = round(r.uniform(1, 5000), 2)
    return v if side == "s" else f"{v:.2f}"


def s_qty(r, side):
    return r.randint(1, 500)


def s_price(r, side):
    return round(r.uniform(0.5, 999), 2)


def s_status(r, side):
    v = r.choice(STATUSES)
    return v.upper() if side == "t" else v


def s_city(r, side):
    return r.choice(CITIES)


def s_zip(r, side):
    return f"{r.randint(1000, 99999):05d}"


def s_country(r, side):
    c = r.choice(COUNTRIES)
    return c[0] if side == "s" else c[1]


def s_street(r, side):
    return f"{r.randint(1, 9999)} {r.choice(STREETS)}"


def s_id(r, side):
    return r.randint(10_000, 9_999_999)


def s_code(r, side):
    return f"{''.join(r.choice('ABCDEFGHJKLMNPQRSTUVWXYZ') for _ in range(3))}-{r.randint(100, 9999)}"


def s_bool(r, side):
    v = r.random() < 0.6
    return v if side == "s" else ("Y" if v else "N")


def s_currency(r, side):
    return r.choice(CURRENCIES)


def s_text(r, side):
    return " ".join(r.choice(WORDS) for _ in range(r.randint(3, 7)))


def s_pct(r, side):
    v = round(r.uniform(0, 0.5), 3)
    return v if side == "s" else f"{v * 100:.1f}%"


def s_weight(r, side):
    return round(r.uniform(0.05, 80), 2)


def s_url(r, side):
    return f"https://www.{r.choice(LAST).lower()}{r.randint(1, 999)}.{r.choice(['com', 'net', 'org'])}/"


def s_ip(r, side):
    return ".".join(str(r.randint(1, 254)) for _ in range(4))


def s_lat(r, side):
    return round(r.uniform(-60, 70), 5)


def s_lon(r, side):
    return round(r.uniform(-170, 170), 5)


def s_rating(r, side):
    return r.randint(1, 5)


def s_category(r, side):
    return r.choice(CATEGORIES)


# (concept, source spellings, target spellings, sample generator, source type, target type)
ATTRS = [
    ("email", ["email", "email_address"], ["mail", "e_mail", "email_addr"], s_email, "varchar", "text"),
    ("phone", ["phone", "phone_number"], ["tel", "phone_no", "telephone"], s_phone, "varchar", "text"),
    ("name", ["name", "full_name"], ["nm", "fullname"], s_name, "varchar", "text"),
    ("first_name", ["first_name"], ["fname", "given_name"], s_first, "varchar", "text"),
    ("last_name", ["last_name"], ["lname", "surname"], s_last, "varchar", "text"),
    ("created", ["created_date", "creation_date"], ["create_dt", "created_on"], s_date, "date", "date"),
    ("updated", ["updated_at", "last_modified"], ["upd_ts", "modified_at"], s_ts, "timestamp", "datetime"),
    ("amount", ["amount", "total_amount"], ["amt", "tot_amt"], s_amount, "decimal", "numeric"),
    ("quantity", ["quantity"], ["qty"], s_qty, "int", "integer"),
    ("price", ["unit_price"], ["unit_prc", "price"], s_price, "decimal", "float"),
    ("status", ["status"], ["stat", "status_cd"], s_status, "varchar", "text"),
    ("city", ["city"], ["town", "city_nm"], s_city, "varchar", "text"),
    ("zip", ["zip_code", "postal_code"], ["postcode", "postal_cd", "zip"], s_zip, "varchar", "text"),
    ("country", ["country_code"], ["country", "cntry"], s_country, "char", "text"),
    ("street", ["street_address"], ["addr_line1", "street"], s_street, "varchar", "text"),
    ("id", ["id"], ["identifier", "key"], s_id, "bigint", "integer"),
    ("number", ["number"], ["no", "num", "nbr"], s_code, "varchar", "text"),
    ("active", ["is_active"], ["active_flag", "enabled"], s_bool, "boolean", "char"),
    ("currency", ["currency"], ["curr", "ccy"], s_currency, "char", "text"),
    ("notes", ["description", "notes"], ["desc", "remarks"], s_text, "text", "text"),
    ("birth", ["birth_date"], ["dob", "date_of_birth"], s_date, "date", "date"),
    ("discount", ["discount_rate"], ["disc_pct", "discount"], s_pct, "decimal", "text"),
    ("weight", ["weight_kg"], ["wt_kg", "weight"], s_weight, "float", "numeric"),
    ("url", ["website_url"], ["web_url", "homepage"], s_url, "varchar", "text"),
    ("ip", ["ip_address"], ["ip_addr", "ip"], s_ip, "varchar", "text"),
    ("lat", ["latitude"], ["lat"], s_lat, "float", "double"),
    ("lon", ["longitude"], ["lon", "lng"], s_lon, "float", "double"),
    ("rating", ["rating"], ["score", "stars"], s_rating, "smallint", "integer"),
    ("category", ["category"], ["cat", "category_nm"], s_category, "varchar", "text"),
    ("code", ["code"], ["cd", "ref_code"], s_code, "varchar", "text"),
]


def _column(r, side, name, attr, ent):
    concept, _, _, gen, st, tt = attr
    col = {"name": name}
    if r.random() < 0.75:
        col["type"] = st if side == "s" else tt
    if r.random() < 0.08:
        col["description"] = f"{concept.replace('_', ' ')} of the {ent}"
    col["samples"] = [gen(r, side) for _ in range(r.randint(3, 5))]
    return col


def _unique(name, used):
    if name not in used:
        used.add(name)
        return name
    k = 2
    while f"{name}_{k}" in used:
        k += 1
    used.add(f"{name}_{k}")
    return f"{name}_{k}"


def generate(n, seed=16, tag=""):
    """Two tables of n columns each and the true (source, target) pairs."""
    r = random.Random(seed * 1_000_003 + n)
    per_round = len(ENTITIES) * len(ATTRS)
    need = n + n // 4 + 1  # 80% shared, 20% one-sided on each side
    rounds = need // per_round + 1
    concepts = [(e, a, k) for k in range(1, rounds + 1)
                for e in range(len(ENTITIES)) for a in range(len(ATTRS))]
    r.shuffle(concepts)
    shared = int(n * 0.8)
    src_c = concepts[:n]
    tgt_c = concepts[:shared] + concepts[n:n + (n - shared)]
    r.shuffle(tgt_c)
    used_s, used_t = set(), set()
    source, target, s_names = [], [], {}
    for e, a, k in src_c:
        ent, attr = ENTITIES[e][0], ATTRS[a]
        base = f"{ent}_{r.choice(attr[1])}" + (f"_{k}" if k > 1 else "")
        name = _unique(base, used_s)
        s_names[(e, a, k)] = name
        source.append(_column(r, "s", name, attr, ent))
    truth = []
    for e, a, k in tgt_c:
        ent_alts, attr = ENTITIES[e][1], ATTRS[a]
        ent = r.choice(ent_alts + [ENTITIES[e][0]])
        base = f"{ent}_{r.choice(attr[2])}" + (f"_{k}" if k > 1 else "")
        name = _unique(base, used_t)
        if (e, a, k) in s_names:
            truth.append((s_names[(e, a, k)], name))
        target.append(_column(r, "t", name, attr, ENTITIES[e][0]))
    body = {
        "source": {"name": f"crm_export{tag}", "description": "customer relationship export",
                   "columns": source},
        "target": {"name": f"warehouse_dim{tag}", "description": "data warehouse dimensions",
                   "columns": target},
    }
    return body, truth


# ---- client --------------------------------------------------------------------------

class Client:
    def __init__(self, url, key):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.key = key

    def post(self, path, body_bytes, timeout=900):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        t0 = time.perf_counter()
        c.request("POST", path, body=body_bytes,
                  headers={"X-API-Key": self.key, "Content-Type": "application/json"})
        resp = c.getresponse()
        data = resp.read()
        wall = time.perf_counter() - t0
        c.close()
        return resp.status, data, wall


def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    i = max(0, min(len(s) - 1, int(-(-p * len(s) // 1)) - 1))  # nearest-rank
    return s[i]


def score(data, truth):
    ans = json.loads(data)
    got = {(m["source"], m["target"]) for m in ans.get("matches", [])}
    tp = len(got & set(truth))
    return ans, len(got), tp


def health_loop(cl, stop, lat, errors):
    c = http.client.HTTPConnection(cl.host, cl.port, timeout=60)
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            dt = time.perf_counter() - t0
            lat.append((t0, dt))
            if r.status != 200:
                errors.append(r.status)
        except Exception as e:  # noqa: BLE001 - count and reconnect
            errors.append(repr(e))
            c.close()
            c = http.client.HTTPConnection(cl.host, cl.port, timeout=60)


def idle_health(cl, count=300):
    lat, errs, stop = [], [], threading.Event()
    c = http.client.HTTPConnection(cl.host, cl.port, timeout=60)
    for _ in range(count):
        t0 = time.perf_counter()
        c.request("GET", "/health")
        c.getresponse().read()
        lat.append(time.perf_counter() - t0)
    c.close()
    return lat


def sequential(cl, n, runs, seed, log):
    walls, elapsed, info = [], [], None
    for i in range(runs):
        body, truth = generate(n, seed, tag=f"_r{i}")
        raw = json.dumps(body).encode()
        status, data, wall = cl.post("/api/v1/match/schema", raw)
        if status != 200:
            raise SystemExit(f"N={n} run {i}: HTTP {status}: {data[:500]!r}")
        ans, nm, tp = score(data, truth)
        if ans.get("cached"):
            raise SystemExit("answer is cached: start the server with cache.enabled: false")
        walls.append(wall)
        elapsed.append(ans.get("elapsed_ms", float("nan")) / 1e3)
        info = (len(raw), nm, tp, len(truth))
        log(f"  N={n} run {i + 1}/{runs}: HTTP {status}, wall {wall:.3f} s, server elapsed "
            f"{elapsed[-1]:.3f} s, {nm} matches ({tp} of {len(truth)} true pairs found)")
    return walls, elapsed, info


def concurrent(cl, n, conc, seed, log):
    bodies = [json.dumps(generate(n, seed, tag=f"_c{i}")[0]).encode() for i in range(conc)]
    lat, errs, stop = [], [], threading.Event()
    results = [None] * conc
    barrier = threading.Barrier(conc + 1)

    def one(i):
        barrier.wait()
        results[i] = cl.post("/api/v1/match/schema", bodies[i])

    ht = threading.Thread(target=health_loop, args=(cl, stop, lat, errs), daemon=True)
    ht.start()
    time.sleep(0.3)  # health loop warm
    ths = [threading.Thread(target=one, args=(i,)) for i in range(conc)]
    for t in ths:
        t.start()
    barrier.wait()
    w0 = time.perf_counter()
    for t in ths:
        t.join()
    w1 = time.perf_counter()
    stop.set()
    ht.join()
    window = [dt for (t0, dt) in lat if w0 <= t0 <= w1]
    walls, statuses, nms = [], [], []
    for st, data, wall in results:
        statuses.append(st)
        walls.append(wall)
        nms.append(len(json.loads(data).get("matches", [])) if st == 200 else -1)
    log(f"  N={n} x{conc} at once: statuses {statuses}, walls "
        + ", ".join(f"{w:.3f}" for w in walls) + f" s, total {w1 - w0:.3f} s; matches {nms}; "
        f"/health during: n={len(window)} p50={pct(window, .5) * 1e3:.2f} ms "
        f"p99={pct(window, .99) * 1e3:.2f} ms max={max(window) * 1e3:.2f} ms; errors {errs[:5]}")
    return walls, w1 - w0, window, statuses, errs


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("n", type=int)
    g.add_argument("--seed", type=int, default=16)
    rp = sub.add_parser("run")
    rp.add_argument("--url", required=True)
    rp.add_argument("--key", required=True)
    rp.add_argument("--n", type=int, default=1000)
    rp.add_argument("--compare", type=int, nargs="*", default=[300])
    rp.add_argument("--runs", type=int, default=3)
    rp.add_argument("--conc", type=int, default=4)
    rp.add_argument("--compare-conc", type=int, default=2)
    rp.add_argument("--cap", type=int, required=True, help="the server's matching.max_columns")
    rp.add_argument("--seed", type=int, default=16)
    rp.add_argument("--out", required=True)
    rp.add_argument("--header", default="")
    a = ap.parse_args()
    if a.cmd == "gen":
        json.dump(generate(a.n, a.seed)[0], sys.stdout)
        return

    def log(s):
        print(s, file=sys.stderr, flush=True)

    cl = Client(a.url, a.key)
    idle = idle_health(cl)
    log(f"  /health idle: n={len(idle)} p50={pct(idle, .5) * 1e3:.2f} ms p99={pct(idle, .99) * 1e3:.2f} ms")
    rows = []
    for n, conc in [(a.n, a.conc)] + [(c, a.compare_conc) for c in a.compare]:
        walls, elapsed, (size, nm, tp, nt) = sequential(cl, n, a.runs, a.seed, log)
        cw, ctotal, window, statuses, errs = concurrent(cl, n, conc, a.seed, log)
        rows.append(dict(n=n, size=size, runs=len(walls), wmin=min(walls), wmed=statistics.median(walls),
                         smed=statistics.median(elapsed), matches=nm, tp=tp, truth=nt, conc=conc,
                         cmin=min(cw), cmax=max(cw), ctotal=ctotal, hn=len(window),
                         h50=pct(window, .5), h99=pct(window, .99), hmax=max(window) if window else float("nan"),
                         st=",".join(sorted({str(s) for s in statuses})), herr=len(errs)))
    # over the cap
    over = a.cap + 1
    body, _ = generate(over, a.seed, tag="_over")
    st, data, wall = cl.post("/api/v1/match/schema", json.dumps(body).encode())
    over_line = f"over the cap ({over}x{over} columns, matching.max_columns={a.cap}): HTTP {st} in {wall * 1e3:.1f} ms: {data.decode(errors='replace')[:600]}"
    log("  " + over_line)

    lines = [a.header] if a.header else []
    lines.append(f"/health idle (sequential, keep-alive): n={len(idle)} p50={pct(idle, .5) * 1e3:.2f} ms "
                 f"p99={pct(idle, .99) * 1e3:.2f} ms max={max(idle) * 1e3:.2f} ms")
    lines.append("(a) one request at a time; (b) `conc` requests at once with GET /health back to back (1 client, keep-alive)")
    lines.append(f"{'cols':>9} {'body KB':>8} {'(a) min s':>9} {'med s':>7} {'srv med s':>9} {'matches':>8} {'true/all':>9} | "
                 f"{'conc':>4} {'(b) req s min-max':>18} {'status':>6} | {'health n':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8}")
    for r in rows:
        lines.append(f"{r['n']:>4}x{r['n']:<4} {r['size'] / 1024:8.0f} {r['wmin']:9.3f} {r['wmed']:7.3f} {r['smed']:9.3f} "
                     f"{r['matches']:8d} {r['tp']:>4}/{r['truth']:<4} | {r['conc']:>4} "
                     f"{r['cmin']:8.3f}-{r['cmax']:<9.3f} {r['st']:>6} | {r['hn']:8d} {r['h50'] * 1e3:7.2f} "
                     f"{r['h99'] * 1e3:7.2f} {r['hmax'] * 1e3:8.2f}")
    lines.append(over_line)
    lines.append("targets (issue 16 item 1): 1000x1000 < 2 s; /health p99 < 50 ms while 4 such requests run")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(a.out, "a") as f:
        f.write(text)


if __name__ == "__main__":
    main()
