#!/usr/bin/env bash
# hret report: the numbers drawn in the page equal the results JSON (one run: every fact and
# every subset bar with its n and Wilson interval, worst first; two runs: the comparison equals
# hret compare --json; three runs: each against the first, Holm-adjusted across them; --db: the
# stored history with the monitor's threshold and the run that raised an alert), and a real
# headless Chromium renders each page with no console message, the Korean prompt drawn in the
# CJK font deps.sh installs, and a screenshot.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
extra_cleanup() { pg_teardown; }

pg_setup
python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 400 --seed 11 >/dev/null
declare -A ports
for m in base:0.55:5 mid:0.62:7 best:0.75:9; do
  IFS=: read -r name acc seed <<<"$m"
  start_fake "$name" --answer-key "$work/synth/answer_key.tsv" --accuracy "$acc" --seed "$seed"
  ports[$name]=$port
done
cat >"$work/hret_config.yaml" <<YAML
log_level: warn
models:
  base: {base_url: "http://127.0.0.1:${ports[base]}/v1", model: fake-model, max_inflight: 50}
  mid: {base_url: "http://127.0.0.1:${ports[mid]}/v1", model: fake-model, max_inflight: 50}
  best: {base_url: "http://127.0.0.1:${ports[best]}/v1", model: fake-model, max_inflight: 50}
monitor:
  rules:
    - {name: floor, kind: threshold, metric: accuracy, op: "<", threshold: 0.6, model: "b*"}
    - {name: other-metric, kind: threshold, metric: error_rate, op: ">", threshold: 0.1}
YAML
for name in base mid best; do
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model "$name" --output "$work/$name.json" --quiet >/dev/null || fail "hret run $name"
done

render() { # page, screenshot -> JSON of console messages, fonts, screenshot size
  python3 "$src/tests/support/cdp_render.py" "$1" "$2" "details.sample[open] pre" h1
}
check_render() { # page
  render "$1" "${1%.html}.png" >"$1.render.json" || fail "chromium did not render $1"
  python3 - "$1.render.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["console"] == [], r["console"]
fonts = r["fonts"]["details.sample[open] pre"]
assert fonts and any("CJK" in f for f in fonts), f"Korean prompt drawn in {fonts}"
assert r["screenshot_bytes"] > 50000, r["screenshot_bytes"]
PY
}

# 1. one run: facts, subsets (n, Wilson interval, worst first), wrong answers
"$hret" report "$work/base.json" --html "$work/one.html" --samples 7 2>"$work/one.err" ||
  fail "report of one run: $(cat "$work/one.err")"
grep -q "written to $work/one.html" "$work/one.err" || fail "no path printed: $(cat "$work/one.err")"
python3 "$src/tests/support/report_check.py" one "$work/one.html" "$work/base.json"
check_render "$work/one.html"

# 2. two runs: the comparison equals hret compare --json
"$hret" compare "$work/base.json" "$work/best.json" --json >"$work/ab.cmp.json"
"$hret" report "$work/base.json" "$work/best.json" --html "$work/two.html" 2>/dev/null ||
  fail "report of two runs"
python3 "$src/tests/support/report_check.py" two "$work/two.html" "$work/ab.cmp.json"
check_render "$work/two.html"

# 3. three runs: each against the first, overall p Holm-adjusted across the two comparisons
"$hret" compare "$work/base.json" "$work/mid.json" --json >"$work/am.cmp.json"
"$hret" report "$work/base.json" "$work/mid.json" "$work/best.json" --html "$work/three.html" \
  2>/dev/null || fail "report of three runs"
python3 "$src/tests/support/report_check.py" many "$work/three.html" "$work/am.cmp.json" \
  "$work/ab.cmp.json"
check_render "$work/three.html"

# 4. --db: stored runs by name, the history of base with the threshold rule and an alert
for i in 1 2 3; do
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model base --db "$HRET_PG" --run-name "ckpt-$i" --no-cache --quiet >/dev/null ||
    fail "hret run --db ckpt-$i"
done
pg_sql "INSERT INTO alerts (alert_id, rule, run_id, model_name, dataset_name, metric, value,
          threshold, message)
        SELECT 'a-test', 'floor', run_id, model_name, dataset_name, 'accuracy', 0.55, 0.6,
               'accuracy 0.55 < 0.6 (floor)'
        FROM runs WHERE run_name = 'ckpt-2'" >/dev/null
"$hret" report ckpt-1 ckpt-3 --config "$work/hret_config.yaml" --db "$HRET_PG" \
  --html "$work/db.html" 2>"$work/db.err" || fail "report --db: $(cat "$work/db.err")"
psql "$HRET_PG" -qAt -F $'\t' -c "SELECT coalesce(run_name, run_id), (metrics->>'accuracy')::float8 FROM runs
  WHERE model_name = 'base' ORDER BY created_at" >"$work/history.tsv"
python3 "$src/tests/support/report_check.py" history "$work/db.html" "$work/history.tsv"
check_render "$work/db.html"

# 5. refusals: a missing file and a non-results file exit 2; no --html is usage
set +e
"$hret" report "$work/missing.json" --html "$work/x.html" 2>/dev/null; rc1=$?
echo '{"a": 1}' >"$work/not_results.json"
"$hret" report "$work/not_results.json" --html "$work/x.html" 2>"$work/bad.err"; rc2=$?
"$hret" report "$work/base.json" 2>/dev/null; rc3=$?
set -e
[ "$rc1" -eq 2 ] && [ "$rc2" -eq 2 ] && [ "$rc3" -eq 2 ] || fail "exit codes $rc1 $rc2 $rc3"
grep -q "not a results file" "$work/bad.err" || fail "unclear error: $(cat "$work/bad.err")"
[ ! -e "$work/x.html" ] || fail "a refused report wrote a page"
echo "report: one, two, three runs and --db history match their sources; Chromium renders each"
