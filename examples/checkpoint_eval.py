#!/usr/bin/env python3
"""Checkpoint evaluation from a training loop.

Every other epoch the "training job" serves its checkpoint (here: fake-llm answers as ckpt-N,
better each time) and asks the fleet to evaluate it, without waiting: training goes on while
workers score. metadata.epoch is the step: the MLflow bridge logs each run's metrics at that
step, so one run name makes one curve, and `hret metrics history` lists them in order.
At the end the job waits for its evaluations and prints the curve.

Needs only the hret CLI on PATH (or HRET_BIN); no Python package.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HRET = os.environ.get("HRET_BIN", "hret")
FAKE_URL = os.environ["FAKE_URL"]  # set by examples/lib.sh (python3 is started through it)


def submit(epoch, run_name, workdir):
    """Sends one evaluation request for this epoch's checkpoint; returns its request id."""
    request = {
        "run_name": run_name,
        "datasets": [{"name": "kmmlu"}],
        # the checkpoint as an inline endpoint: a label for the runs, and where it is served
        "models": [{"name": "trainee", "endpoint": {"base_url": FAKE_URL, "model": f"ckpt-{epoch // 2}"}}],
        "metadata": {"epoch": epoch, "git_sha": "0badc0de"},
        "tracking": {"mlflow": {"experiment": "training"}} if os.environ.get("MLFLOW_URL") else {},
    }
    path = os.path.join(workdir, f"epoch{epoch}.json")
    with open(path, "w") as f:
        json.dump(request, f)
    out = subprocess.run([HRET, "submit", path], check=True, capture_output=True, text=True)
    return out.stdout.split()[0]


def main():
    run_name = f"training-{int(time.time())}"
    requests = []
    with tempfile.TemporaryDirectory() as workdir:
        for epoch in range(1, 9):
            time.sleep(0.2)  # train_epoch(epoch)
            if epoch % 2 == 0:
                rid = submit(epoch, run_name, workdir)
                requests.append(rid)
                print(f"epoch {epoch}: checkpoint ckpt-{epoch // 2} submitted, request {rid}")
    print("training done; waiting for the evaluations")
    for rid in requests:
        for _ in range(300):
            out = subprocess.run([HRET, "status", rid, "--json"], capture_output=True, text=True)
            if out.returncode == 0 and json.loads(out.stdout).get("status") in ("completed", "failed"):
                break
            time.sleep(0.5)
        else:
            sys.exit(f"request {rid} did not finish in 150 s (hret status {rid})")
    print("accuracy by epoch (hret metrics history --metric accuracy --model trainee):")
    hist = subprocess.run([HRET, "metrics", "history", "--metric", "accuracy", "--model", "trainee",
                           "--json"], check=True, capture_output=True, text=True)
    rows = [r for r in json.loads(hist.stdout) if r.get("run_name") == run_name]
    for r in rows:
        show = subprocess.run([HRET, "runs", "show", r["run_id"], "--json"], check=True,
                              capture_output=True, text=True)
        epoch = json.loads(show.stdout)["metadata"].get("epoch")
        print(f"  epoch {epoch}: accuracy {r['value']:.3f}  (run {r['run_id'][:8]})")
    if len(rows) != len(requests):
        sys.exit(f"expected {len(requests)} runs of {run_name}, found {len(rows)}")


if __name__ == "__main__":
    main()
