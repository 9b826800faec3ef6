#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Structure checks of the Grafana dashboards in dashboards/ (make deploy-check).

For each dashboard: panel ids unique (rows and their nested panels
included); every gridPos inside the 24-column grid (w <= 24, x + w <= 24,
h > 0) and no two panels overlapping; every panel and every target uses the
datasource through the `datasource` variable, and no datasource uid or name
is written anywhere; a `datasource` variable of type datasource exists; every
$variable a query uses is defined or one of Grafana's built-ins; every query
parses as PromQL (promtool check rules on the queries as recording rules,
variables substituted). Dashboard uids unique across files. Provisioning
files laid out as Grafana reads them.

Then the checker is shown a broken copy of a dashboard (a duplicate id, an
overlap, a grid overflow, a hard-coded uid, an undefined variable, a PromQL
syntax error) and must reject each.

Python standard library only (plus promtool for the PromQL parse); prints TAP
and "N passed, N failed".
"""
import copy
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DASH = os.path.join(ROOT, "dashboards")
BUILTINS = {"__rate_interval", "__interval", "__range", "__interval_ms", "__range_s", "__range_ms",
            "__dashboard", "__from", "__to", "__name", "__org", "__user", "__url_time_range", "__all_panels"}
DS_VAR = re.compile(r"^\$\{?datasource\}?$")
# values the integration test (selftests/integration/dashboards.sh) uses too
SUBST = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m", "server_name": "x"}


def all_panels(d):
    for p in d.get("panels", []):
        yield p
        for q in p.get("panels", []):
            yield q


def targets(d):
    for p in all_panels(d):
        for t in p.get("targets", []):
            yield p, t


def substitute(expr, values=SUBST):
    def rep(m):
        name = m.group(1) or m.group(2)
        return values.get(name, m.group(0))
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", rep, expr)


def check_grid(d):
    errs, boxes = [], []
    for p in all_panels(d):
        g = p.get("gridPos") or {}
        x, y, w, h = (g.get(k) for k in ("x", "y", "w", "h"))
        name = f"panel {p.get('id')} {p.get('title')!r}"
        if not all(isinstance(v, int) for v in (x, y, w, h)):
            errs.append(f"{name}: gridPos {g} not four integers")
            continue
        if not (0 < w <= 24 and h > 0 and x >= 0 and y >= 0 and x + w <= 24):
            errs.append(f"{name}: gridPos {g} outside the 24-column grid")
        for (ox, oy, ow, oh, oname) in boxes:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                errs.append(f"{name} overlaps {oname}")
        boxes.append((x, y, w, h, name))
    return errs


def check_ids(d):
    seen, errs = {}, []
    for p in all_panels(d):
        i = p.get("id")
        if not isinstance(i, int):
            errs.append(f"panel {p.get('title')!r} has no integer id")
        elif i in seen:
            errs.append(f"id {i} used by {seen[i]!r} and {p.get('title')!r}")
        else:
            seen[i] = p.get("title")
    return errs


def check_datasource(d):
    errs = []

    def ds_ok(v):
        if isinstance(v, str):
            return bool(DS_VAR.match(v))
        if isinstance(v, dict):
            return bool(DS_VAR.match(str(v.get("uid", "")))) and v.get("type") in (None, "prometheus")
        return False

    def walk(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "datasource" and not ds_ok(v):
                    errs.append(f"{path}.datasource = {json.dumps(v)}: not the $datasource variable")
                walk(v, f"{path}.{k}")
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, f"{path}[{i}]")
    # the variable of type datasource itself has no datasource
    walk({k: v for k, v in d.items() if k != "templating"}, "dashboard")
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "datasource":
            walk(v, f"templating.{v.get('name')}")
    for p in all_panels(d):
        if p.get("type") != "row" and "datasource" not in p:
            errs.append(f"panel {p.get('id')} {p.get('title')!r} has no datasource")
    for p, t in targets(d):
        if "datasource" not in t:
            errs.append(f"panel {p.get('id')} target {t.get('refId')} has no datasource")
    if "__inputs" in d and d["__inputs"]:
        errs.append("__inputs names a datasource to import: use the variable instead")
    vs = [v for v in d.get("templating", {}).get("list", []) if v.get("name") == "datasource"]
    if not vs or vs[0].get("type") != "datasource" or vs[0].get("query") != "prometheus":
        errs.append("no variable `datasource` of type datasource (query: prometheus)")
    return errs


def check_variables(d):
    defined = {v.get("name") for v in d.get("templating", {}).get("list", [])}
    errs = []
    texts = [(f"panel {p.get('id')} target {t.get('refId')}", t.get("expr", "")) for p, t in targets(d)]
    texts += [(f"variable {v.get('name')}", json.dumps(v.get("query", ""))) for v in d.get("templating", {}).get("list", [])]
    texts += [(f"panel {p.get('id')} title", p.get("title", "")) for p in all_panels(d)]
    for where, s in texts:
        for m in re.finditer(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", s):
            name = m.group(1) or m.group(2)
            if name not in defined and name not in BUILTINS:
                errs.append(f"{where}: ${name} is not defined")
    for p, t in targets(d):
        if not t.get("expr", "").strip():
            errs.append(f"panel {p.get('id')} target {t.get('refId')}: empty expr")
    return errs


def check_promql(d, promtool):
    """promtool parses each query as a recording rule's expression."""
    if not promtool:
        return ["promtool not found (apt-get install prometheus)"]
    rules = []
    for n, (p, t) in enumerate(targets(d)):
        rules.append({"record": f"dashboard:q{n}", "expr": substitute(t["expr"]),
                      "labels": {"panel": str(p.get("id")), "ref": t.get("refId", "")}})
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "q.yml")
        with open(f, "w") as fh:
            json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, fh)  # JSON is YAML
        r = subprocess.run([promtool, "check", "rules", f], capture_output=True, text=True)
    if r.returncode != 0:
        return [l for l in (r.stdout + r.stderr).splitlines() if l.strip() and "Checking" not in l]
    return []


