#!/usr/bin/env bash
# hret bridge tensorboard end to end: real Kafka, PostgreSQL, fake-llm and a worker
# (stack_env.sh); the event files are read back with the tensorboard package's own reader
# (EventAccumulator, in a venv cached under deploy/local/.cache/tb-venv).
#   1. a two-model request with --meta epoch=2 (tensorboard_tracking on in the config) becomes one
#      event file per run under <log_dir>/<run_name>/<model>/: file_version brain.Event:2, every
#      metric of the result event as a scalar equal to it (as float32) at step 2, wall time =
#      finished_at; bridge_state says finished;
#   2. events produced by hand onto the results topic: tracking {"tensorboard": false} is skipped
#      (no directory); track_metrics ["accuracy"] keeps accuracy and SUBSET/accuracy only, at step
#      metadata.step ("7"); the comparison event is skipped; a malformed run event (no
#      finished_at) goes to hret.bridge.tensorboard.dlq with the reason;
#   3. the bridge again from the first event (--group fresh): every file byte for byte unchanged
#      and no new file.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

venv="$src/deploy/local/.cache/tb-venv"
tb_venv() { # the reader's venv, created once (tests/support/tb_venv.sh)
  "$src/tests/support/tb_venv.sh" "$venv" 2>"$work/pip.log" || fail "pip install tensorboard: $(cat "$work/pip.log")"
}

start_bridge() { # log extra-args...
  local log=$1
  shift
  HRET_LOG_LEVEL=debug "$hret" bridge tensorboard --config "$work/hret.yaml" "$@" \
    >>"$work/$log" 2>&1 &
  bridge=$!
  pids+=($bridge)
}

tb_venv
stack_up 40
stack_config "tensorboard_tracking: true" "tensorboard: {log_dir: \"$work/tb\"}" \
  'http: {listen: "127.0.0.1:0"}'
stack_worker

# 1. two real runs --------------------------------------------------------------------------------
stack_submit --dataset kmmlu --model a,b --run-name tbrun --meta epoch=2 >"$work/submit.out" ||
  fail "submit: $(cat "$work/submit.out")"
stack_check_calls 80 # once per sample of both runs (issue 16)

# 2. hand-made events ------------------------------------------------------------------------------
base='"request_id":"req-hand","status":"completed","dataset":{"name":"kmmlu","split":"test"},
"evaluation":{"method":"string_match"},"counts":{"samples":2,"errors":0},
"started_at":"2026-11-28T09:00:00.000Z"'
base=$(echo "$base" | tr -d '\n')
stack_produce hand-off hret.run.completed.v1 run-off "{$base,\"run_id\":\"run-off\",\"run_name\":\"off\",
\"model\":{\"name\":\"a\"},\"metrics\":{\"accuracy\":0.5},\"finished_at\":\"2026-11-28T09:30:00.000Z\",
\"tracking\":{\"tensorboard\":false}}"
stack_produce hand-tracked hret.run.completed.v1 run-tracked "{$base,\"run_id\":\"../../run-tracked\",
\"run_name\":\"tracked\",\"model\":{\"name\":\"org/m\"},\"metrics\":{\"accuracy\":0.25,
\"latency_p50_ms\":12.5},\"subset_metrics\":{\"law\":{\"accuracy\":0.125,\"total\":8}},
\"finished_at\":\"2026-11-28T09:31:02.500Z\",\"metadata\":{\"step\":\"7\"},
\"track_metrics\":[\"accuracy\"]}"
stack_produce hand-bad hret.run.completed.v1 run-bad "{$base,\"run_id\":\"run-bad\",\"model\":{\"name\":\"a\"},
\"metrics\":{\"accuracy\":0.5}}"
for _ in $(seq 100); do # the comparison event may trail the runs' by a relay pass
  stack_events "$res_topic" 6 >"$work/events.jsonl"
  [ "$(wc -l <"$work/events.jsonl")" -ge 6 ] && break
  sleep 0.3
done
[ "$(wc -l <"$work/events.jsonl")" = 6 ] || fail "expected 6 result events: $(cat "$work/events.jsonl")"

start_bridge bridge1.log
stack_wait_handled bridge1.log 6 # the log is rate-limited: count with /metrics, not log lines
stack_stop "$bridge" bridge
grep -q 'stats: delivered=3 skipped=2 retried=0 dead_lettered=1' "$work/bridge1.log" ||
  fail "stats line: $(grep stats: "$work/bridge1.log")"
stack_events hret.bridge.tensorboard.dlq 1 >"$work/dlq.txt"
grep -q '"run-bad"' "$work/dlq.txt" || fail "the malformed event is not in the DLQ: $(cat "$work/dlq.txt")"
kcat -C -b "$HRET_KAFKA" -t hret.bridge.tensorboard.dlq -o beginning -c 1 -e -q -f '%h\n' |
  grep -q 'hret_dlq_reason=[^=]* without finished_at' || fail "the DLQ header does not give the reason"
