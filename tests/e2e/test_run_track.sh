#!/usr/bin/env bash
# Trackers without the fleet: hret run --track logs the finished run in process through the
# bridges' own sinks, to a real MLflow server, the W&B protocol fake, TensorBoard event files
# (read back with TensorBoard's reader) and a webhook receiver (signature checked); the config's
# mlflow_tracking turns MLflow on for hret run, --track none turns it off; hret runs export RUN
# --track mlflow does the same for a stored run, and a second export changes nothing (bridge_state
# in the database); an unknown sink is a usage error before anything runs.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
mlflow_pid=""
extra_cleanup() {
  [ -z "$mlflow_pid" ] || { pkill -P "$mlflow_pid" 2>/dev/null; kill "$mlflow_pid" 2>/dev/null; } || true
  pg_teardown
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
started() { # name out-file: waits for "listening ...:PORT" and prints the port
  listening_port "$2" "$1"
}

"$src/deploy/local/mlflow.sh" venv >/dev/null # installs once (cached, locked)
mlport=$(free_port)
mlflow="http://127.0.0.1:$mlport"
"$src/deploy/local/mlflow.sh" serve "$work/mlflow" "$mlport" >"$work/mlflow.log" 2>&1 &
mlflow_pid=$!
pg_setup
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 200 --seed 4 >/dev/null
export WANDB_API_KEY="wb-$$-secret" HOOK_SECRET="hook-$$-secret"
start_fake good --answer-key "$work/synth/answer_key.tsv" --accuracy 0.6 --seed 3
python3 "$src/tests/fakes/fake_wandb.py" --port 0 >"$work/wandb.out" 2>>"$work/wandb.log" &
pids+=($!)
wport=$(started fake_wandb "$work/wandb.out")
python3 "$src/tests/fakes/alert_receiver.py" --log "$work/hooks.jsonl" >"$work/hook.out" 2>&1 &
pids+=($!)
hport=$(started receiver "$work/hook.out")
write_config() { # mlflow_tracking
  cat >"$work/hret_config.yaml" <<YAML
log_level: warn
mlflow_tracking: $1
models:
  good: {base_url: "http://127.0.0.1:$port/v1", model: fake-model, max_inflight: 50}
mlflow: {tracking_uri: "$mlflow", experiment: hret-track}
wandb: {base_url: "http://127.0.0.1:$wport", entity: e, project: p, api_key_env: WANDB_API_KEY}
tensorboard: {log_dir: "$work/tb"}
webhooks:
  - {name: hook, url: "http://127.0.0.1:$hport/hook", secret_env: HOOK_SECRET}
YAML
}
write_config false
for _ in $(seq 600); do curl -sf -m 2 "$mlflow/health" >/dev/null && break; sleep 0.5; done
curl -sf -m 2 "$mlflow/health" >/dev/null || fail "mlflow not ready: $(tail -5 "$work/mlflow.log")"
run() { # output run-name extra-args...
  local out=$1 name=$2
  shift 2
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model good --run-name "$name" --meta epoch=2 --output "$work/$out" --quiet "$@" \
    >"$work/$out.txt" 2>&1 || fail "hret run $name: $(cat "$work/$out.txt")"
}
mlflow_runs() { # run-name: the MLflow runs of it (named <run name>/<model> by the sink), as JSON
  curl -sf "$mlflow/api/2.0/mlflow/experiments/get-by-name?experiment_name=hret-track" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["experiment"]["experiment_id"])' >"$work/exp" ||
    { echo; return 0; }
  curl -sf -X POST "$mlflow/api/2.0/mlflow/runs/search" -H 'Content-Type: application/json' \
    -d "{\"experiment_ids\": [\"$(cat "$work/exp")\"], \"filter\": \"tags.\`mlflow.runName\` = '$1/good'\"}"
}

# 1. every sink at once, in process
run all.json all --track mlflow,wandb,tensorboard,webhook
mlflow_runs all >"$work/ml_all.json"
curl -sf "http://127.0.0.1:$wport/_fake/state" >"$work/wandb.json"
venv="$src/deploy/local/.cache/tb-venv"
"$src/tests/support/tb_venv.sh" "$venv" >"$work/tbvenv.log" 2>&1 || fail "tb venv: $(tail -5 "$work/tbvenv.log")"
"$venv/bin/python" - "$work" "$HOOK_SECRET" <<'PY' || fail "the sinks do not hold the run"
import glob, hashlib, hmac, json, sys
work = sys.argv[1]
doc = json.load(open(f"{work}/all.json"))
m, md = doc["metrics"], doc["run_metadata"]
# MLflow: one FINISHED run with every metric at step 2
runs = json.load(open(f"{work}/ml_all.json")).get("runs", [])
assert len(runs) == 1, runs
r = runs[0]
assert r["info"]["status"] == "FINISHED", r["info"]
got = {x["key"]: x for x in r["data"]["metrics"]}
for k in ("accuracy", "errors", "latency_p50_ms"):
    assert abs(got[k]["value"] - m[k]) < 1e-9 and got[k]["step"] == 2, (k, got.get(k), m[k])
