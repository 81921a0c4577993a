#!/usr/bin/env bash
# Fleet parity (issue 21 item 1): every scoring mode of `hret run` asked for in a request runs in
# the fleet exactly as `hret run` runs it. One stack (Kafka, PostgreSQL, one worker, fake-llm),
# one small KMMLU-shaped set (2 shards); per mode the same data goes through `hret submit --wait`
# and through `hret run` with the equivalent flags against the same fake-llm, and
#   - the samples table (joined with sample_inputs) equals the results JSON's samples: prompt,
#     prediction, verdict, score, language_penalizer, self-consistency paths and answers,
#     language gate, judge type / prompt / judgement, option log-probabilities;
#   - the run's stored metrics equal hret run's (timings aside), and show the mode took effect;
#   - the fleet called each model exactly samples x requests per sample (response_cache: off,
#     so no request reuses another's answers): self-consistency is one request with n=paths when
#     the server honours n (fake-llm does) and paths requests when it does not (extra_body n: 1);
#   - the completed event's evaluation section names the mode.
# Modes: self-consistency (n honoured, n ignored), language penalty, language gate, llm_judge
# (k2_eval from a keyed judge; rubric_and_response), log_likelihood, few-shot with a few-shot
# example template (PipelineRunner's dataset_params), a custom base_prompt_template
# (datasets[].params).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

n=24
stack_up $n
main_port=$port
data="$work/data/kmmlu"
export PYTHONPATH="$src/tests/support"
reset_fake() { curl -sf -X POST "http://127.0.0.1:$1/fake/reset" >/dev/null || fail "reset fake-llm"; }
run() { # hret run on the final config, no response cache, samples as JSON
  "$hret" run --config "$work/hret.yaml" --dataset kmmlu --data-dir "$data" --no-cache --quiet "$@"
}

# The keyed fake: the set's prompts answered "정답: (X)" (Korean) or "Answer: (X)" (not) in
# turn, right 62% of the time as decided by the key; prompts the key lacks (few-shot, templates,
# judge prompts) get "(A)"; log_likelihood continuations ("input" + " ") scored by the key.
stack_config "response_cache: off"
"$hret" run --config "$work/hret.yaml" --dataset kmmlu --data-dir "$data" --model a --no-cache \
  --quiet --output "$work/plain.json" >/dev/null
python3 - "$work" <<'PY'
import json, sys
from hret_fake_decide import fnv_hex
w = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(f"{w}/data/kmmlu/answer_key.tsv", encoding="utf-8")]
answers = {r[0]: r[1] for r in rows}
samples = json.load(open(f"{w}/plain.json", encoding="utf-8"))["results"][0]["samples"]
with open(f"{w}/keyed.tsv", "w", encoding="utf-8") as f:
    for k, s in enumerate(samples):
        h = fnv_hex(s["input"])
        f.write(f"{h}\t{'정답: ' if k % 2 == 0 else 'Answer: '}{answers[h]}\n")
        f.write(f"{fnv_hex(s['input'] + ' ')}\t{answers[h]}\n")
PY
start_fake keyed --answer-key "$work/keyed.tsv" --accuracy 0.62 --seed 5 --default-answer "(A)"
keyed_port=$port

