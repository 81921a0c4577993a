#!/usr/bin/env bash
# The fleet reads datasets from PostgreSQL: HAE-RAE Bench as the hub serves it (Parquet shards,
# tests/data/parquet/gen_hub.py) is imported with `hret dataset import`, then a request is run by
# a worker whose datasets.root is empty. Checked: the same predictions, verdicts and accuracy as
# `hret run` on the files; the run records the imported version and its events carry it; the
# second run of the version comes from the worker's cache; a request naming a version that is
# not stored is refused saying so; removing the version while a run reads it fails the run with
# that reason. Real Kafka, real PostgreSQL, fake-llm with an answer key.
set -euo pipefail
hret="$HRET_BUILD_DIR/hret"
fake="$HRET_BUILD_DIR/fake-llm"
src="$HRET_SOURCE_DIR"
work=$(mktemp -d)
pids=()
kafka_dir=""
source "$src/tests/support/pg_env.sh"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$kafka_dir" ] && "$src/deploy/local/kafka.sh" stop --dir "$kafka_dir" >/dev/null 2>&1
  pg_teardown
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$work/worker.log" ] && tail -30 "$work/worker.log" >&2
  exit 1
}
start_fake() { # NAME FLAGS... -> $port
  local name=$1
  shift
  "$fake" --port 0 --log-level warn "$@" >"$work/$name.out" 2>&1 &
  pids+=($!)
  port=$(listening_port "$work/$name.out") || exit 1
}

tag="d$$_$RANDOM"
req_topic="hret.eval.requests.$tag" task_topic="hret.eval.tasks.$tag" res_topic="hret.eval.results.$tag"
kafka_dir="$work/kafka"
line=$(HRET_KAFKA_TOPICS="$req_topic $req_topic.dlq $task_topic $task_topic.dlq $res_topic" \
  "$src/deploy/local/kafka.sh" start --dir "$kafka_dir" | grep '^HRET_KAFKA=')
export "${line?}"
pg_setup

venv=$(bash "$src/deploy/local/pyvenv.sh" pyarrow)
"$venv/bin/python" "$src/tests/data/parquet/gen_hub.py" "$work/hub"
files="$work/hub/parquet/haerae_bench"
subsets=general_knowledge,loan_words

# An answer key from the prompts (hret run on the files against a plain fake).
start_fake plain
printf 'models:\n  a: {base_url: "http://127.0.0.1:%s/v1", model: a}\n' "$port" >"$work/plain.yaml"
"$hret" run --config "$work/plain.yaml" --dataset haerae_bench --data-dir "$files" --subset "$subsets" \
  --model a --output "$work/key_run.json" >/dev/null || fail "key run"
python3 - "$work" <<'PY'
import json, os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import fnv_hex
work = sys.argv[1]
with open(f"{work}/key.tsv", "w", encoding="utf-8") as f:
    for s in json.load(open(f"{work}/key_run.json", encoding="utf-8"))["results"][0]["samples"]:
        f.write(f"{fnv_hex(s['input'])}\t정답: {s['reference']}\t정답: (B)\n")
PY
start_fake keyed --answer-key "$work/key.tsv" --model-accuracy a=0.6 --seed 3
keyed=$port
start_fake slow --answer-key "$work/key.tsv" --latency-ms 400
slow=$port

mkdir -p "$work/empty"
cat >"$work/worker.yaml" <<YAML
output_dir: $work/out
log_level: info
kafka:
  brokers: "$HRET_KAFKA"
  group_id: "hret-workers-$tag"
  requests_topic: "$req_topic"
  tasks_topic: "$task_topic"
  results_topic: "$res_topic"
datasets: {root: "$work/empty", source: auto, shard_size: 8, cache_mb: 64}
http: {listen: "127.0.0.1:0"}
models:
  a: {base_url: "http://127.0.0.1:$keyed/v1", model: a, max_inflight: 16}
  slow: {base_url: "http://127.0.0.1:$slow/v1", model: slow, max_inflight: 1}
YAML

# what hret run gives on the files
"$hret" run --config "$work/worker.yaml" --dataset haerae_bench --data-dir "$files" --subset "$subsets" \
  --model a --output "$work/run_a.json" >/dev/null || fail "hret run on the files"

"$hret" dataset import haerae_bench --from "$files" --db "$HRET_PG" >"$work/import.txt" ||
  fail "import: $(cat "$work/import.txt")"
version=$(pg_sql "SELECT version FROM datasets WHERE name = 'haerae_bench'")
[ ${#version} -eq 64 ] || fail "version: $version"

"$hret" worker --config "$work/worker.yaml" --db "$HRET_PG" >>"$work/worker.log" 2>&1 &
pids+=($!)

# 1. a request run from PostgreSQL: the same results as hret run on the files
for id in req-1 req-2; do
  "$hret" submit --config "$work/worker.yaml" --dataset haerae_bench --subset "$subsets" --model a \
    --request-id "$id" --wait --timeout 180 >"$work/$id.out" || fail "submit $id: $(cat "$work/$id.out")"
done
pg_sql "SELECT json_agg(json_build_object('idx', sample_idx, 'hash', input_hash, 'prediction', prediction,
  'correct', correct) ORDER BY sample_idx) FROM samples JOIN runs USING (run_id) WHERE request_id = 'req-1'" \
  >"$work/samples.json"
