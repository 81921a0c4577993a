#!/usr/bin/env bash
# Every dataset option from the command line: hret run --dataset-param (BenchHub filters; an
# unknown key refused), --template and --few-shot-template (HRET's dataset_params keys, with
# the dataset's placeholders), and hret submit --dry-run refusing at submit time what a worker
# would refuse when loading (an unknown subset, a param the loader does not take, a template
# with a placeholder the dataset lacks), while carrying good ones in dataset params.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
ds="$src/tests/data/datasets"

start_fake fake
cat >"$work/hret_config.yaml" <<YAML
output_dir: $work/out
kafka: {brokers: "127.0.0.1:1"}
models:
  fake: {base_url: "http://127.0.0.1:$port/v1", model: fake-model}
YAML
cd "$work"
samples() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"][0]["samples"]))' "$1"; }

# 1. --dataset-param: BenchHub's filter, and an unknown key refused with the accepted ones
"$hret" run --dataset benchhub --data-dir "$ds/benchhub" --split train --model fake -q \
  --output all.json >/dev/null || fail "benchhub run"
"$hret" run --dataset benchhub --data-dir "$ds/benchhub" --split train --model fake -q \
  --dataset-param problem_types=Open-ended --output open.json >/dev/null || fail "benchhub filter"
[ "$(samples all.json)" = 5 ] && [ "$(samples open.json)" = 1 ] ||
  fail "filter: $(samples all.json) / $(samples open.json)"
set +e
"$hret" run --dataset benchhub --data-dir "$ds/benchhub" --split train --model fake -q \
  --dataset-param colour=red --output bad.json >/dev/null 2>bad.err
rc=$?
set -e
[ $rc = 2 ] && grep -q "unknown params key 'colour' (accepted: language, problem_types" bad.err ||
  fail "unknown dataset param: $rc $(cat bad.err)"

# 2. --template and --few-shot-template
printf '문제를 풀어라.\n%s\n답:' '{query}' >tmpl.txt
printf '예) %s -> %s\n' '{input}' '{reference}' >shot.txt
"$hret" run --dataset haerae_bench --data-dir "$ds/haerae_bench" --subset loan_words --model fake -q \
  --template tmpl.txt --output t.json >/dev/null || fail "template run"
python3 - <<'PY' || fail "template not applied"
import json
s = json.load(open("t.json"))["results"][0]["samples"]
assert s and all(x["input"].startswith("문제를 풀어라.\n") and x["input"].endswith("\n답:") for x in s), s[0]["input"]
PY
"$hret" run --dataset haerae_bench --data-dir "$ds/haerae_bench" --subset loan_words --model fake -q \
  --template tmpl.txt --few-shot-template shot.txt --num-few-shot 1 --output f.json >/dev/null ||
  fail "few-shot template run"
python3 - <<'PY' || fail "few-shot template not applied"
import json
s = json.load(open("f.json"))["results"][0]["samples"]
assert s and all("예) 문제를 풀어라." in x["input"] and " -> (A)\n" in x["input"] for x in s), s[0]["input"]
PY
printf 'Q: %s' '{question}' >wrong.txt
set +e
"$hret" run --dataset haerae_bench --data-dir "$ds/haerae_bench" --model fake -q --template wrong.txt \
  >/dev/null 2>wrong.err
rc=$?
set -e
[ $rc = 2 ] && grep -q "question" wrong.err || fail "template placeholder: $rc $(cat wrong.err)"

# 3. hret submit --dry-run refuses at submit time what a worker would refuse
refused() { # expected-text args...
  local want=$1
  shift
  set +e
  "$hret" submit --config hret_config.yaml --dry-run --model fake "$@" >out.txt 2>err.txt
  local rc=$?
  set -e
  [ $rc = 2 ] && grep -q "$want" err.txt || fail "submit $*: rc $rc, $(cat err.txt)"
}
refused "unknown subset 'NoSuchSubject'" --dataset kmmlu --subset Accounting,NoSuchSubject
refused "unknown params key 'revision'" --dataset kmmlu --dataset-param revision=main
refused "datasets\[0\]: haerae_bench: " --dataset haerae_bench --template wrong.txt
"$hret" submit --config hret_config.yaml --dry-run --model fake --dataset haerae_bench \
  --subset loan_words --template tmpl.txt --few-shot-template shot.txt --num-few-shot 1 \
  --dataset-param few_shot_instruction=예시 >ok.json || fail "good submit"
python3 - <<'PY' || fail "dry-run request: $(cat ok.json)"
import json
r = json.load(open("ok.json"))
p = r["datasets"][0]["params"]
assert p["base_prompt_template"].startswith("문제를 풀어라.") and "{input}" in p["few_shot_example_template"]
assert p["few_shot_instruction"] == "예시", p
PY
echo "dataset options: ok"
