#!/usr/bin/env bash
# One request, two models, two datasets (issue 6): four runs, one comparison per dataset, and
# result events whose metrics equal `hret run`'s for the same model and data — accuracy,
# per-subset accuracy, tokens and cost included. Then a request naming an inline endpoint on the
# allowlist (host:port, private networks allowed: fake-llm is on loopback) runs like a configured
# model.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

stack_up 120
cp -r "$src/tests/data/datasets/haerae_bench" "$work/data/haerae_bench"
stack_config "endpoints: {allow_inline: true, allow_private_networks: true, allowlist: [\"127.0.0.1:$port\"]}"
sed -i 's/max_inflight: 16}/max_inflight: 16, price_input_per_1m: 0.5, price_output_per_1m: 1.5}/' \
  "$work/hret.yaml"
stack_worker

cat >"$work/request.json" <<'JSON'
{
  "request_id": "matrix-1",
  "run_name": "matrix",
  "datasets": [{"name": "kmmlu"}, {"name": "haerae_bench", "subset": ["general_knowledge", "loan_words"]}],
  "models": [{"name": "a"}, {"name": "b"}],
  "metadata": {"epoch": 1}
}
JSON
stack_submit "$work/request.json" >"$work/submit.out" || fail "submit: $(cat "$work/submit.out")"
[ "$(grep -c '^completed run=' "$work/submit.out")" = 4 ] || fail "want 4 completed runs: $(cat "$work/submit.out")"
# the model was called once per sample of the four runs (issue 16)
stack_check_calls "$(pg_sql "SELECT sum(planned_samples) FROM runs WHERE request_id = 'matrix-1'")"

for m in a b; do
  "$hret" run --config "$work/hret.yaml" --dataset kmmlu --data-dir "$work/data/kmmlu" --model $m \
    --quiet --output "$work/run_${m}_kmmlu.json" >/dev/null
  "$hret" run --config "$work/hret.yaml" --dataset haerae_bench --subset general_knowledge,loan_words --data-dir "$work/data/haerae_bench" \
    --model $m --quiet --output "$work/run_${m}_haerae_bench.json" >/dev/null
done

stack_events "$res_topic" 6 >"$work/events.jsonl"
python3 - "$work" <<'PY' || fail "result events differ from hret run"
import json, sys
work = sys.argv[1]
events = [json.loads(l) for l in open(f"{work}/events.jsonl") if l.strip()]
runs = {(e["model"]["name"], e["dataset"]["name"]): e for e in events if e.get("status") == "completed"}
cmps = [e for e in events if "comparison_id" in e]
assert set(runs) == {(m, d) for m in "ab" for d in ("kmmlu", "haerae_bench")}, sorted(runs)
assert sorted(c["dataset"]["name"] for c in cmps) == ["haerae_bench", "kmmlu"], cmps
for (m, d), e in runs.items():
    want = json.load(open(f"{work}/run_{m}_{d}.json"))["metrics"]
    got = e["metrics"]
    assert abs(got["accuracy"] - want["accuracy"]) < 1e-12, (m, d, got["accuracy"], want["accuracy"])
    assert e["counts"]["samples"] == want["total"], (m, d, e["counts"], want["total"])
    assert e["tokens"]["input"] == want["tokens_in"] > 0, (e["tokens"], want["tokens_in"])
    assert e["tokens"]["output"] == want["tokens_out"] > 0, (e["tokens"], want["tokens_out"])
    assert abs(e["cost_usd"] - want["cost"]) < 1e-12 and e["cost_usd"] > 0, (e["cost_usd"], want["cost"])
    subsets = {k.split("/")[0]: v for k, v in want.items() if k.endswith("/accuracy")}
    got_subsets = {k: v["accuracy"] for k, v in e.get("subset_metrics", {}).items()}
    assert got_subsets == subsets, (m, d, got_subsets, subsets)
    assert e["metadata"] == {"epoch": 1}
print("4 runs and 2 comparisons match hret run")
PY
[ "$(pg_sql "SELECT count(*) FROM runs WHERE request_id = 'matrix-1' AND status = 'completed'")" = 4 ] || fail "runs rows"
[ "$(pg_sql "SELECT count(*) FROM comparisons WHERE request_id = 'matrix-1'")" = 2 ] || fail "comparison rows"
[ "$(pg_sql "SELECT status FROM requests WHERE request_id = 'matrix-1'")" = completed ] || fail "request status"

# hret compare on the stored run ids gives the numbers of the worker's comparison event
ra=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'matrix-1' AND model_name = 'a' AND dataset_name = 'kmmlu'")
rb=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'matrix-1' AND model_name = 'b' AND dataset_name = 'kmmlu'")
"$hret" compare "$ra" "$rb" --json --config "$work/hret.yaml" >"$work/compare.json" ||
  fail "hret compare of stored runs: $(cat "$work/compare.json")"
"$hret" compare "$ra" "$rb" --config "$work/hret.yaml" | grep -q "^verdict: " || fail "hret compare text"
python3 - "$work" <<'PY' || fail "hret compare differs from the comparison event"
import json, sys
work = sys.argv[1]
events = [json.loads(l) for l in open(f"{work}/events.jsonl") if l.strip()]
event = next(e for e in events if "comparison_id" in e and e["dataset"]["name"] == "kmmlu")
cli = json.load(open(f"{work}/compare.json"))["overall"]
assert cli["pairs"] == event["n_pairs"], (cli["pairs"], event["n_pairs"])
assert abs(cli["accuracy_a"] - event["baseline"]["value"]) < 1e-12
assert abs(cli["accuracy_b"] - event["candidate"]["value"]) < 1e-12
assert abs(cli["difference"] - event["difference"]) < 1e-12
assert cli["difference_ci"] == event["ci95"], (cli["difference_ci"], event["ci95"])
assert cli["a_right_b_wrong"] == event["mcnemar"]["b"] and cli["a_wrong_b_right"] == event["mcnemar"]["c"]
assert abs(cli["p_value"] - event["mcnemar"]["p_value"]) < 1e-12, (cli["p_value"], event["mcnemar"])
print("hret compare on stored runs = the comparison event")
PY
set +e
"$hret" compare "$ra" no-such-run --config "$work/hret.yaml" 2>"$work/compare.err"
rc=$?
set -e
[ $rc = 2 ] && grep -q "no-such-run" "$work/compare.err" || fail "unknown run id: exit $rc $(cat "$work/compare.err")"

# an inline endpoint on the allowlist: the same answers as configured model b
cat >"$work/inline.json" <<JSON
{"request_id": "inline-1", "datasets": [{"name": "kmmlu"}],
 "models": [{"name": "lab-b", "endpoint": {"base_url": "http://127.0.0.1:$port/v1", "model": "b"}}]}
JSON
stack_submit "$work/inline.json" >"$work/inline.out" || fail "inline: $(cat "$work/inline.out")"
want=$(python3 -c "import json,sys; print('%.4f' % json.load(open(sys.argv[1]))['metrics']['accuracy'])" "$work/run_b_kmmlu.json")
grep -q "^completed run=.* model=lab-b dataset=kmmlu accuracy=$want" "$work/inline.out" ||
  fail "inline endpoint: $(cat "$work/inline.out"), want accuracy $want"