# The judge's key: K2-Eval judgements of the keyed model's answers (5 when right, 1.5 when
# wrong, every fifth unparsable), keyed by the judge prompts an unkeyed judge was sent.
# (model lines first: they continue the models: map; then the http line stack_config would add)
http='http: {listen: "127.0.0.1:0"}'
port=$main_port # stack_config's models a and b
stack_config "  keyed: {base_url: \"http://127.0.0.1:$keyed_port/v1\", model: fake-model}
  judge0: {base_url: \"http://127.0.0.1:$keyed_port/v1\", model: fake-judge}" "$http" "response_cache: off"
"$hret" run --config "$work/hret.yaml" --dataset kmmlu --data-dir "$data" --model keyed --no-cache \
  --quiet --method llm_judge --judge-model judge0 --output "$work/judge0.json" >/dev/null
python3 - "$work" <<'PY'
import json, sys
from hret_fake_decide import fnv_hex
w = sys.argv[1]
samples = json.load(open(f"{w}/judge0.json", encoding="utf-8"))["results"][0]["samples"]
with open(f"{w}/judge.tsv", "w", encoding="utf-8") as f:
    for i, s in enumerate(samples):
        right = s["prediction"].endswith(s["reference"])
        text = ("점수를 매길 수 없습니다." if i % 5 == 4 else
                "Evaluation: 정답과 일치한다. Score: 5" if right else "Evaluation: 틀렸다. Score: 1.5")
        f.write(f"{fnv_hex(s['judge_prompt'])}\t{text}\n")
PY
start_fake judge --answer-key "$work/judge.tsv"
judge_port=$port

# models: a (n honoured), a_n1 (n forced to 1: top-ups), keyed, judge
port=$main_port # stack_config's models a and b
stack_config "  a_n1: {base_url: \"http://127.0.0.1:$main_port/v1\", model: a, extra_body: {n: 1}}
  keyed: {base_url: \"http://127.0.0.1:$keyed_port/v1\", model: fake-model}
  judge: {base_url: \"http://127.0.0.1:$judge_port/v1\", model: fake-judge}" "$http" "response_cache: off"
printf '문제: {question}\n(A) {choice_A}\n(B) {choice_B}\n(C) {choice_C}\n(D) {choice_D}\n정답:' \
  >"$work/base.tmpl"
printf '예: {input} => {reference}\n' >"$work/shot.tmpl"
stack_worker

modes=()
# check_mode NAME MODEL CALLS JUDGE_CALLS REQUEST_KEYS [HRET RUN FLAGS...]: the fleet run of a
# request with REQUEST_KEYS (JSON members besides request_id and models) against hret run.
check_mode() {
  local name=$1 model=$2 calls=$3 judge_calls=$4 keys=$5 model_port=$keyed_port
  shift 5
  case $model in a | a_n1) model_port=$main_port ;; esac
  reset_fake "$model_port"
  reset_fake "$judge_port"
  printf '{"request_id": "parity-%s", "models": [{"name": "%s"}], %s}\n' "$name" "$model" "$keys" \
    >"$work/req_$name.json"
  stack_submit "$work/req_$name.json" >"$work/submit_$name.out" ||
    fail "$name: submit: $(cat "$work/submit_$name.out")"
  grep -q '^completed run=' "$work/submit_$name.out" || fail "$name: $(cat "$work/submit_$name.out")"
  stack_check_calls "$calls" 0 "$model_port"
  stack_check_calls "$judge_calls" 0 "$judge_port"
  run --model "$model" --output "$work/run_$name.json" "$@" >/dev/null || fail "$name: hret run"
  pg_sql "SELECT json_build_object('metrics', r.metrics, 'samples', (SELECT json_agg(t ORDER BY
      t.sample_idx) FROM (SELECT s.*, i.input FROM samples s JOIN sample_inputs i USING
      (input_hash) WHERE s.run_id = r.run_id) t)) FROM runs r WHERE r.request_id = 'parity-$name'" \
    >"$work/fleet_$name.json"
  python3 "$work/compare.py" "$work" "$name" "$n" || fail "$name: the fleet differs from hret run"
  modes+=("$name")
}

cat >"$work/compare.py" <<'PY'
import json, math, re, sys
w, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
fleet = json.load(open(f"{w}/fleet_{name}.json", encoding="utf-8"))
run = json.load(open(f"{w}/run_{name}.json", encoding="utf-8"))
want, got = run["results"][0]["samples"], fleet["samples"]
assert len(got) == len(want) == n, (len(got), len(want))

def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) < 1e-9
    return a == b

for f, r in zip(got, want):
    x, ev = f["extra"] or {}, r.get("evaluation", {})
    sc = r.get("self_consistency", {})
    pairs = {
        "id": (f["item_id"], r["id"]), "input": (f["input"], r["input"]),
        "reference": (f["reference"], r["reference"]), "prediction": (f["prediction"], r["prediction"]),
        "error": (f["error_class"], r.get("error_class")),
        "correct": (f["correct"], ev.get("is_correct")),
        "normalized_pred": (f["normalized_pred"], ev.get("normalized_pred")),
        "parse_failure": (f["parse_failure"], ev.get("parse_failure", False)),
        "score": (f["score"], ev.get("score")),
        "language_penalizer": (f["language_penalizer"], r.get("language_penalizer")),
        "paths": (x.get("paths"), sc.get("paths")), "answers": (x.get("path_answers"), sc.get("answers")),
        "gate": (x.get("gate"), r.get("language_gate")),
        "judge_type": (x.get("judge_type"), r.get("judge_type")),
        "judge_prompt": (x.get("judge_prompt"), r.get("judge_prompt")),
        "judge_output": (x.get("judge_output"), r.get("judge_evaluation")),
        "logprobs": (x.get("option_logprobs"), r.get("logits", {}).get("option_log_probs")),
    }
    for k, (a, b) in pairs.items():
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            ok = all(same(p, q) for p, q in zip(a, b))
        else:
            ok = same(a, b)
        assert ok, f"sample {r['id']}: {k}: fleet {a!r}, hret run {b!r}"