for sub in {k.split("/")[0] for k in m if "/" in k}:
    assert abs(got[f"{sub}/accuracy"]["value"] - m[f"{sub}/accuracy"]) < 1e-9, sub
tags = {t["key"]: t["value"] for t in r["data"]["tags"]}
assert tags["hret.run_id"] == md["run_id"] and tags["hret.model"] == "good", tags
# W&B: the protocol fake recorded one completed run named by the run id, no violation
w = json.load(open(f"{work}/wandb.json"))
assert w["violations"] == [], w["violations"]
[wr] = w["runs"]
assert wr["name"] == md["run_id"] and wr["completed"], wr
row = json.loads(wr["history"][0])
assert row["_step"] == 2 and row["accuracy"] == m["accuracy"], row
# TensorBoard: one event file with the accuracy scalar at step 2
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
[d] = {f.rsplit("/", 1)[0] for f in glob.glob(f"{work}/tb/**/events.out.tfevents.*", recursive=True)}
acc = EventAccumulator(d, size_guidance={"scalars": 0})
acc.Reload()
[s] = acc.Scalars("accuracy")
assert s.step == 2 and abs(s.value - m["accuracy"]) < 1e-6, s
# webhook: the run event, signed over timestamp, delivery id and body
[h] = [json.loads(l) for l in open(f"{work}/hooks.jsonl")]
ev = json.loads(h["body"])
assert ev["run_id"] == md["run_id"] and ev["metrics"]["accuracy"] == m["accuracy"], ev
hd = h["headers"]
msg = f'{hd["x-hret-timestamp"]}.{hd["x-hret-delivery"]}.{h["body"]}'.encode()
want = "sha256=" + hmac.new(sys.argv[2].encode(), msg, hashlib.sha256).hexdigest()
assert hmac.compare_digest(hd["x-hret-signature"], want), (hd, want)
PY

# 2. mlflow_tracking: true turns MLflow on for hret run; --track none turns it off
write_config true
run default.json by-default
run off.json turned-off --track none
[ "$(mlflow_runs by-default | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("runs", [])))')" = 1 ] ||
  fail "mlflow_tracking: true did not log the run"
[ "$(mlflow_runs turned-off | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("runs", [])))')" = 0 ] ||
  fail "--track none still logged the run"

# 3. a stored run: runs export --track mlflow, twice; the second changes nothing (bridge_state)
write_config false
run stored.json stored --db "$HRET_PG"
for i in 1 2; do
  "$hret" runs export stored --config "$work/hret_config.yaml" --db "$HRET_PG" --track mlflow \
    >"$work/export$i.out" 2>&1 || fail "runs export --track: $(cat "$work/export$i.out")"
done
grep -q '"run_metadata"' "$work/export1.out" && fail "export --track without --output wrote the document"
grep -q "tracked run" "$work/export1.out" || fail "no tracking line: $(cat "$work/export1.out")"
mlflow_runs stored >"$work/ml_stored.json"
python3 - "$work" <<'PY' || fail "the exported run in MLflow"
import json, sys
work = sys.argv[1]
runs = json.load(open(f"{work}/ml_stored.json")).get("runs", [])
assert len(runs) == 1, [r["info"] for r in runs]  # the second export created nothing
m = json.load(open(f"{work}/stored.json"))["metrics"]
got = {x["key"]: x["value"] for x in runs[0]["data"]["metrics"]}
assert abs(got["accuracy"] - m["accuracy"]) < 1e-9, (got["accuracy"], m["accuracy"])
PY

# 4. an unknown sink: exit 2 before any request
requests_before=$(curl -s "http://127.0.0.1:$port/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["chat_completions"])')
set +e
"$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
  --model good --track mlfow >/dev/null 2>"$work/bad.err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "--track mlfow exited $rc"
grep -q "no sink 'mlfow'" "$work/bad.err" || fail "unclear error: $(cat "$work/bad.err")"
[ "$(curl -s "http://127.0.0.1:$port/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["chat_completions"])')" = "$requests_before" ] ||
  fail "a refused run called the model"
grep -q "$WANDB_API_KEY\|$HOOK_SECRET" "$work"/*.txt "$work"/*.out 2>/dev/null && fail "a secret in the output"
echo "track: every sink reached in process; config default, none, and runs export --track work"
