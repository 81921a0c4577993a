#!/usr/bin/env bash
# hret run --db against fake-llm and a real PostgreSQL, then everything that reads the runs
# back: the response cache (a repeated run makes zero endpoint requests; --no-cache makes them
# all), runs list/show/export (export equals what hret run --output wrote), metrics history and
# compare against values computed here from the results files, and hostile run names and
# metadata stored literally.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
extra_cleanup() { pg_teardown; }

requests() { # port -> chat completions served
  curl -s "http://127.0.0.1:$1/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["chat_completions"])'
}

pg_setup
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 600 --seed 3 >/dev/null
start_fake good --answer-key "$work/synth/answer_key.tsv" --accuracy 0.62 --seed 5
good=$port
start_fake weak --answer-key "$work/synth/answer_key.tsv" --accuracy 0.3 --seed 9
weak=$port
cat >"$work/hret_config.yaml" <<YAML
log_level: warn
models:
  good: {base_url: "http://127.0.0.1:$good/v1", model: fake-model, max_inflight: 50}
  weak: {base_url: "http://127.0.0.1:$weak/v1", model: fake-model, max_inflight: 50}
YAML
evil="a'); DROP TABLE runs; --"
run() { # name, output, model, more flags...
  local name=$1 out=$2 model=$3
  shift 3
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model "$model" --run-name "$name" --output "$work/$out" --quiet "$@" >"$work/$out.txt" ||
    fail "run $name: $(cat "$work/$out.txt")"
}

# 1. cache: the first run asks the endpoint 600 times, the same run again not once
run "$evil" a.json good --meta hyperparameters.lr=0.001 --meta "note=\"'; DELETE FROM samples; --"
[ "$(requests "$good")" -eq 600 ] || fail "first run made $(requests "$good") requests"
run b b.json good --meta hyperparameters.lr=0.01
[ "$(requests "$good")" -eq 600 ] || fail "cached run made $(($(requests "$good") - 600)) requests"
grep -q "600 cached responses reused" "$work/b.json.txt" || fail "b: $(cat "$work/b.json.txt")"
cmp -s <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["accuracy"])' "$work/a.json") \
  <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metrics"]["accuracy"])' "$work/b.json") ||
  fail "a cached run scored differently"
# a different model never sees good's cache; --no-cache asks again
run c c.json weak --meta hyperparameters.lr=0.01
[ "$(requests "$weak")" -eq 600 ] || fail "weak used good's cache"
run d d.json weak --meta hyperparameters.lr=0.1 --no-cache --limit 100
[ "$(requests "$weak")" -eq 700 ] || fail "--no-cache made $(($(requests "$weak") - 600)) requests"

