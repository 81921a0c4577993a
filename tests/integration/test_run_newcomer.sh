#!/usr/bin/env bash
# hret run as a newcomer meets it (issue 18): small data, fake endpoints, bad input. Each
# section is one defect of the issue; see the comment above it.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 20 --seed 3 >/dev/null
start_fake good --answer-key "$work/synth/answer_key.tsv" --accuracy 0.6 --seed 5
good=$port
cat >"$work/hret_config.yaml" <<YAML
log_level: warn
output_dir: $work/out
models:
  good: {base_url: "http://127.0.0.1:$good/v1", model: fake-model}
YAML
run() { # flags...
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model good --quiet "$@"
}
expect_exit() { # want, what, file for stdout and stderr, command...
  local want=$1 what=$2 out=$3 rc=0
  shift 3
  "$@" >"$out" 2>&1 || rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: exit $rc, want $want: $(cat "$out")"
}

# item 2: default results names are unique (milliseconds and the run id) and never overwrite
for i in 1 2 3; do run >"$work/default$i.txt" || fail "default run $i"; done
n=$(ls "$work/out" | wc -l)
[ "$n" -eq 3 ] || fail "three runs left $n results files: $(ls "$work/out")"
ls "$work/out" | grep -Eq '^hret_results_[0-9]{8}T[0-9]{6}\.[0-9]{3}Z_[0-9a-f-]{36}\.json$' ||
  fail "default name lacks milliseconds and the run id: $(ls "$work/out")"
python3 - "$work/out" <<'PY'
import json, os, sys
ids = set()
for f in os.listdir(sys.argv[1]):
    d = json.load(open(os.path.join(sys.argv[1], f)))
    rid = d["run_metadata"]["run_id"]
    assert rid in f, (rid, f)
    ids.add(rid)
assert len(ids) == 3, ids
PY

# item 15: --meta without --db goes into the results JSON's run metadata
run --meta hyperparameters.lr=0.001 --meta note=hi --output "$work/meta.json" >/dev/null || fail "--meta run"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["run_metadata"]["metadata"]; assert m == {"hyperparameters": {"lr": 0.001}, "note": "hi"}, m' \
  "$work/meta.json" || fail "--meta is not in run_metadata.metadata"

# item 8: a missing api_key_env variable: exit 2 naming it before any request; config check warns
cat >"$work/keyed.yaml" <<YAML
log_level: warn
models:
  keyed: {base_url: "http://127.0.0.1:$good/v1", model: fake-model, api_key_env: HRET_TEST_UNSET_KEY}
