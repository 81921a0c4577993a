#!/usr/bin/env bash
# hret run's scoring modes end to end against fake-llm, each with exactly predictable results
# (the fake's decision rule, tests/fakes/hret_fake_decide.h, applied to the answer keys):
#   probe            hret probe on servers with, without and refusing echo+logprobs
#   log_likelihood   one echo request per option; accuracy exactly as the key decides; a server
#                    without prompt log-probabilities fails the run with a clear error
#   self-consistency n honoured (one request a sample) or not (top-up requests); paths kept
#   llm_judge        K2-Eval scores and KUDGE pairwise verdicts from a keyed judge; unparsable
#                    judgements counted, never guessed; a pre-filled prediction calls no model
#   language gate    non-Korean correct answers marked wrong and counted
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"


# Shared Python: the fake's hash and decision, results and stats readers, key writers.
cat >"$work/lib.py" <<'PY'
import json, os, sys, urllib.request
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import decide, fnv1a64 as fnv, fnv_hex as hexh
def key(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path, encoding="utf-8") if l.strip()]
    return {r[0]: r[1] for r in rows}, [r[0] for r in rows]
def results(path):
    d = json.load(open(path, encoding="utf-8"))
    return d, d["results"][0]["samples"], d["metrics"]
def stats(port):
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/fake/stats"))
def chat_requests(port):
    return stats(port)["endpoints"]["chat_completions"]
