#!/usr/bin/env bash
# hret run with a real PostgreSQL as a newcomer meets it (issue 18): which responses the cache
# reuses across runs (response_cache), the run row's heartbeat and `abandoned`, hret runs import
# of a kept results file, and runs export --output keeping what the path is.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
extra_cleanup() { pg_teardown; }

requests() { # port -> chat completions served
  curl -s "http://127.0.0.1:$1/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["chat_completions"])'
}

pg_setup
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 30 --seed 3 >/dev/null
start_fake good --answer-key "$work/synth/answer_key.tsv" --accuracy 0.6 --seed 5
good=$port
config() { # response_cache value ("" = the default)
  cat <<YAML
log_level: warn
output_dir: $work/out
${1:+response_cache: $1}
models:
  good: {base_url: "http://127.0.0.1:$good/v1", model: fake-model}
YAML
}
config "" >"$work/default.yaml"
config always >"$work/always.yaml"
config off >"$work/off.yaml"
run() { # config, flags...
  local cfg=$1
  shift
  "$hret" run --config "$work/$cfg.yaml" --dataset kmmlu --data-dir "$work/synth" --model good \
    --quiet "$@" >"$work/last.txt" 2>&1 || fail "run $cfg $*: $(cat "$work/last.txt")"
}
asked() { # what, want, since
  local got=$(($(requests "$good") - $3))
  [ "$got" -eq "$2" ] || fail "$1: $got endpoint requests, want $2"
}

# item 4: across runs only deterministic requests (temperature 0 or a seed) are reused by default
n=$(requests "$good")
run default --temperature 0.7
run default --temperature 0.7
asked "two runs at temperature 0.7" 60 "$n"
n=$(requests "$good")
run default --temperature 0
run default --temperature 0
asked "two runs at temperature 0" 30 "$n"
grep -q "30 cached responses reused" "$work/last.txt" || fail "cache hits: $(cat "$work/last.txt")"
# response_cache: always reuses sampled answers too; off reuses nothing across runs
n=$(requests "$good")
run always --temperature 0.9
run always --temperature 0.9
asked "response_cache: always at temperature 0.9" 30 "$n"
n=$(requests "$good")
run off --temperature 0
run off --temperature 0
asked "response_cache: off at temperature 0" 60 "$n"
"$hret" help run >"$work/help.txt"
grep -q -- "--no-cache" "$work/help.txt" || fail "--no-cache is not in hret help run"
"$hret" config reference >"$work/reference.txt"
grep -q "response_cache" "$work/reference.txt" || fail "response_cache is not in the reference"

echo "pg newcomer: ok"