YAML
before=$(curl -s "http://127.0.0.1:$good/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["chat_completions"])')
expect_exit 2 "run with an unset key variable" "$work/keyed.err" env -u HRET_TEST_UNSET_KEY "$hret" run \
  --config "$work/keyed.yaml" --dataset kmmlu --data-dir "$work/synth" --model keyed --output "$work/keyed.json"
grep -q "HRET_TEST_UNSET_KEY" "$work/keyed.err" || fail "the error does not name the variable: $(cat "$work/keyed.err")"
after=$(curl -s "http://127.0.0.1:$good/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["chat_completions"])')
[ "$before" = "$after" ] || fail "requests were sent with no key ($before -> $after)"
env -u HRET_TEST_UNSET_KEY "$hret" config check "$work/keyed.yaml" >"$work/check.out" 2>"$work/check.err" ||
  fail "config check fails on an unset key variable (it should warn)"
grep -q "warning.*HRET_TEST_UNSET_KEY" "$work/check.err" || fail "config check does not warn: $(cat "$work/check.err")"
HRET_TEST_UNSET_KEY=k "$hret" config check "$work/keyed.yaml" 2>"$work/check2.err" >/dev/null
! grep -q warning "$work/check2.err" || fail "config check warns with the variable set"

# item 7: content null and empty choices are sample errors naming what came back, counted in
# errors and kept out of the accuracy (never a silent wrong answer)
python3 "$src/tests/fakes/fake_empty_llm.py" >"$work/empty.out" 2>&1 &
pids+=($!)
empty=$(listening_port "$work/empty.out") || exit 1
cat >"$work/empty.yaml" <<YAML
log_level: warn
models:
  null: {base_url: "http://127.0.0.1:$empty/null/v1", model: m, max_retries: 0}
  empty: {base_url: "http://127.0.0.1:$empty/empty/v1", model: m, max_retries: 0}
  mixed: {base_url: "http://127.0.0.1:$empty/mixed/v1", model: m, max_inflight: 1}
  text_null: {base_url: "http://127.0.0.1:$empty/x/v1", model: m, backend: openai_completions, max_retries: 0}
YAML
for m in null empty mixed text_null; do
  "$hret" run --config "$work/empty.yaml" --dataset kmmlu --data-dir "$work/synth" --model $m \
    --quiet --output "$work/empty_$m.json" >"$work/empty_$m.txt" 2>&1 || true
done
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
want = {"null": "content null, finish_reason content_filter", "empty": "choices empty",
        "text_null": "text null, finish_reason stop"}
for m, reason in want.items():
    d = json.load(open(f"{w}/empty_{m}.json"))
    mt, ss = d["metrics"], d["results"][0]["samples"]
    assert mt["errors"] == 20 and mt["answered"] == 0, (m, mt)
    for s in ss:
        assert "evaluation" not in s and reason in s["error"], (m, s)
d = json.load(open(f"{w}/empty_mixed.json"))
mt = d["metrics"]
assert mt["errors"] == 10 and mt["answered"] == 10, mt
assert mt["accuracy"] == mt["correct"] / 10, mt
PY
[ $? -eq 0 ] || fail "replies without text"

# item 5: a run that scores nothing: accuracy null, the summary says why, exit 1
mkdir -p "$work/headers/data"
for f in "$work"/synth/data/*-test.csv; do head -1 "$f" >"$work/headers/data/$(basename "$f")"; done
expect_exit 1 "header-only dataset" "$work/headers.txt" "$hret" run --config "$work/hret_config.yaml" \
  --dataset kmmlu --data-dir "$work/headers" --model good --quiet --output "$work/headers.json"
grep -q "nothing scored: the dataset has no samples" "$work/headers.txt" || fail "no reason: $(cat "$work/headers.txt")"
grep -q "accuracy   -" "$work/headers.txt" || fail "summary shows an accuracy: $(cat "$work/headers.txt")"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["metrics"]; assert m["accuracy"] is None and m["answered"] == 0, m' \
  "$work/headers.json" || fail "header-only accuracy is not null"
# every request failed (content null throughout): null, and the reason names the errors
grep -q "nothing scored: every request failed" "$work/empty_null.txt" || fail "all-error reason: $(cat "$work/empty_null.txt")"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["metrics"]; assert m["accuracy"] is None and "accuracy_ci_low" not in m and "Law/accuracy" not in m, m' \
  "$work/empty_null.json" || fail "all-error accuracy is not null"
# hret score on an empty file
: >"$work/empty.jsonl"
expect_exit 1 "score an empty file" "$work/score_empty.err" "$hret" score --input "$work/empty.jsonl" \
  --output "$work/empty_scored.jsonl"
grep -q "nothing scored" "$work/score_empty.err" || fail "score: $(cat "$work/score_empty.err")"

# item 6: a repeated subset is loaded once, with a warning
run --subset Law,Law,law --output "$work/law.json" >/dev/null 2>"$work/law.err" || fail "repeated subset run"
grep -qi "warn.*subset 'law' .*repeated" "$work/law.err" || fail "no warning: $(cat "$work/law.err")"
python3 - "$work/law.json" "$work/synth/data" <<'PY'
import csv, json, os, sys
d = json.load(open(sys.argv[1]))
rows = sum(1 for _ in csv.DictReader(open(os.path.join(sys.argv[2], "Law-test.csv"), encoding="utf-8")))
ids = [s["id"] for s in d["results"][0]["samples"]]
assert len(ids) == len(set(ids)) == rows, (len(ids), len(set(ids)), rows)
PY
[ $? -eq 0 ] || fail "repeated subset loaded more than once"

# friction: the per-subset table shows n and says it is sorted worst first
run --output "$work/table.json" >"$work/table.txt" || fail "table run"
grep -q "per subset, worst first" "$work/table.txt" || fail "table heading: $(cat "$work/table.txt")"
python3 - "$work/table.json" "$work/table.txt" <<'PY'
import json, re, sys, collections
d = json.load(open(sys.argv[1]))
n = collections.Counter(s["_subset_name"] for s in d["results"][0]["samples"])
rows = [l.split() for l in open(sys.argv[2]) if re.match(r"^    \S+ +[0-9.]+ +n=\d+$", l)]
assert rows, open(sys.argv[2]).read()
for name, acc, cnt in rows:
    assert int(cnt[2:]) == n[name], (name, cnt, n[name])
accs = [float(r[1]) for r in rows]
assert accs == sorted(accs), accs
PY
[ $? -eq 0 ] || fail "per-subset table"

# friction: --max-error-rate R exits 1 when more than R of the samples were errors; a high
# error rate is marked in the summary headline
expect_exit 1 "--max-error-rate exceeded" "$work/maxerr.txt" "$hret" run --config "$work/empty.yaml" \
  --dataset kmmlu --data-dir "$work/synth" --model mixed --quiet --output "$work/maxerr.json" --max-error-rate 0.2
grep -q "error rate 50.0% is above --max-error-rate 20.0%" "$work/maxerr.txt" || fail "max-error-rate message: $(cat "$work/maxerr.txt")"
grep -q "^HIGH ERROR RATE 50.0%: run " "$work/maxerr.txt" || fail "headline: $(cat "$work/maxerr.txt")"
expect_exit 0 "--max-error-rate not exceeded" "$work/maxerr2.txt" "$hret" run --config "$work/empty.yaml" \
  --dataset kmmlu --data-dir "$work/synth" --model mixed --quiet --output "$work/maxerr2.json" --max-error-rate 0.6
"$hret" help run >"$work/help_run.txt"
grep -q -- "--max-error-rate" "$work/help_run.txt" || fail "--max-error-rate not in hret help run"

# friction: "every request failed" names the top error reasons with counts; a base_url without
# /v1 that 404s gets a hint
cat >"$work/nov1.yaml" <<YAML
log_level: warn
models:
  nov1: {base_url: "http://127.0.0.1:$good", model: fake-model, max_retries: 0}
  refused: {base_url: "http://127.0.0.1:1/v1", model: fake-model, max_retries: 0}
YAML
expect_exit 1 "base_url without /v1" "$work/nov1.txt" "$hret" run --config "$work/nov1.yaml" \
  --dataset kmmlu --data-dir "$work/synth" --model nov1 --quiet --output "$work/nov1.json"
grep -q "top errors: 20 × HTTP 404" "$work/nov1.txt" || fail "top errors: $(cat "$work/nov1.txt")"
grep -q "base_url .* has no /v1" "$work/nov1.txt" || fail "no /v1 hint: $(cat "$work/nov1.txt")"
expect_exit 1 "connection refused" "$work/refused.txt" "$hret" run --config "$work/nov1.yaml" \
  --dataset kmmlu --data-dir "$work/synth" --model refused --quiet --output "$work/refused.json"
grep -qi "top errors: 20 × .*connect" "$work/refused.txt" || fail "refused: $(cat "$work/refused.txt")"

# item 3: invalid UTF-8 in a dataset is a load error naming file:line:column, or with
# --invalid-utf8 replace / datasets.invalid_utf8: replace U+FFFD with a count in the summary;
# every JSON hret writes is valid UTF-8 (a model reply with invalid bytes too)
cp -r "$work/synth" "$work/badutf8"
python3 - "$work/badutf8/data/Law-test.csv" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")
lines[1] = lines[1][:5] + b"\xff" + lines[1][5:]  # line 2, after "[Law " (5 characters)
open(p, "wb").write(b"\n".join(lines))
PY
expect_exit 2 "invalid UTF-8 in a dataset" "$work/badutf8.txt" "$hret" run --config "$work/hret_config.yaml" \
  --dataset kmmlu --data-dir "$work/badutf8" --model good --quiet --output "$work/badutf8.json"
grep -q "Law-test.csv:2:6: invalid UTF-8" "$work/badutf8.txt" || fail "no file:line:column: $(cat "$work/badutf8.txt")"
[ ! -e "$work/badutf8.json" ] || fail "a results file was written for a dataset that did not load"
run --data-dir "$work/badutf8" --invalid-utf8 replace --output "$work/replaced.json" >"$work/replaced.txt" ||
  fail "--invalid-utf8 replace: $(cat "$work/replaced.txt")"
grep -q "1 invalid UTF-8 sequence replaced by U+FFFD" "$work/replaced.txt" || fail "no count: $(cat "$work/replaced.txt")"
python3 - "$work/replaced.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert any("\ufffd" in s["input"] for s in d["results"][0]["samples"])
assert d["results"][0]["info"]["invalid_utf8_replaced"] == 1, d["results"][0]["info"]
PY
[ $? -eq 0 ] || fail "replaced results"
sed 's/^log_level: warn$/log_level: warn\ndatasets: {invalid_utf8: replace}/' "$work/hret_config.yaml" >"$work/replace.yaml"
"$hret" run --config "$work/replace.yaml" --dataset kmmlu --data-dir "$work/badutf8" --model good --quiet \
  --output "$work/replaced2.json" >"$work/replaced2.txt" || fail "datasets.invalid_utf8: replace: $(cat "$work/replaced2.txt")"
grep -q "1 invalid UTF-8 sequence replaced" "$work/replaced2.txt" || fail "config replace: $(cat "$work/replaced2.txt")"
cat >>"$work/empty.yaml" <<YAML
  badbytes: {base_url: "http://127.0.0.1:$empty/badbytes/v1", model: m}
YAML
"$hret" run --config "$work/empty.yaml" --dataset kmmlu --data-dir "$work/synth" --model badbytes --quiet \
  --output "$work/badbytes.json" >/dev/null 2>&1 || true
python3 -c 'import json,sys; d=json.load(open(sys.argv[1], encoding="utf-8")); assert "\ufffd" in d["results"][0]["samples"][0]["prediction"]' \
  "$work/badbytes.json" || fail "a reply with invalid UTF-8 made the results JSON invalid"

# friction: hret probe checks chat and completions answers and words errors as hret run does
"$hret" probe --config "$work/hret_config.yaml" --model good >"$work/probe_good.txt" 2>&1 || fail "probe good: $(cat "$work/probe_good.txt")"
grep -Eq "^  chat answers +yes" "$work/probe_good.txt" || fail "probe chat: $(cat "$work/probe_good.txt")"
grep -Eq "^  completions +yes" "$work/probe_good.txt" || fail "probe completions: $(cat "$work/probe_good.txt")"
expect_exit 1 "probe a base_url without /v1" "$work/probe_nov1.txt" "$hret" probe --config "$work/nov1.yaml" --model nov1
grep -q "chat answers .*HTTP 404" "$work/probe_nov1.txt" || fail "probe 404 wording: $(cat "$work/probe_nov1.txt")"
grep -q "base_url .* has no /v1" "$work/probe_nov1.txt" || fail "probe /v1 hint: $(cat "$work/probe_nov1.txt")"
"$hret" probe --config "$work/empty.yaml" --model null >"$work/probe_null.txt" 2>&1 || true
grep -q "chat answers .*no text in the reply: content null, finish_reason content_filter" "$work/probe_null.txt" ||
  fail "probe content null: $(cat "$work/probe_null.txt")"
expect_exit 2 "probe with an unset key" "$work/probe_key.txt" env -u HRET_TEST_UNSET_KEY "$hret" probe --config "$work/keyed.yaml" --model keyed
grep -q "HRET_TEST_UNSET_KEY" "$work/probe_key.txt" || fail "probe key: $(cat "$work/probe_key.txt")"

echo "newcomer: ok"
