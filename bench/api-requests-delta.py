#!/usr/bin/env python3
"""Difference of two scrapes of kube-apiserver's `apiserver_request_total` (kubectl get
--raw /metrics | grep ^apiserver_request_total): requests by resource, subresource, verb
and code, most first. Used by bench/operator-100.sh and bench/operator-floor.sh.

Usage: api-requests-delta.py BEFORE AFTER [TOP]"""
import collections
import re
import sys


def load(path):
    out = {}
    for line in open(path):
        m = re.match(r"(\S+)\{(.*)\} (\S+)", line)
        if m:
            out[m.group(2)] = (dict(re.findall(r'(\w+)="([^"]*)"', m.group(2))), float(m.group(3)))
    return out


before, after = load(sys.argv[1]), load(sys.argv[2])
top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
agg = collections.Counter()
for key, (labels, value) in after.items():
    delta = value - before.get(key, (labels, 0.0))[1]
    if delta > 0:
        sub = labels.get("subresource", "")
        res = labels.get("resource", "?") + (f"/{sub}" if sub else "")
        agg[(res, labels.get("verb", "?"), labels.get("code", "?"))] += delta
print(f"API requests: {int(sum(agg.values()))}")
for (res, verb, code), n in agg.most_common(top):
    print(f"  {int(n):6d}  {verb:7s} {res:36s} {code}")
