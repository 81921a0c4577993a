#!/usr/bin/env bash
# Mistakes a newcomer makes with the commands that read the store get hret's own words, never
# a PostgreSQL SQLSTATE: a --since that is neither a time nor an age, and a metric name that no
# stored run has (with a did-you-mean from the names that are stored). Real PostgreSQL.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
extra_cleanup() { pg_teardown; }

pg_setup
start_fake good --accuracy 1
cat >"$work/hret_config.yaml" <<YAML
log_level: warn
models:
  good: {base_url: "http://127.0.0.1:$port/v1", model: fake-model}
YAML
"$hret" run --config "$work/hret_config.yaml" --dataset generic \
  --data-dir "$src/tests/data/datasets/generic/qa.jsonl" --model good --quiet \
  --output "$work/a.json" >/dev/null || fail "run"

usage_error() { # what, command...: exit 2, hret's own message, no PostgreSQL wording
  local what=$1 rc
  shift
  set +e
  "$@" >"$work/out" 2>"$work/err"
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "$what exits $rc, want 2: $(cat "$work/err")"
  ! grep -qiE 'SQLSTATE|ERROR: |invalid input syntax|22007|22008' "$work/err" ||
    fail "$what shows PostgreSQL's error: $(cat "$work/err")"
}

# 1. --since garbage
usage_error "runs list --since garbage" "$hret" runs list --since garbage
grep -q "^hret runs list: --since 'garbage' is neither a time" "$work/err" ||
  fail "--since garbage: $(cat "$work/err")"
"$hret" runs list --since 2d >/dev/null || fail "--since 2d"
"$hret" runs list --since 2025-01-31 >/dev/null || fail "--since 2025-01-31"

# 2. a metric no stored run has: did-you-mean from the stored names
usage_error "metrics history --metric accurcy" "$hret" metrics history --metric accurcy
grep -q "no stored run has metric 'accurcy' (did you mean 'accuracy'?)" "$work/err" ||
  fail "metrics history did-you-mean: $(cat "$work/err")"
usage_error "metrics compare acc" "$hret" metrics compare acc
grep -q "did you mean 'accuracy'" "$work/err" || fail "metrics compare did-you-mean: $(cat "$work/err")"
"$hret" metrics history --metric accuracy | grep -q "over 1 run" || fail "metrics history accuracy"
echo "store_cli_errors: ok"
