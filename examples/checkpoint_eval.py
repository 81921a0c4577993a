#!/usr/bin/env python3
"""Checkpoint evaluation from a training loop, with the Python client (clients/python).

Every other epoch the "training job" serves its checkpoint (here: fake-llm answers as ckpt-N,
better each time) and asks the fleet to evaluate it over `hret api`, without waiting: training
goes on while workers score. metadata.epoch is the step: the MLflow bridge logs each run's
metrics at that step, so one run name makes one curve. At the end the job waits for its
evaluations and prints the curve from the service's metric history.

Needs `pip install clients/python` (checkpoint_eval.sh runs it from the source tree) and
HRET_API_URL / HRET_API_TOKEN (examples/stack.sh up sets them).
"""
import os
import sys
import time

import hret

FAKE_URL = os.environ["FAKE_URL"]  # set by examples/lib.sh (where the checkpoints are served)


def request_for(epoch, run_name):
    """One evaluation request for this epoch's checkpoint (the JSON of a Kafka request)."""
    return {
        "run_name": run_name,
        "datasets": [{"name": "kmmlu"}],
        # the checkpoint as an inline endpoint: a label for the runs, and where it is served
        "models": [{"name": "trainee", "endpoint": {"base_url": FAKE_URL, "model": f"ckpt-{epoch // 2}"}}],
        "metadata": {"epoch": epoch, "git_sha": "0badc0de"},
        "tracking": {"mlflow": {"experiment": "training"}} if os.environ.get("MLFLOW_URL") else {},
    }


def main():
    client = hret.Client()  # HRET_API_URL, HRET_API_TOKEN
    run_name = f"training-{int(time.time())}"
    requests = []
    for epoch in range(1, 9):
        time.sleep(0.2)  # train_epoch(epoch)
        if epoch % 2 == 0:
            # the key makes a retried submit (a lost answer, a restarted job) the same request
            rid = client.submit(request_for(epoch, run_name),
                                idempotency_key=f"{run_name}-epoch{epoch}")
            requests.append(rid)
            print(f"epoch {epoch}: checkpoint ckpt-{epoch // 2} submitted, request {rid}")
    print("training done; waiting for the evaluations")
    for rid in requests:
        status = client.wait(rid, timeout=150)
        if status.status != "completed":
            sys.exit(f"request {rid} {status.status}: {status.get('error')}")
    print("accuracy by epoch (GET /v1/metrics/history?metric=accuracy&model=trainee):")
    rows = [p for p in client.metrics_history("accuracy", model="trainee")
            if p.get("run_name") == run_name]
    # runs are listed as the fleet created them, which need not be the order they were asked
    by_epoch = sorted((client.run(p["run_id"], samples=False).run["metadata"].get("epoch"), p)
                      for p in rows)
    for epoch, p in by_epoch:
        print(f"  epoch {epoch}: accuracy {p['value']:.3f}  (run {p['run_id'][:8]})")
    if len(rows) != len(requests):
        sys.exit(f"expected {len(requests)} runs of {run_name}, found {len(rows)}")


if __name__ == "__main__":
    main()
