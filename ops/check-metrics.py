#!/usr/bin/env python3
"""Checks a running worker's /metrics against what the repository promises about it.

Usage: check-metrics.py METRICS_TEXT README.md RULES.yml DASHBOARD.json

- Prometheus conventions: every family has `# HELP` and `# TYPE`, each once; counters end in
  `_total`; no family is exported twice.
- Every metric the README's metrics table lists is exported (from start-up, at 0).
- Every metric the alert rules and the Grafana dashboard query is exported.
- Retired duplicates are gone (quote_relay_alphavantage_throttled_total: use
  quote_relay_alphavantage_errors_total{kind="throttled"}).
- With promtool on PATH, every dashboard query is valid PromQL.
Exit 0 when all hold, 1 with one line per problem otherwise.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

NAME = re.compile(r"\bquote_relay_[a-z0-9_]+")


def families(text):
    helps, types, samples = {}, {}, set()
    problems = []
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            if name in helps:
                problems.append(f"{name}: HELP twice")
            helps[name] = line
        elif line.startswith("# TYPE "):
            parts = line.split()
            if parts[2] in types:
                problems.append(f"{parts[2]}: TYPE twice (a duplicate family)")
            types[parts[2]] = parts[3]
        elif line and not line.startswith("#"):
            samples.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    for name, kind in types.items():
        if name not in helps:
            problems.append(f"{name}: no # HELP line")
        if kind == "counter" and not name.endswith("_total"):
            problems.append(f"{name}: a counter whose name does not end in _total")
    return helps, types, samples, problems


def exported(name, types, samples):
    if name in types or name in samples:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) == "histogram":
            return True
    return False


def readme_metrics(readme):
    # The metrics table: rows that start with | `quote_relay_...`
    names = set()
    for line in readme.splitlines():
        m = re.match(r"\|\s*`(quote_relay_[a-z0-9_]+)", line)
        if m:
            names.add(m.group(1))
    return names


def dashboard_exprs(dashboard):
    exprs = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            if target.get("expr"):
                exprs.append((panel.get("title", "?"), target["expr"]))
    for var in dashboard.get("templating", {}).get("list", []):
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if isinstance(query, str) and "quote_relay_" in query:
            exprs.append((f"variable {var.get('name')}", query))
    return exprs


def main():
    metrics_path, readme_path, rules_path, dashboard_path = sys.argv[1:5]
    text = open(metrics_path).read()
    helps, types, samples, problems = families(text)
    if not types:
        problems.append("no metric families in the /metrics text")

    listed = readme_metrics(open(readme_path).read())
    if len(listed) < 10:
        problems.append(f"README.md: only {len(listed)} metrics found in its metrics table")
    for name in sorted(listed):
        if not exported(name, types, samples):
            problems.append(f"README.md lists {name}, /metrics does not have it")
    for name in sorted(types):
        if name.startswith("quote_relay_") and name not in listed:
            problems.append(f"/metrics exports {name}, README.md's metrics table does not list it")

    rules = open(rules_path).read()
    for name in sorted(set(NAME.findall(rules))):
        if not exported(name, types, samples):
            problems.append(f"{os.path.basename(rules_path)} uses {name}, /metrics does not have it")

    dashboard = json.load(open(dashboard_path))
    exprs = dashboard_exprs(dashboard)
    if not exprs:
        problems.append("the dashboard has no queries")
    for title, expr in exprs:
        for name in sorted(set(NAME.findall(expr))):
            if not exported(name, types, samples):
                problems.append(f"dashboard panel '{title}' queries {name}, /metrics does not have it")

    if "quote_relay_alphavantage_throttled_total" in types:
        problems.append("quote_relay_alphavantage_throttled_total duplicates quote_relay_alphavantage_errors_total{kind=\"throttled\"}")

    if shutil.which("promtool"):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dashboard-queries.yml")
            with open(path, "w") as f:
                f.write("groups:\n  - name: dashboard\n    rules:\n")
                for i, (title, expr) in enumerate(e for e in exprs if not e[0].startswith("variable")):
                    concrete = expr.replace("$instance", ".*")
                    f.write(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(concrete)}\n")
            result = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
            if result.returncode != 0:
                problems.append("dashboard queries are not valid PromQL:\n" + result.stdout + result.stderr)

    for p in problems:
        print("check-metrics: " + p)
    if problems:
        return 1
    print(f"check-metrics: {len(types)} families, all with HELP; README's {len(listed)} metrics, "
          f"{len(set(NAME.findall(rules)))} names in the alert rules and {len(exprs)} dashboard queries all exported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
