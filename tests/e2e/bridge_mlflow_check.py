#!/usr/bin/env python3
"""Reads an MLflow server back through its REST API and checks it against hret's run events.

usage: bridge_mlflow_check.py TRACKING_URI EXPERIMENT EVENTS.jsonl PHASE

For every run event (completed or failed) in EVENTS.jsonl the experiment holds exactly one run
tagged hret.run_id, and nothing else: its name, status, tags, params (metadata flattened with dots), every forwarded metric (track_metrics applied) at
the event's step with exactly one history point, and hret_results.json equal to the event.
"""
import json
import math
import sys
import urllib.parse
import urllib.request

base, experiment, events_path, phase = sys.argv[1:5]


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def q(value):
    return urllib.parse.quote(value, safe="")


def expected_metrics(ev):
    """The names and values hret_sink_metrics forwards (worker/sinks/hret_sink.h)."""
    tracked = ev.get("track_metrics")
    ok = lambda n: not tracked or n in tracked or n.split("/")[-1] in tracked
    num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    want = {k: v for k, v in ev.get("metrics", {}).items() if num(v) and ok(k)}
    for subset, metrics in ev.get("subset_metrics", {}).items():
        want.update({f"{subset}/{k}": v for k, v in metrics.items()
                     if num(v) and ok(f"{subset}/{k}") and f"{subset}/{k}" not in want})
    extra = (("cost_usd", ev.get("cost_usd")),
             ("tokens_input", ev.get("tokens", {}).get("input")),
             ("tokens_output", ev.get("tokens", {}).get("output")),
             ("errors", ev.get("counts", {}).get("errors")),
             ("parse_failures", ev.get("counts", {}).get("parse_failures")))
    for k, v in extra:
        if num(v) and k not in want and ok(k):
            want[k] = v
    return want


def flatten(prefix, value):
    """Params as the sink derives them: nested objects dotted, other values as compact JSON."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(f"{prefix}.{k}" if prefix else k, v))
        return out
    return {prefix: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))}


events = [json.loads(line) for line in open(events_path, encoding="utf-8") if line.strip()]
runs_ev = {e["run_id"]: e for e in events
           if e.get("run_id") and e.get("status") in ("completed", "failed")}
exp = call("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=" + q(experiment))
exp_id = exp["experiment"]["experiment_id"]
runs = call("POST", "/api/2.0/mlflow/runs/search",
            {"experiment_ids": [exp_id], "max_results": 1000}).get("runs", [])
assert len(runs) == len(runs_ev), f"{phase}: {len(runs)} MLflow runs for {len(runs_ev)} run events"

by_run = {}
for r in runs:
    tags = {t["key"]: t["value"] for t in r["data"].get("tags", [])}
    by_run.setdefault(tags.get("hret.run_id"), []).append(r)

for run_id, ev in runs_ev.items():
    got = by_run.get(run_id, [])
    assert len(got) == 1, f"{phase}: {len(got)} MLflow runs tagged hret.run_id={run_id}"
    info, data = got[0]["info"], got[0]["data"]
    tags = {t["key"]: t["value"] for t in data.get("tags", [])}
    params = {p["key"]: p["value"] for p in data.get("params", [])}
    latest = {m["key"]: m for m in data.get("metrics", [])}
    model, dataset = ev["model"]["name"], ev["dataset"]["name"]
    name = f"{ev['run_name']}/{model}" if ev.get("run_name") else f"{model}/{dataset}"
    assert info["run_name"] == name, (info["run_name"], name)
    status = "FINISHED" if ev["status"] == "completed" else "FAILED"
    assert info["status"] == status, (run_id, info["status"])
    want_tags = {"hret.request_id": ev["request_id"], "hret.run_id": run_id,
                 "hret.model": model, "hret.dataset": dataset}
    if ev["dataset"].get("version"):
        want_tags["hret.dataset_version"] = ev["dataset"]["version"]
    for k, v in want_tags.items():
        assert tags.get(k) == v, (run_id, k, tags.get(k), v)
    assert tags.get("hret.version"), tags
    if ev["status"] == "failed":
        assert tags.get("hret.error_class") == ev["error"]["class"], tags
        assert tags.get("hret.error") == ev["error"]["message"], tags
    meta = ev.get("metadata", {})
    for k, v in flatten("", meta).items():
        assert params.get(k) == v, (k, params.get(k), v)
    if "evaluation" in ev:
        assert params.get("evaluation.method") == ev["evaluation"]["method"], params
    step = int(meta.get("epoch", meta.get("step", 0)))
    want = expected_metrics(ev)
    assert "accuracy" in want, want
    assert set(latest) == set(want), (run_id, sorted(set(latest) ^ set(want)))
    for key, value in want.items():
        assert float(latest[key]["value"]) == float(value), (key, latest[key]["value"], value)
        assert int(latest[key]["step"]) == step, (key, latest[key]["step"], step)
        hist = call("GET", f"/api/2.0/mlflow/metrics/get-history?run_id={info['run_id']}"
                    f"&metric_key={q(key)}")["metrics"]
        assert len(hist) == 1, f"{phase}: {key} of {run_id} has {len(hist)} history points"
    listed = call("GET", f"/api/2.0/mlflow/artifacts/list?run_id={info['run_id']}")
    assert [f["path"] for f in listed.get("files", [])] == ["hret_results.json"], listed
    uri = info["artifact_uri"]
    assert uri.startswith("mlflow-artifacts:/"), uri
    art = call("GET", "/api/2.0/mlflow-artifacts/artifacts/"
               + uri[len("mlflow-artifacts:/"):].lstrip("/") + "/hret_results.json")
    assert art == ev, f"{phase}: hret_results.json of {run_id} differs from the event"
    print(f"{phase}: {name} {status} step {step}: {len(want)} metrics "
          f"(accuracy {latest['accuracy']['value']}), {len(params)} params")