CHECKS = [
    ("panel ids unique", check_ids),
    ("gridPos within 24 columns, no overlaps", check_grid),
    ("every panel and target uses the $datasource variable, no datasource uid anywhere", check_datasource),
    ("every $variable used is defined or built in", check_variables),
]


class Tap:
    def __init__(self):
        self.n = self.passed = self.failed = 0

    def check(self, name, errs):
        self.n += 1
        if errs:
            self.failed += 1
            print(f"not ok {self.n} - {name}")
            for e in errs[:20]:
                print(f"#   {e}")
        else:
            self.passed += 1
            print(f"ok {self.n} - {name}")


def check_provisioning(t):
    ds = glob.glob(os.path.join(DASH, "provisioning", "datasources", "*.yml"))
    db = glob.glob(os.path.join(DASH, "provisioning", "dashboards", "*.yml"))
    errs = []
    if not ds:
        errs.append("no dashboards/provisioning/datasources/*.yml")
    if not db:
        errs.append("no dashboards/provisioning/dashboards/*.yml")
    for f in ds + db:
        s = open(f).read()
        if not re.search(r"^apiVersion: 1$", s, re.M):
            errs.append(f"{f}: no `apiVersion: 1`")
    for f in ds:
        s = open(f).read()
        if not re.search(r"^datasources:$", s, re.M) or not re.search(r"^\s+type: prometheus$", s, re.M):
            errs.append(f"{f}: no prometheus datasource")
        if re.search(r"^\s+uid:", s, re.M):
            errs.append(f"{f}: sets a uid (the dashboards must not depend on one)")
    for f in db:
        s = open(f).read()
        if not re.search(r"^providers:$", s, re.M) or not re.search(r"^\s+type: file$", s, re.M) \
                or not re.search(r"^\s+path: /", s, re.M):
            errs.append(f"{f}: no file provider with an options.path")
    t.check("provisioning: datasources/*.yml and dashboards/*.yml as Grafana reads them (apiVersion 1, prometheus, file provider)", errs)


