#!/usr/bin/env python3
"""Example as Knowledge at its limits (issue 16, item 2): the latency of one key's entity
match with 0 stored examples, while another tenant holds KEEP (200) examples of the
largest size (8 KiB each), and with KEEP such examples of its own.

    bench/eak.py [BIN]          # default target/release/kcmf-matcher; nothing is built
    RUNS=200 PAIRS="1 20" bench/eak.py /tmp/old-kcmf-matcher

Starts `kcmf-matcher serve` on a free port with a throwaway data dir, the result cache
off (every request is computed) and RATE_LIMIT high; the bootstrap admin key is read
from its stderr. Keys A and B are created; every request body is distinct. For each
request size (PAIRS pairs per request) it prints the client-side median and p90 and the
server's median elapsed_ms, in three states: nothing stored; B holds KEEP examples (A's
answers must be the very same as before: checked, the script fails otherwise); A holds
KEEP examples. Appends the table to bench/out/eak.txt with the load average.
"""

import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/kcmf-matcher")
RUNS = int(os.environ.get("RUNS", "100"))
PAIRS = [int(p) for p in os.environ.get("PAIRS", "1 20").split()]
KEEP = int(os.environ.get("KEEP", "200"))
MAX_BYTES = int(os.environ.get("MAX_EXAMPLE_BYTES", "8192"))
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee "
         "zulu street avenue road north south east west main park lake hill river").split()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method, path, key=None, body=None):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["X-API-Key"] = key
        data = json.dumps(body).encode() if body is not None else None
        t = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        ms = (time.perf_counter() - t) * 1000
        return r.status, (json.loads(raw) if raw else None), ms


def big_record(rng, budget):
    """A flat record of about `budget` bytes as JSON, of varied words (many trigrams)."""
    rec = {"name": " ".join(rng.choice(WORDS) for _ in range(4)),
           "city": rng.choice(WORDS), "phone": f"{rng.randint(200, 999)}-555-{rng.randint(0, 9999):04d}"}
    i = 0
    while len(json.dumps(rec)) < budget - 120:
        rec[f"note_{i}"] = " ".join(rng.choice(WORDS) + str(rng.randint(0, 99)) for _ in range(12))
        i += 1
    return rec


def max_example(rng):
    while True:
        left, right = big_record(rng, MAX_BYTES // 2), big_record(rng, MAX_BYTES // 2)
        if len(json.dumps(left)) + len(json.dumps(right)) <= MAX_BYTES:
            return {"kind": "entity", "match": rng.random() < 0.5, "left": left, "right": right}


def pair(rng, i):
    first = rng.choice(["John", "Mary", "Peter", "Anna", "Lee"])
    last = rng.choice(["Smith", "Jones", "Brown", "Taylor"])
    city = rng.choice(["Boston", "Denver", "Austin"])
    return {"left": {"name": f"{first} {last} {i}", "city": city, "phone": f"617-555-{i % 10000:04d}"},
            "right": {"name": f"{first[0]}. {last} {i}", "city": city, "phone": f"617 555 {i % 10000:04d}"}}


def measure(c, key, n_pairs, seed):
    """RUNS distinct requests of n_pairs pairs; returns (client ms, server ms, answers)."""
    rng = random.Random(seed)
    client, server, answers = [], [], []
    for r in range(RUNS):
        body = {"pairs": [pair(rng, r * 1000 + j) for j in range(n_pairs)]}
        st, out, ms = c.call("POST", "/api/v1/match/entity", key, body)
        if st != 200:
            sys.exit(f"match answered {st}: {out}")
        client.append(ms)
        server.append(out["elapsed_ms"])
        answers.append([(x["match"], x["score"], x["rule"], x["reasoning"]) for x in out["results"]])
    return client, server, answers


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no executable {BIN} (build it, or pass its path)")
    data = tempfile.mkdtemp(prefix="kcmf-eak.")
    cfg = os.path.join(data, "bench.yaml")
    with open(cfg, "w") as f:
        f.write("cache:\n  enabled: false\n")
    port = free_port()
    err_path = os.path.join(data, "serve.err")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
           "KCMF_DATA_DIR": data, "KCMF_CONFIG": cfg, "PORT": str(port),
           "RATE_LIMIT": "1000000000", "LOG_LEVEL": "warn"}
    err = open(err_path, "w")
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        admin = None
        for _ in range(600):
            time.sleep(0.1)
            with open(err_path) as f:
                m = re.search(r"^\s*(kcmf_\S+)\s*$", f.read(), re.M)
            if m:
                admin = m.group(1)
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    continue
        if not admin:
            sys.exit("server did not start:\n" + open(err_path).read())
        c = Client(port)
        keys = {}
        for name in ("a", "b"):
            st, out, _ = c.call("POST", "/api/v1/keys", admin, {"name": name})
            assert st == 201, out
            keys[name] = out["key"]
        rng = random.Random(16)
        examples = [max_example(rng) for _ in range(KEEP)]
        sizes = [len(json.dumps(e["left"])) + len(json.dumps(e["right"])) for e in examples]

        def feed(key):
            for e in examples:
                st, out, _ = c.call("POST", "/api/v1/feedback", key, e)
                if st != 201:
                    sys.exit(f"feedback answered {st}: {out}")

        rows, seen = [], {}
        for state in ("none stored", "B holds KEEP", "A holds KEEP"):
            if state == "B holds KEEP":
                feed(keys["b"])
            if state == "A holds KEEP":
                feed(keys["a"])
            for n in PAIRS:
                measure(c, keys["a"], n, seed=999)  # warm-up
                cl, sv, ans = measure(c, keys["a"], n, seed=n)
                if state == "B holds KEEP" and ans != seen[n]:
                    sys.exit("another tenant's examples changed key A's answers")
                seen.setdefault(n, ans)
                voted = sum(any(l.startswith("[examples]") for l in a[3]) for res in ans for a in res)
                rows.append((state, n, statistics.median(cl), pct(cl, 0.9), statistics.median(sv), voted))
        load = open("/proc/loadavg").read().split()[:3]
        out = [f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} bin={BIN} runs={RUNS} "
               f"keep={KEEP} example bytes {min(sizes, default=0)}-{max(sizes, default=0)} load={' '.join(load)}",
               f"{'state':<14} {'pairs':>5} {'median ms':>10} {'p90 ms':>8} {'server ms':>10} {'[examples] votes':>17}"]
        for state, n, med, p90, smed, voted in rows:
            out.append(f"{state:<14} {n:>5} {med:>10.2f} {p90:>8.2f} {smed:>10.2f} {voted:>17}")
        text = "\n".join(out)
        print(text)
        os.makedirs(os.path.join(ROOT, "bench/out"), exist_ok=True)
        with open(os.path.join(ROOT, "bench/out/eak.txt"), "a") as f:
            f.write(text + "\n\n")
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        err.close()
        subprocess.run(["rm", "-rf", data])


if __name__ == "__main__":
    main()