def write_key(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for h, a in rows:
            assert "\t" not in a and "\n" not in a
            f.write(f"{h}\t{a}\n")
if __name__ == "__main__":
    print(chat_requests(int(sys.argv[1])) if sys.argv[1] != "completions"
          else stats(int(sys.argv[2]))["endpoints"]["completions"])
PY
export PYTHONPATH="$work"
chats() { python3 "$work/lib.py" "$1"; }
completions() { python3 "$work/lib.py" completions "$1"; }

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 600 --seed 11 >/dev/null
start_fake base --answer-key "$work/synth/answer_key.tsv" --accuracy 0.62 --seed 5
base_port=$port
start_fake off --logprobs off
off_port=$port
start_fake rej --logprobs reject
rej_port=$port
start_fake judge0 # no key: every judgement is the default answer, which has no verdict
judge0_port=$port
config() { # extra model lines -> $work/hret_config.yaml
  cat >"$work/hret_config.yaml" <<YAML
output_dir: $work/out
models:
  base: {base_url: "http://127.0.0.1:$base_port/v1", model: fake-model, max_inflight: 50}
  sc_n1: {base_url: "http://127.0.0.1:$base_port/v1", model: fake-model, extra_body: {n: 1}}
  off: {base_url: "http://127.0.0.1:$off_port/v1", model: fake-model}
  rej: {base_url: "http://127.0.0.1:$rej_port/v1", model: fake-model, backend: openai_completions}
  down: {base_url: "http://127.0.0.1:1/v1", model: fake-model, max_retries: 0}
  wrong_id: {base_url: "http://127.0.0.1:$base_port/v1", model: no-such-model}
  judge0: {base_url: "http://127.0.0.1:$judge0_port/v1", model: fake-judge}
$*
YAML
}
config ""
run() { "$hret" run --config "$work/hret_config.yaml" --quiet "$@"; }
kmmlu=(--dataset kmmlu --data-dir "$work/synth")

# ---- 0. probe ----
"$hret" probe --config "$work/hret_config.yaml" --model base >"$work/probe.txt" ||
  fail "probe base exits $?"
grep -q "echo+logprobs    yes" "$work/probe.txt" || fail "probe base: $(cat "$work/probe.txt")"
for m in base off rej down wrong_id; do
  set +e
  "$hret" probe --config "$work/hret_config.yaml" --model $m --json >"$work/probe_$m.json"
  echo $? >"$work/probe_$m.rc"
  set -e
done
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
def p(m):
    return json.load(open(f"{w}/probe_{m}.json")), int(open(f"{w}/probe_{m}.rc").read())
r, rc = p("base")
assert rc == 0 and r["reachable"] and r["served_models"] == ["fake-model"] and r["model_listed"], r
assert r["supports_echo_logprobs"] is True and r["supports_chat_logprobs"] is True, r
r, rc = p("off")
assert rc == 0 and r["supports_echo_logprobs"] is False and r["supports_chat_logprobs"] is False, r
r, rc = p("rej")
assert rc == 0 and r["supports_echo_logprobs"] is False and r["supports_chat_logprobs"] is None, r
assert "HTTP 400" in r["details"]["echo_logprobs"], r
r, rc = p("down")
assert rc == 1 and not r["reachable"] and r["models_status"] == 0, r
r, rc = p("wrong_id")
assert rc == 1 and r["reachable"] and not r["model_listed"], r
print("probe: ok")
PY

# ---- 1. log_likelihood ----
# The fake scores the prompt's last word W against the key's answer for the text before it,
# "input + ' '": key those hashes, from the inputs a plain run reports.
run "${kmmlu[@]}" --model base --output "$work/plain.json" >/dev/null
python3 - "$work" <<'PY'
import sys, lib
w = sys.argv[1]
answers, _ = lib.key(f"{w}/synth/answer_key.tsv")
_, samples, _ = lib.results(f"{w}/plain.json")
lib.write_key(f"{w}/ll_key.tsv", [(lib.hexh(s["input"] + " "), answers[lib.hexh(s["input"])])
                                  for s in samples])
PY
start_fake ll --answer-key "$work/ll_key.tsv" --accuracy 0.7 --seed 3
ll_port=$port
config "  ll: {base_url: \"http://127.0.0.1:$ll_port/v1\", model: fake-model, max_inflight: 40}"
run "${kmmlu[@]}" --model ll --method log_likelihood --output "$work/ll.json" >"$work/ll.txt"
python3 - "$work" "$(completions $ll_port)" <<'PY'
import sys, lib
w, completions = sys.argv[1], int(sys.argv[2])
answers, _ = lib.key(f"{w}/ll_key.tsv")
_, samples, m = lib.results(f"{w}/ll.json")
assert len(samples) == 600
want = 0
for s in samples:
    h = lib.hexh(s["input"] + " ")
    ok = lib.decide(int(h, 16), 3) < 0.7
    want += ok
    assert (s["prediction"] == s["reference"]) == ok == s["evaluation"]["is_correct"], s["id"]
    lps = s["logits"]["option_log_probs"]
    best = s["options"].index(s["prediction"])
    # the decided option: " " at -1.0 and "(", "X", ")" at -0.05; the others at -4.0
    assert abs(lps[best] + 1.15) < 1e-9 and all(abs(v + 13) < 1e-9 for i, v in enumerate(lps)
                                                if i != best), lps
    assert s["prediction"] == answers[h] if ok else s["prediction"] != answers[h]
assert m["correct"] == want and m["answered"] == 600 and m["errors"] == 0, (m["correct"], want)
assert completions == 4 * 600 + 1, completions  # one per option, plus the probe
print(f"log_likelihood: {want}/600 correct as the key decides, {completions} completions")
PY
off_chats=$(chats $off_port)
for m in off rej; do
  set +e
  run "${kmmlu[@]}" --model $m --method log_likelihood --limit 5 --output "$work/ll_$m.json" \
    >/dev/null 2>"$work/ll_$m.err"
  rc=$?
  set -e
  [ $rc -eq 1 ] || fail "log_likelihood on $m exits $rc, want 1"
  grep -q "model '$m' (fake-model at http://127.0.0.1:" "$work/ll_$m.err" || fail "$m message"
  grep -q "did not return prompt log-probabilities" "$work/ll_$m.err" || fail "$m: what is missing"
  [ ! -e "$work/ll_$m.json" ] || fail "log_likelihood on $m wrote results"
done
grep -q "HTTP 400" "$work/ll_rej.err" || fail "the refusal is named: $(cat "$work/ll_rej.err")"
[ "$(chats $off_port)" -eq "$off_chats" ] || fail "log_likelihood sent chat requests"
set +e
run "${kmmlu[@]}" --model ll --method log_likelihood --param return_logits=true 2>"$work/e.txt"
[ $? -eq 2 ] || fail "log_likelihood with a param"
set -e
grep -q "'return_logits'" "$work/e.txt" || fail "param named"

# ---- 2. self-consistency ----
before=$(chats $base_port)
run "${kmmlu[@]}" --model base --self-consistency 5 --limit 200 --output "$work/sc.json" >/dev/null
mid=$(chats $base_port)
run "${kmmlu[@]}" --model sc_n1 --self-consistency 3 --limit 100 --output "$work/sc1.json" >/dev/null
after=$(chats $base_port)
python3 - "$work" $((mid - before)) $((after - mid)) <<'PY'
import sys, lib
w, honoured, topped = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for name, n, count in (("sc", 5, 200), ("sc1", 3, 100)):
    d, samples, m = lib.results(f"{w}/{name}.json")
    assert len(samples) == count and d["results"][0]["info"]["scaling_method_name"] == "self_consistency"
    want = sum(lib.decide(lib.fnv(s["input"]), 5) < 0.62 for s in samples)
    for s in samples:
        sc = s["self_consistency"]
        assert len(sc["paths"]) == n and len(sc["answers"]) == n, sc
        assert s["prediction"] == sc["paths"][0]  # the fake answers a prompt the same way
    assert m["correct"] == want, (name, m["correct"], want)
assert honoured == 200, honoured  # n=5 in one request per sample
assert topped == 300, topped      # n ignored: 1 + 2 top-up requests per sample
print(f"self-consistency: exact accuracy; {honoured} requests with n, {topped} with top-ups")
PY
for bad in "--temperature 0" "--method log_likelihood"; do
  set +e
  # shellcheck disable=SC2086
  run "${kmmlu[@]}" --model base --self-consistency 3 $bad --limit 2 2>"$work/e.txt"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "--self-consistency with $bad exits $rc"
done

# ---- 3. llm_judge, K2-Eval scores ----
run "${kmmlu[@]}" --model base --method llm_judge --judge-model judge0 --limit 120 \
  --output "$work/j0.json" >"$work/j0.txt"
grep -q "120 judged, 120 unparsable" "$work/j0.txt" || fail "unparsable judgements: $(cat "$work/j0.txt")"
python3 - "$work" <<'PY'
import sys, lib
w = sys.argv[1]
_, samples, m = lib.results(f"{w}/j0.json")
assert m["judged"] == 120 and m["judge_parse_failures"] == 120 and "average_judge_score" not in m, m
assert all(s["judge_evaluation"] == "모르겠습니다" and s["evaluation"]["parse_failure"] for s in samples)
answers, _ = lib.key(f"{w}/synth/answer_key.tsv")
rows, want = [], []
for i, s in enumerate(samples):
    assert f"### 답변:\n{s['prediction']}\n" in s["judge_prompt"]
    right = s["prediction"] == answers[lib.hexh(s["input"])]
    if i % 5 == 4:
        verdict = "점수를 매길 수 없습니다."
    else:
        verdict = "Evaluation: 정답과 일치한다. Score: 5" if right else "Evaluation: 틀렸다. Score: 1.5"
        want.append(5 if right else 1.5)
    rows.append((lib.hexh(s["judge_prompt"]), verdict))
lib.write_key(f"{w}/judge_key.tsv", rows)
with open(f"{w}/both_key.tsv", "w", encoding="utf-8") as f:
    f.write(open(f"{w}/synth/answer_key.tsv", encoding="utf-8").read())
    f.write(open(f"{w}/judge_key.tsv", encoding="utf-8").read())
open(f"{w}/judge_want.txt", "w").write(f"{sum(want) / len(want)!r} {120 - len(want)}")
PY
# One server for both: the model under test keeps its accuracy (--model-accuracy), the judge
# (another model id) answers from its key every time.
start_fake both --answer-key "$work/both_key.tsv" --accuracy 1 --seed 5 \
  --model-accuracy fake-model=0.62
both_port=$port
config "  base2: {base_url: \"http://127.0.0.1:$both_port/v1\", model: fake-model}
  judge: {base_url: \"http://127.0.0.1:$both_port/v1\", model: fake-judge}"
run "${kmmlu[@]}" --model base2 --method llm_judge --judge-model judge --limit 120 \
  --output "$work/j1.json" >"$work/j1.txt"
python3 - "$work" <<'PY'
import sys, lib
w = sys.argv[1]
avg, failures = open(f"{w}/judge_want.txt").read().split()
_, s0, _ = lib.results(f"{w}/j0.json")
_, samples, m = lib.results(f"{w}/j1.json")
assert [s["prediction"] for s in samples] == [s["prediction"] for s in s0]  # same answers
assert m["judged"] == 120 and m["judge_parse_failures"] == int(failures), m
assert abs(m["average_judge_score"] - float(avg)) < 1e-12, (m["average_judge_score"], avg)
assert "judge_accuracy" not in m and m["errors"] == 0
print(f"llm_judge k2_eval: average {m['average_judge_score']:.4f}, {failures} unparsable, as keyed")
PY

# ---- 4. llm_judge, KUDGE pairwise (pre-filled predictions: the model is not called) ----
mkdir -p "$work/kudge/Pairwise"
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
with open(f"{w}/kudge/Pairwise/test.jsonl", "w", encoding="utf-8") as f:
    for i in range(60):
        f.write(json.dumps({"judge_query": f"질문 {i}: 한국의 수도를 설명하세요.",
                            "chosen_response": f"서울입니다. ({i})",
                            "rejected_response": f"부산입니다. ({i})",
                            "chosen_model": "x", "rejected_model": "y",
                            "winner": "A" if i % 2 == 0 else "B"}, ensure_ascii=False) + "\n")
PY
kudge=(--dataset kudge --data-dir "$work/kudge" --subset Pairwise)
before=$(chats $base_port)
run "${kudge[@]}" --model base --method llm_judge --judge-model judge0 \
  --param judge_type=response_comparison --output "$work/p0.json" >/dev/null
[ "$(chats $base_port)" -eq "$before" ] || fail "a pre-filled prediction called the model"
python3 - "$work" <<'PY'
import sys, lib
w = sys.argv[1]
_, samples, m = lib.results(f"{w}/p0.json")
assert m["judged"] == 60 and m["judge_parse_failures"] == 60 and m["judge_accuracy"] == 0, m
rows, won = [], 0
for i, s in enumerate(samples):
    assert s["judge_type"] == "response_comparison" and s["prediction"].startswith("서울입니다.")
    verdict = ["[[A]] 응답 A가 낫다.", "After review: [[B]]", "Both are fine."][i % 3]
    won += (i % 3 == 0 and s["reference"] == "A") or (i % 3 == 1 and s["reference"] == "B")
    rows.append((lib.hexh(s["judge_prompt"]), verdict))
lib.write_key(f"{w}/pair_key.tsv", rows)
open(f"{w}/pair_want.txt", "w").write(str(won))
PY
start_fake pair --answer-key "$work/pair_key.tsv"
config "  pair: {base_url: \"http://127.0.0.1:$port/v1\", model: fake-judge}"
run "${kudge[@]}" --model base --method llm_judge --judge-model pair \
  --param judge_type=response_comparison --output "$work/p1.json" >"$work/p1.txt"
python3 - "$work" <<'PY'
import sys, lib
w = sys.argv[1]
won = int(open(f"{w}/pair_want.txt").read())
_, samples, m = lib.results(f"{w}/p1.json")
assert m["judge_parse_failures"] == 20 and abs(m["judge_accuracy"] - won / 60) < 1e-12, m
assert sum(s["evaluation"]["is_correct"] for s in samples) == won
print(f"llm_judge response_comparison: judge accuracy {won}/60, 20 unparsable, as keyed")
PY
grep -q "judge accuracy 0.3333" "$work/p1.txt" || fail "summary: $(cat "$work/p1.txt")"
for bad in "--method llm_judge" "--method string_match --judge-model judge0" \
  "--method llm_judge --judge-model nope" "--method llm_judge --judge-model judge0 --param judge_type=x"; do
  set +e
  # shellcheck disable=SC2086
  run "${kmmlu[@]}" --model base $bad --limit 2 2>"$work/e.txt"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "'$bad' exits $rc, want 2"
done

# ---- 5. language gate ----
python3 - "$work" <<'PY'
import sys, lib
w = sys.argv[1]
answers, order = lib.key(f"{w}/synth/answer_key.tsv")
lib.write_key(f"{w}/gate_key.tsv", [(h, ("정답: " if k % 2 == 0 else "Answer: ") + answers[h])
                                    for k, h in enumerate(order)])
PY
start_fake gate --answer-key "$work/gate_key.tsv" --accuracy 0.62 --seed 5
config "  gate: {base_url: \"http://127.0.0.1:$port/v1\", model: fake-model}"
run "${kmmlu[@]}" --model gate --limit 300 --language-gate --output "$work/gate.json" >"$work/gate.txt"
run "${kmmlu[@]}" --model gate --limit 300 --language-penalty 0.5 --output "$work/nogate.json" >/dev/null
python3 - "$work" <<'PY'
import sys, lib
w = sys.argv[1]
_, order = lib.key(f"{w}/gate_key.tsv")
index = {h: k for k, h in enumerate(order)}
_, samples, m = lib.results(f"{w}/gate.json")
# decided right: "정답: (X)" (Korean, kept) or "Answer: (X)" (gated); wrong: 모르겠습니다 (Korean)
right = [lib.decide(lib.fnv(s["input"]), 5) < 0.62 for s in samples]
korean = [index[lib.hexh(s["input"])] % 2 == 0 for s in samples]
kept = sum(r and k for r, k in zip(right, korean))
gated = sum(r and not k for r, k in zip(right, korean))
assert m["correct"] == kept and m["language_gate_failures"] == gated, (m, kept, gated)
assert m["language_gate_flipped"] == gated and abs(m["language_penalizer_average"] - (1 - gated / 300)) < 1e-12
assert all(s["language_gate"] == ("failed" if r and not k else "passed")
           for s, r, k in zip(samples, right, korean))
_, _, m2 = lib.results(f"{w}/nogate.json")
assert m2["correct"] == sum(right) and "language_gate_failures" not in m2, m2
print(f"language gate: {kept} kept, {gated} correct English answers marked wrong, as keyed")
PY
grep -q "language gate" "$work/gate.txt" || fail "gate summary line"
echo "run modes e2e: ok"
