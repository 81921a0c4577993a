#!/usr/bin/env python3
"""Waits (up to 90 s) until an MLflow experiment holds one FINISHED run per hret run id, tagged
hret.run_id, with the accuracy PostgreSQL has: make test-deploy's check that the MLflow bridge
container forwarded the runs (tests/e2e/bridge_mlflow_check.py checks the bridge in detail).

usage: mlflow_runs.py TRACKING_URI EXPERIMENT RUN_ID=ACCURACY...
"""
import json
import sys
import time
import urllib.parse
import urllib.request


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def missing(base, experiment, want):
    q = urllib.parse.quote(experiment, safe="")
    try:
        exp = call(base, "GET", f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={q}")
    except urllib.error.HTTPError:
        return ["the experiment"]
    runs = call(base, "POST", "/api/2.0/mlflow/runs/search",
                {"experiment_ids": [exp["experiment"]["experiment_id"]], "max_results": 1000})
    got = {}
    for r in runs.get("runs", []):
        tags = {t["key"]: t["value"] for t in r["data"].get("tags", [])}
        metrics = {m["key"]: m["value"] for m in r["data"].get("metrics", [])}
        got.setdefault(tags.get("hret.run_id"), []).append((r["info"]["status"], metrics))
    out = []
    for run_id, acc in want.items():
        rs = got.get(run_id, [])
        if len(rs) != 1 or rs[0][0] != "FINISHED" or abs(rs[0][1].get("accuracy", -1) - acc) > 5e-5:
            out.append(f"{run_id}: {rs}")
    return out


def main():
    base, experiment = sys.argv[1], sys.argv[2]
    want = {a.split("=")[0]: float(a.split("=")[1]) for a in sys.argv[3:]}
    if not want:
        sys.exit("mlflow_runs.py: no run ids")
    for _ in range(90):
        left = missing(base, experiment, want)
        if not left:
            print(f"    MLflow: {len(want)} runs FINISHED in experiment {experiment}, "
                  "accuracy as hret reported")
            return 0
        time.sleep(1)
    sys.exit(f"mlflow_runs.py: not in MLflow after 90 s: {left}")


if __name__ == "__main__":
    sys.exit(main())