python3 - "$work" <<'PY' || fail "results differ from hret run on the files"
import json, os, re, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import fnv_hex
work = sys.argv[1]
run = json.load(open(f"{work}/run_a.json", encoding="utf-8"))
want = run["results"][0]["samples"]
got = json.load(open(f"{work}/samples.json"))
assert len(got) == len(want) == 46, (len(got), len(want))
for g, w in zip(got, want):
    assert g["prediction"] == w["prediction"], (g, w["prediction"])
    assert g["correct"] == w["evaluation"]["is_correct"], (g, w["evaluation"])
acc = run["metrics"]["accuracy"]
assert 0 < acc < 1, acc
for rid in ("req-1", "req-2"):
    m = re.search(r"completed run=\S+ model=a dataset=haerae_bench accuracy=([0-9.]+)",
                  open(f"{work}/{rid}.out").read())
    assert m and abs(float(m.group(1)) - acc) < 5e-5, (rid, m and m.group(1), acc)
print(f"from postgres: accuracy {acc:.4f} over 46 samples, as hret run on the files")
PY
[ "$(pg_sql "SELECT count(DISTINCT data_version) || ' ' || min(data_version) FROM runs")" = "1 $version" ] ||
  fail "runs.data_version: $(pg_sql "SELECT request_id, data_version FROM runs")"

# 1b. hret run reads the imported version too (datasets.root is empty, no --data-dir): the same
# predictions as on the files, and the stored run names the version
"$hret" run --config "$work/worker.yaml" --db "$HRET_PG" --dataset haerae_bench --subset "$subsets" \
  --model a --no-cache --run-name from-pg --output "$work/run_pg.json" >"$work/run_pg.out" 2>&1 ||
  fail "hret run from postgres: $(cat "$work/run_pg.out")"
python3 - "$work" <<'PY' || fail "hret run from postgres differs from hret run on the files"
import json, sys
work = sys.argv[1]
a = json.load(open(f"{work}/run_a.json", encoding="utf-8"))
b = json.load(open(f"{work}/run_pg.json", encoding="utf-8"))
sa, sb = a["results"][0]["samples"], b["results"][0]["samples"]
assert [s["input"] for s in sa] == [s["input"] for s in sb]
assert [s["prediction"] for s in sa] == [s["prediction"] for s in sb]
assert a["metrics"]["accuracy"] == b["metrics"]["accuracy"], (a["metrics"], b["metrics"])
PY
[ "$(pg_sql "SELECT data_version FROM runs WHERE run_name = 'from-pg'")" = "$version" ] ||
  fail "hret run's stored version: $(pg_sql "SELECT run_name, data_version FROM runs")"
"$hret" run --config "$work/worker.yaml" --db "$HRET_PG" --dataset haerae_bench --model a \
  --dataset-version 00000000 --output - >/dev/null 2>"$work/run_v.err" && fail "an unknown version ran"
grep -q "version 00000000 is no longer in the store" "$work/run_v.err" ||
  fail "unknown version: $(cat "$work/run_v.err")"
for _ in $(seq 300); do
  [ "$(pg_sql "SELECT count(*) FROM outbox WHERE published_at IS NULL")" = 0 ] && break
  sleep 0.1
done
pg_sql "SELECT payload FROM outbox WHERE ce_type = 'hret.run.completed.v1'" | python3 -c '
import json, sys
want = sys.argv[1]
events = [json.loads(l) for l in sys.stdin if l.strip()]
assert len(events) == 2, len(events)
for e in events:
    d = e.get("data", e)["dataset"]
    assert d["data_version"] == want, d' "$version" || fail "completed events lack data_version"
grep -q "haerae_bench version ${version:0:12} from postgres: 4 files, .* loaded in" "$work/worker.log" ||
  fail "no cold load logged"
grep -q "haerae_bench version ${version:0:12} from postgres: 4 files, .* cached in" "$work/worker.log" ||
  fail "the second run did not use the cache"

# 2. a version that is not stored: refused with the reason
cat >"$work/absent.json" <<JSON
{"request_id": "req-absent", "models": [{"name": "a"}],
 "datasets": [{"name": "haerae_bench", "subset": ["loan_words"], "version": "00000000deadbeef"}]}
JSON
set +e
"$hret" submit "$work/absent.json" --config "$work/worker.yaml" --wait --timeout 60 >"$work/absent.out" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] && grep -q "version 00000000deadbeef is no longer in the store" "$work/absent.out" ||
  fail "absent version: rc $rc $(cat "$work/absent.out")"

# 3. the version removed while a run reads it: the run fails saying so
"$hret" submit --config "$work/worker.yaml" --dataset haerae_bench --subset "$subsets" --model slow \
  --request-id req-slow >/dev/null || fail "submit req-slow"
for _ in $(seq 300); do
  [ "$(pg_sql "SELECT count(*) FROM shards JOIN runs USING (run_id) WHERE request_id = 'req-slow' AND shards.status = 'done'")" -ge 1 ] && break
  sleep 0.1
done
"$hret" dataset rm haerae_bench --all --db "$HRET_PG" | grep -q "removed 1 version" || fail "rm"
for _ in $(seq 600); do
  [ "$(pg_sql "SELECT status FROM runs WHERE request_id = 'req-slow'")" = failed ] && break
  sleep 0.1
done
[ "$(pg_sql "SELECT status FROM runs WHERE request_id = 'req-slow'")" = failed ] ||
  fail "run after rm: $(pg_sql "SELECT status, error FROM runs WHERE request_id = 'req-slow'")"
pg_sql "SELECT error FROM runs WHERE request_id = 'req-slow'" | grep -q "no longer in the store (removed with hret dataset rm" ||
  fail "failure reason: $(pg_sql "SELECT error FROM runs WHERE request_id = 'req-slow'")"
echo "worker from postgres: ok"
