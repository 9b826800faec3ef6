#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Runs every query of the dashboards in dashboards/ against a Prometheus
(selftests/integration/dashboards.sh) and asserts each returns data.

  dashboards_query.py --prom URL --server-name NAME --start UNIX --end UNIX
                      [--rate-interval 1m] [--range 5m]

Template variables are substituted as Grafana would: $server_name -> NAME,
$__rate_interval, $__interval, $__range. A target Grafana runs as a range
query is run with /api/v1/query_range over [start, end]; an instant one (the
tables) with /api/v1/query at end. "Data" means at least one series with at
least one value that is not NaN (histogram_quantile over no traffic gives
NaN, which a panel shows as nothing). The server_name variable's own query
(label_values) must list NAME. Prints "ok - ..." / "not ok - ..." lines
(numbered by the caller) and exits 1 on any failure. Standard library only.
"""
import argparse
import glob
import json
import math
import os
import re
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboards_check import all_panels, substitute, targets  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def get(url, params):
    q = urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(f"{url}?{q}", timeout=10) as r:
        return json.load(r)


def values_of(result, rtype):
    for s in result:
        if rtype == "matrix":
            for _, v in s.get("values", []):
                yield float(v)
        elif rtype == "vector":
            yield float(s["value"][1])
        elif rtype == "scalar":
            yield float(s[1]) if isinstance(s, list) else float(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prom", required=True)
    ap.add_argument("--server-name", required=True)
    ap.add_argument("--start", type=float, required=True)
    ap.add_argument("--end", type=float, required=True)
    ap.add_argument("--rate-interval", default="1m")
    ap.add_argument("--range", default="5m")
    ap.add_argument("--results", help="write each panel's latest values here (docs/img/)")
    a = ap.parse_args()
    out = open(a.results, "w") if a.results else None
    subst = {"server_name": a.server_name, "__rate_interval": a.rate_interval,
             "__interval": "2s", "__range": a.range}
    fails = 0

    def report(ok, name, diag=()):
        nonlocal fails
        print(f"{'ok' if ok else 'not ok'} - {name}")
        if not ok:
            fails += 1
            for d in diag:
                print(f"#   {d}")

    for f in sorted(glob.glob(os.path.join(ROOT, "dashboards", "*.json"))):
        d = json.load(open(f))
        base = os.path.basename(f)
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") != "query":
                continue
            q = substitute(v["query"]["query"] if isinstance(v["query"], dict) else v["query"], subst)
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q.strip())
            if not m:
                report(False, f"{base}: variable {v['name']}: {q}", ["not a label_values(selector, label) query"])
                continue
            r = get(f"{a.prom}/api/v1/label/{m.group(2)}/values",
                    {"match[]": m.group(1), "start": a.start, "end": a.end})
            got = r.get("data", [])
            report(a.server_name in got, f"{base}: variable ${v['name']} = {q} lists {a.server_name!r}",
                   [f"values: {got}"])
        for p, t in targets(d):
            expr = substitute(t["expr"], subst)
            name = f"{base}: panel {p['id']} {p.get('title')!r} {t.get('refId')}"
            try:
                if t.get("instant"):
                    r = get(f"{a.prom}/api/v1/query", {"query": expr, "time": a.end})
                else:
                    r = get(f"{a.prom}/api/v1/query_range",
                            {"query": expr, "start": a.start, "end": a.end, "step": 2})
            except Exception as e:  # noqa: BLE001 (a failed query is a test failure)
                report(False, name, [expr, f"query failed: {e}"])
                continue
            if r.get("status") != "success":
                report(False, name, [expr, json.dumps(r)[:300]])
                continue
            res, rtype = r["data"]["result"], r["data"]["resultType"]
            vals = list(values_of(res, rtype))
            if out:
                out.write(f"{base}  #{p['id']} {p.get('title')}\n")
                for sr in res[:6]:
                    lab = ",".join(f"{k}={v}" for k, v in sorted(sr.get("metric", {}).items())
                                   if k not in ("instance", "job"))
                    last = sr["values"][-1][1] if rtype == "matrix" else sr["value"][1]
                    out.write(f"    {{{lab}}}  {float(last):.4g}\n")
                if len(res) > 6:
                    out.write(f"    … {len(res) - 6} more series\n")
            real = [v for v in vals if not math.isnan(v)]
            report(bool(real), f"{name}: {len(res)} series, {len(real)} values",
                   [expr, f"{rtype} with {len(res)} series, {len(vals)} values, {len(vals) - len(real)} NaN"])
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