# 2. runs list / show / export
"$hret" runs list --json >"$work/list.json"
python3 - "$work" "$evil" <<'PY'
import json, sys
work, evil = sys.argv[1], sys.argv[2]
runs = json.load(open(f"{work}/list.json"))
assert [r["run_name"] for r in runs] == ["d", "c", "b", evil], [r["run_name"] for r in runs]
assert all(r["status"] == "completed" for r in runs)
a = runs[3]
assert a["metadata"] == {"hyperparameters": {"lr": 0.001}, "note": "\"'; DELETE FROM samples; --"}, a
assert a["done_samples"] == 600 and a["planned_samples"] == 600 and a["model"] == "good"
assert runs[2]["cache_hits"] == 600 and runs[0]["done_samples"] == 100
PY
"$hret" runs list --model weak | grep -c '^[0-9a-f]\{8\} ' | grep -qx 2 || fail "list --model"
[ "$("$hret" runs list --since 1h --status completed --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 4 ] ||
  fail "list --since/--status"
"$hret" runs show "$evil" | grep -qF "name $evil" || fail "show by name"
id=$("$hret" runs list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[3]["run_id"])')
"$hret" runs show "${id:0:8}" --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["run_id"] == sys.argv[1]' "$id" ||
  fail "show by prefix"
"$hret" runs export "${id:0:8}" --output "$work/a_export.json" 2>/dev/null
"$hret" runs export "$evil" >"$work/a_stdout.json"
"$hret" runs export d >"$work/d_export.json"
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
for want, got in (("a.json", "a_export.json"), ("a.json", "a_stdout.json"), ("d.json", "d_export.json")):
    a, b = json.load(open(f"{w}/{want}")), json.load(open(f"{w}/{got}"))
    for k in a:
        assert a[k] == b[k], (got, k)
    assert a == b, got
    assert list(a["results"][0]["samples"][0]) == list(b["results"][0]["samples"][0]), "key order"
PY
set +e
"$hret" runs show "x' OR '1'='1" >/dev/null 2>"$work/err.txt"
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "no run" "$work/err.txt" || fail "injected run ref: rc $rc"

# 3. metrics history and compare, against values computed from the results files
"$hret" metrics history --metric accuracy --json >"$work/hist.json"
"$hret" metrics history --metric accuracy --subset Accounting --model good --json >"$work/sub.json"
"$hret" metrics compare accuracy --group-by metadata.hyperparameters.lr --json >"$work/grp.json"
"$hret" metrics compare latency_p50_ms --model weak --json >"$work/lat.json"
"$hret" metrics compare accuracy --runs "$evil,${id:0:8},d" --json >"$work/sel.json"
python3 - "$work" "$evil" <<'PY'
import json, sys
w, evil = sys.argv[1], sys.argv[2]
docs = {n: json.load(open(f"{w}/{n}.json")) for n in "abcd"}
def acc(d):
    s = [x for x in d["results"][0]["samples"] if "evaluation" in x]
    return sum(x["evaluation"]["is_correct"] for x in s) / len(s)
for n, d in docs.items():
    assert abs(acc(d) - d["metrics"]["accuracy"]) < 1e-12, n
hist = json.load(open(f"{w}/hist.json"))
assert [h["value"] for h in hist] == [docs[n]["metrics"]["accuracy"] for n in "abcd"], hist
sub = json.load(open(f"{w}/sub.json"))
assert [h["value"] for h in sub] == [docs[n]["metrics"]["Accounting/accuracy"] for n in "ab"], sub
grp = json.load(open(f"{w}/grp.json"))
assert grp["direction"] == "higher_is_better"
want = {"0.001": [acc(docs["a"])], "0.01": [acc(docs["b"]), acc(docs["c"])], "0.1": [acc(docs["d"])]}
means = {k: sum(v) / len(v) for k, v in want.items()}
for k, m in means.items():
    assert abs(grp["groups"][k]["value"] - m) < 1e-12 and grp["groups"][k]["runs"] == len(want[k]), (k, grp)
best = max(means, key=means.get); worst = min(means, key=means.get)
st = grp["_stats"]
assert st["best_group"] == best and st["worst_group"] == worst, st
assert abs(st["best"] - means[best]) < 1e-12 and abs(st["worst"] - means[worst]) < 1e-12
assert abs(st["average"] - sum(means.values()) / 3) < 1e-12 and st["count"] == 3
lat = json.load(open(f"{w}/lat.json"))
vals = {r["run_name"]: r["value"] for r in lat["runs"].values()}
assert vals == {"c": docs["c"]["metrics"]["latency_p50_ms"], "d": docs["d"]["metrics"]["latency_p50_ms"]}, vals
assert lat["direction"] == "lower_is_better"
lo = min(vals, key=vals.get)
assert lat["_stats"]["best"] == vals[lo] and lat["runs"][lat["_stats"]["best_run"]]["run_name"] == lo
sel = json.load(open(f"{w}/sel.json"))
assert sorted(r["run_name"] for r in sel["runs"].values()) == sorted(["d", evil]), sel
assert sel["_stats"]["count"] == 2
PY
"$hret" metrics compare accuracy --model good | grep -q "best .* worst .* average" || fail "compare text"
[ "$(pg_sql "SELECT count(*) FROM runs")" -eq 4 ] || fail "runs table"
echo "pg run: ok"