[ "$(pg_sql "SELECT count(*) FROM bridge_state WHERE sink = 'tensorboard' AND state = 'finished'")" = 3 ] ||
  fail "bridge_state: $(pg_sql "SELECT sink, subject, state FROM bridge_state")"
[ -e "$work/tb/off" ] && fail "tracking {tensorboard: false} still wrote $work/tb/off"
# a run id from an event is never a path: "../../run-tracked" stays one file name under log_dir
[ -z "$(find "$work" -name 'events.out.tfevents.*' -not -path "$work/tb/*")" ] ||
  fail "an event file outside log_dir: $(find "$work" -name 'events.out.tfevents.*')"

"$venv/bin/python" - "$work" <<'PY' || fail "event files do not match the result events"
import glob, json, os, struct, sys
from datetime import datetime
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
work = sys.argv[1]
events = [json.loads(l) for l in open(f"{work}/events.jsonl") if l.strip()]
runs = {e["run_id"]: e for e in events if "run_id" in e and "finished_at" in e
        and e.get("tracking", {}).get("tensorboard", True)}
assert len(runs) == 3, runs.keys()
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
def expected(ev):
    tracked = ev.get("track_metrics")
    ok = lambda n: not tracked or n in tracked or n.split("/")[-1] in tracked
    want = {k: v for k, v in ev["metrics"].items() if ok(k)}
    for s, m in ev.get("subset_metrics", {}).items():
        want.update({f"{s}/{k}": v for k, v in m.items() if ok(f"{s}/{k}")})
    for k, v in (("cost_usd", ev.get("cost_usd")),
                 ("tokens_input", ev.get("tokens", {}).get("input")),
                 ("tokens_output", ev.get("tokens", {}).get("output")),
                 ("errors", ev["counts"].get("errors")),
                 ("parse_failures", ev["counts"].get("parse_failures"))):
        if v is not None and k not in want and ok(k):
            want[k] = v
    return want
files = sorted(glob.glob(f"{work}/tb/**/events.out.tfevents.*", recursive=True))
assert len(files) == 3, files
for run_id, ev in runs.items():
    group = ev.get("run_name") or ev["request_id"]
    d = f"{work}/tb/{group}/{ev['model']['name'].replace('/', '_')}"
    [path] = glob.glob(f"{d}/events.out.tfevents.*.hret")
    assert run_id.replace("/", "_") in os.path.basename(path), path  # never a path
    acc = EventAccumulator(d, size_guidance={"scalars": 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    want = expected(ev)
    assert tags == set(want), (run_id, sorted(tags ^ set(want)))
    step = int(ev.get("metadata", {}).get("epoch", ev.get("metadata", {}).get("step", 0)))
    finished = datetime.fromisoformat(ev["finished_at"].replace("Z", "+00:00")).timestamp()
    for tag, value in want.items():
        [s] = acc.Scalars(tag)
        assert s.step == step, (tag, s.step, step)
        assert s.value == f32(value), (tag, s.value, value)
        assert abs(s.wall_time - finished) < 1e-3, (tag, s.wall_time, finished)
    assert acc.file_version == 2.0, acc.file_version  # the reader parses "brain.Event:2"
    print(f"{group}/{ev['model']['name']}: {len(want)} scalars at step {step}, "
          f"accuracy {acc.Scalars('accuracy')[0].value:.4f}")
tracked = runs["../../run-tracked"]
assert set(expected(tracked)) == {"accuracy", "law/accuracy"}
for e in runs.values():
    if e["request_id"] != "req-hand":
        assert e["metadata"]["epoch"] in (2, "2") and e["run_name"] == "tbrun", e
PY

# 3. a replay from the first event changes nothing ---------------------------------------------------
(cd "$work/tb" && find . -type f | sort | xargs sha256sum) >"$work/files1.txt"
start_bridge bridge2.log --group "hret-bridge-tb-replay-$RANDOM"
stack_wait_handled bridge2.log 6
stack_stop "$bridge" bridge
(cd "$work/tb" && find . -type f | sort | xargs sha256sum) >"$work/files2.txt"
cmp -s "$work/files1.txt" "$work/files2.txt" ||
  fail "the replay changed the files: $(diff "$work/files1.txt" "$work/files2.txt")"
grep -q 'wrote .* scalars' "$work/bridge2.log" && fail "the replay wrote a file again"
echo "ok: TensorBoard bridge ($(wc -l <"$work/files1.txt") event files, replay unchanged)"