timing = re.compile(r"latency|elapsed|duration|throughput|per_s")
fm, rm = fleet["metrics"], run["metrics"]
keys = {k for k in set(fm) | set(rm) if not timing.search(k)}
for k in sorted(keys):
    a, b = fm.get(k), rm.get(k)
    ok = (a == b) if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) \
        else (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-9
    assert ok, f"metric {k}: fleet {a!r}, hret run {b!r}"

# the mode took effect (so the comparison above compares something)
m = rm
if name.startswith("sc"):
    assert all(len(s["self_consistency"]["paths"]) == 3 for s in want), name
if name in ("penalty", "gate"):
    assert 0 < m["language_penalizer_average"] < 1, m
if name == "gate":
    assert m["language_gate_failures"] > 0 and m["language_gate_flipped"] > 0, m
if name == "penalty":
    assert "language_gate_failures" not in m, m
if name == "judge":
    assert m["judged"] == n and 0 < m["judge_parse_failures"] < n and 1.5 < m["average_judge_score"] < 5, m
if name == "judge_rubric":
    assert all(s["judge_type"] == "rubric_and_response" for s in want), want[0]
    assert all("[RESULT]" in s["judge_prompt"] for s in want), want[0]["judge_prompt"]
if name == "loglik":
    assert all(len(s["logits"]["option_log_probs"]) == 4 for s in want), want[0]
if name == "fewshot":
    assert all(s["input"].count("예: ") == 2 for s in want), want[0]["input"]
if name == "template":
    assert all(s["input"].startswith("문제: ") for s in want), want[0]["input"]
if name not in ("judge", "judge_rubric"):
    assert 0 < m["correct"] < n, m
print(f"{name}: {n} samples and {len(keys)} metrics as hret run (accuracy {m['accuracy']:.4f})")
PY

ds='"datasets": [{"name": "kmmlu"}]'
sc='"evaluation": {"self_consistency": {"paths": 3, "temperature": 0.7}}'
check_mode sc a $n 0 "$ds, $sc" --self-consistency 3 --temperature 0.7
check_mode sc_topup a_n1 $((3 * n)) 0 "$ds, $sc" --self-consistency 3 --temperature 0.7
check_mode penalty keyed $n 0 "$ds, \"evaluation\": {\"language_penalty\": 0.5}" --language-penalty 0.5
check_mode gate keyed $n 0 "$ds, \"evaluation\": {\"language_gate\": true}" --language-gate
check_mode judge keyed $n $n "$ds, \"evaluation\": {\"method\": \"llm_judge\", \"judge_model\": \"judge\"}" \
  --method llm_judge --judge-model judge
check_mode judge_rubric keyed $n $n "$ds, \"evaluation\": {\"method\": \"llm_judge\", \"judge_model\": \"judge\",
  \"params\": {\"judge_type\": \"rubric_and_response\"}}" \
  --method llm_judge --judge-model judge --param judge_type=rubric_and_response
check_mode loglik keyed $((4 * n)) 0 "$ds, \"evaluation\": {\"method\": \"log_likelihood\"}" \
  --method log_likelihood
shot=$(python3 -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read()))' "$work/shot.tmpl")
# few-shot in HRET's PipelineRunner keys (dataset_params), the template in datasets[].params;
# such a request has HRET's language_penalize on by default, which hret run asks for by flag
check_mode fewshot keyed $n 0 "\"dataset_name\": \"kmmlu\", \"few_shot_split\": \"dev\",
  \"dataset_params\": {\"few_shot_example_template\": $shot}, \"num_few_shot\": 2" \
  --num-few-shot 2 --few-shot-split dev --few-shot-template "$work/shot.tmpl" --language-penalty 0.5
tmpl=$(python3 -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read()))' "$work/base.tmpl")
check_mode template keyed $n 0 "\"datasets\": [{\"name\": \"kmmlu\", \"params\": {\"base_prompt_template\": $tmpl}}]" \
  --template "$work/base.tmpl"

# the completed events carry the request's scoring modes (each is on the topic: submit --wait
# saw it; kcat -e stops at the end, and a redelivered duplicate displaces nothing)
stack_events "$res_topic" 1000 >"$work/events.jsonl"
python3 - "$work/events.jsonl" <<'PY' || fail "completed events"
import json, sys
ev = {e["request_id"]: e["evaluation"] for e in map(json.loads, open(sys.argv[1])) if e.get("status") == "completed"}
assert ev["parity-sc"]["self_consistency"] == {"paths": 3, "temperature": 0.7}, ev["parity-sc"]
assert ev["parity-penalty"]["language_penalty"] == 0.5 and "language_gate" not in ev["parity-penalty"]
assert ev["parity-gate"] == {"method": "string_match", "language_penalty": 0.5, "language_gate": True}, ev["parity-gate"]
assert ev["parity-judge"]["judge_model"] == "judge" and ev["parity-loglik"]["method"] == "log_likelihood"
print(f"{len(ev)} completed events name their scoring modes")
PY
echo "fleet parity e2e: ok (${modes[*]})"