def main():
    promtool = shutil.which("promtool")
    t = Tap()
    files = sorted(glob.glob(os.path.join(DASH, "*.json")))
    t.check("dashboards/*.json exist (overview and server drill-down)",
            [] if len(files) >= 2 else [f"found {files}"])
    dashboards, uids = {}, {}
    for f in files:
        name = os.path.basename(f)
        try:
            d = json.load(open(f))
        except ValueError as e:
            t.check(f"{name}: valid JSON", [str(e)])
            continue
        dashboards[name] = d
        t.check(f"{name}: valid JSON, uid {d.get('uid')!r}, {sum(1 for _ in all_panels(d))} panels, "
                f"{sum(1 for _ in targets(d))} queries",
                [] if d.get("uid") and d.get("title") and d.get("schemaVersion") else ["missing uid, title or schemaVersion"])
        uids.setdefault(d.get("uid"), []).append(name)
        for label, fn in CHECKS:
            t.check(f"{name}: {label}", fn(d))
        t.check(f"{name}: every query parses as PromQL (promtool)", check_promql(d, promtool))
    t.check("dashboard uids unique", [f"{u}: {v}" for u, v in uids.items() if len(v) > 1])
    srv = [d for d in dashboards.values()
           if any(v.get("name") == "server_name" for v in d.get("templating", {}).get("list", []))]
    errs = []
    if not srv:
        errs.append("no dashboard with a server_name variable")
    for d in srv:
        v = next(v for v in d["templating"]["list"] if v["name"] == "server_name")
        if "label_values(" not in json.dumps(v.get("query")) or not DS_VAR.match(str(v.get("datasource", {}).get("uid", ""))):
            errs.append("server_name is not a label_values query on $datasource")
        if not all('server_name="$server_name"' in tt.get("expr", "") for _, tt in targets(d)):
            errs.append("a drill-down query does not select server_name=\"$server_name\"")
    t.check("drill-down: server_name variable from label_values on $datasource, every query filtered by it", errs)
    check_provisioning(t)

    # The checker rejects what it should.
    if dashboards:
        base = next(iter(dashboards.values()))
        ps = [p for p in base["panels"] if p.get("type") != "row"]

        def broken(mutate):
            d = copy.deepcopy(base)
            mutate(d, [p for p in d["panels"] if p.get("type") != "row"])
            return d
        cases = [
            ("a duplicate panel id", check_ids, lambda d, p: p[1].update(id=p[0]["id"])),
            ("two overlapping panels", check_grid, lambda d, p: p[1].update(gridPos=dict(p[0]["gridPos"]))),
            ("x + w > 24", check_grid, lambda d, p: p[0]["gridPos"].update(x=20, w=8)),
            ("a hard-coded datasource uid in a target", check_datasource,
             lambda d, p: p[0]["targets"][0].update(datasource={"type": "prometheus", "uid": "P1809F7CD0C75ACF3"})),
            ("a panel datasource given by name", check_datasource, lambda d, p: p[0].update(datasource="Prometheus")),
            ("an undefined $variable", check_variables,
             lambda d, p: p[0]["targets"][0].update(expr=p[0]["targets"][0]["expr"].replace("mcpwire", "$cluster"))),
            ("a PromQL syntax error", lambda d: check_promql(d, promtool),
             lambda d, p: p[0]["targets"][0].update(expr="sum(rate(mcp_requests_total[1m])")),
        ]
        assert ps
        for what, fn, mutate in cases:
            t.check(f"checker rejects {what}", [] if fn(broken(mutate)) else ["accepted"])

    print(f"1..{t.n}")
    print(f"{t.passed} passed, {t.failed} failed")
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
