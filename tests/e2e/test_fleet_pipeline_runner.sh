#!/usr/bin/env bash
# Issue 21 item 2: a request in HRET's PipelineRunner vocabulary runs in the fleet as HRET would
# run it. model_backend_name "openai" with model_backend_params.model_name = a configured model's
# id maps to that model; scaling_method_name self_consistency with n_paths 3 sends HRET's
# prompt_cot after each prompt and asks for 3 answers per sample; language_penalize (HRET's
# default) adds language_penalizer_average and leaves accuracy alone.
#
# fake-llm knows only the prompts with "\nLet's think step by step.\n" appended (answer key
# hashed with the suffix): without the suffix every answer would be its "don't know" text and
# accuracy 0. It answers right "(B)"-style letters (no Hangul: penalizer 0) and wrong a Korean
# sentence (penalizer 1), the same for every path of a prompt, so language_penalizer_average is
# exactly 1 - accuracy. It ignores n (--ignore-n 1), as HRET's one-request-per-path does, so the
# fleet calls it samples x paths times.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

items=40
paths=3
cot=$'\nLet\'s think step by step.\n'
wrong="정답을 잘 모르겠습니다"
stack_up $items
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/cot" --items $items --seed 7 \
  --prompt-suffix "$cot" --wrong "$wrong" >/dev/null
diff -r "$work/cot/data" "$work/data/kmmlu/data" >/dev/null ||
  fail "the suffixed answer key is not for the same data"
start_fake cot --answer-key "$work/cot/answer_key.tsv" --model-accuracy fake-a=0.55 --seed 5 \
  --ignore-n 1
stack_config
sed -i 's/model: a,/model: fake-a,/' "$work/hret.yaml"
grep -q 'model: fake-a,' "$work/hret.yaml" || fail "config: $(cat "$work/hret.yaml")"

cat >"$work/request.json" <<'JSON'
{
  "request_id": "runner-1",
  "dataset_name": "kmmlu",
  "split": "test",
  "model_backend_name": "openai",
  "model_backend_params": {"model_name": "fake-a", "temperature": 0.7},
  "scaling_method_name": "self_consistency",
  "scaling_params": {"n_paths": 3},
  "evaluation_method_name": "string_match"
}
JSON
"$hret" submit --config "$work/hret.yaml" --dry-run "$work/request.json" >"$work/dry.json" 2>&1 ||
  fail "dry run: $(cat "$work/dry.json")"
python3 - "$work/dry.json" "$cot" <<'PY' || fail "dry run mapping: $(cat "$work/dry.json")"
import json, sys
r = json.load(open(sys.argv[1]))
ev = r["evaluation"]
assert [m["name"] for m in r["models"]] == ["a"], r["models"]
assert r["models"][0]["params"]["temperature"] == 0.7, r["models"][0]
assert ev["self_consistency"] == {"paths": 3, "temperature": 0.7}, ev
assert ev["prompt_suffix"] == sys.argv[2], ev
assert ev["language_penalty"] == 0.5 and "language_gate" not in ev, ev
assert r["datasets"] == [{"name": "kmmlu", "split": "test"}], r["datasets"]
PY

# the in-process backend is refused at submit time (exit 2) with how to serve it instead
set +e
printf '{"dataset_name": "kmmlu", "model_backend_name": "huggingface", "model_backend_params": {"model_name_or_path": "org/m"}}' \
  >"$work/hf.json"
"$hret" submit --config "$work/hret.yaml" "$work/hf.json" >"$work/hf.out" 2>&1
rc=$?
set -e
[ $rc = 2 ] || fail "huggingface request: exit $rc, want 2: $(cat "$work/hf.out")"
grep -q "vllm serve org/m" "$work/hf.out" || fail "huggingface refusal: $(cat "$work/hf.out")"

stack_worker
stack_submit "$work/request.json" >"$work/submit.out" 2>&1 || fail "submit: $(cat "$work/submit.out")"
grep -q '^completed run=' "$work/submit.out" || fail "no completed run: $(cat "$work/submit.out")"
[ "$(pg_sql "SELECT planned_samples FROM runs WHERE request_id = 'runner-1'")" = $items ] ||
  fail "planned samples: $(pg_sql "SELECT planned_samples FROM runs WHERE request_id = 'runner-1'")"
stack_check_calls $((items * paths))

# hret run with the same modes as flags scores the same
"$hret" run --config "$work/hret.yaml" --dataset kmmlu --data-dir "$work/data/kmmlu" --model a \
  --self-consistency $paths --temperature 0.7 --prompt-suffix "$cot" --language-penalty 0.5 \
  --quiet --output "$work/run.json" >/dev/null || fail "hret run"
stack_events "$res_topic" 1 >"$work/events.jsonl"
python3 - "$work" $items <<'PY' || fail "metrics: $(cat "$work/events.jsonl")"
import json, sys
work, items = sys.argv[1], int(sys.argv[2])
e = [json.loads(l) for l in open(f"{work}/events.jsonl") if l.strip()][0]
assert e["status"] == "completed" and e["model"]["name"] == "a", e
m = e["metrics"]
assert e["counts"]["samples"] == items and m.get("errors", 0) == 0, (e["counts"], m)
# the suffix reached the model: it knows only suffixed prompts
assert 0.3 <= m["accuracy"] <= 0.8, m
# right answers are letters (0), wrong ones Korean (1); accuracy counts the right ones still
assert abs(m["language_penalizer_average"] - (1 - m["accuracy"])) < 1e-9, m
want = json.load(open(f"{work}/run.json"))["metrics"]
for k in ("accuracy", "language_penalizer_average"):
    assert abs(m[k] - want[k]) < 1e-12, (k, m[k], want[k])
print(f"accuracy {m['accuracy']}, language_penalizer_average {m['language_penalizer_average']}")
PY
stack_stop "$worker" worker
echo ok
