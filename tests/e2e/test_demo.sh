#!/usr/bin/env bash
# make demo end to end, as a user runs it (deploy/local/demo.sh, no arguments) but on the test's
# build directory, without deps.sh (the CI machine has the packages) or a build (ctest's
# binaries, maybe sanitized, are the ones under test), with its state in the
# test's scratch dir: PostgreSQL, Kafka from jars, the MLflow server (its venv is shared with
# test_bridge_mlflow.sh via deploy/local/mlflow.sh), fake-llm, two workers, the monitor and the
# MLflow bridge; one request through Kafka. The full demo, not a reduced one: about 2-3 min here.
# Checks: exit 0; both accuracies with Wilson intervals, the paired comparison and its verdict
# (candidate 68% vs baseline 55% on 1,000 items must come out significantly better), the
# kmmlu-floor alert on the baseline, the MLflow URLs of both runs, the request's runs in
# PostgreSQL, the results JSON files (valid, 1,000 samples each); and that nothing it started
# is still running afterwards (postgres, java, mlflow, fake-llm, hret).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

dir="$work/demo"
extra_cleanup() { # the demo keeps its (stopped) database for a later look: delete it
  if [ -s "$dir/pg_dir" ]; then
    "$src/deploy/local/pg.sh" destroy "$(cat "$dir/pg_dir")" >/dev/null 2>&1 || true
  fi
}
rc=0
HRET_DEMO_BUILD="$HRET_BUILD_DIR" HRET_DEMO_SKIP_DEPS=1 HRET_DEMO_SKIP_BUILD=1 HRET_DEMO_DIR="$dir" \
  timeout 600 "$src/deploy/local/demo.sh" >"$work/demo.out" 2>&1 || rc=$?
out="$work/demo.out"
show() { echo "--- demo output" >&2; cat "$out" >&2; }
[ $rc = 0 ] || { show; fail "demo exit status $rc"; }

expect() { # pattern description
  grep -Eq -- "$1" "$out" || { show; fail "demo output lacks $2 (/$1/)"; }
}
expect '^    baseline +accuracy 5[0-9]\.[0-9]%  \(95% Wilson interval [0-9.]+ to [0-9.]+, 1000 questions\)' \
  "the baseline's accuracy with its interval"
expect '^    candidate +accuracy 6[0-9]\.[0-9]%  \(95% Wilson interval [0-9.]+ to [0-9.]+, 1000 questions\)' \
  "the candidate's accuracy with its interval"
expect '^    overall +1000 ' "the paired comparison's overall line"
expect '^    verdict: B is better than A by \+1[0-9]\.[0-9] points' "a significant verdict"
expect 'ALERT warning kmmlu-floor: ' "the kmmlu-floor alert"
expect '^    MLflow experiment hret-demo: http://127\.0\.0\.1:[0-9]+/#/experiments/[0-9]+$' "the MLflow URL"
expect '^      baseline: http://127\.0\.0\.1:[0-9]+/#/experiments/[0-9]+/runs/[0-9a-f]{32}$' \
  "the baseline's MLflow run"
expect '^      candidate: http://127\.0\.0\.1:[0-9]+/#/experiments/[0-9]+/runs/[0-9a-f]{32}$' \
  "the candidate's MLflow run"
expect '^      .*(completed).*' "the request's runs from hret status"
expect '^demo finished in [0-9]+ s$' "the elapsed time"
# the steps count to their total (it said 10/9 once a step was added)
steps=$(sed -n 's/.*==> \([0-9]*\)\/\([0-9]*\) .*/\1 \2/p' "$out")
[ -n "$steps" ] && [ "$(awk '$1 != NR {bad = 1} END {print bad + 0}' <<<"$steps")" = 0 ] &&
  [ "$(sed -n '$p' <<<"$steps" | awk '{print ($1 == $2)}')" = 1 ] &&
  [ "$(awk '{print $2}' <<<"$steps" | sort -u | wc -l)" = 1 ] ||
  { show; fail "the steps do not count 1..N of N: $(tr '\n' ',' <<<"$steps")"; }
expect "^report \\(open it in a browser\\): $dir/results/report.html\$" "the report's path"
grep -q 'class="comparison"' "$dir/results/report.html" || fail "the report has no comparison"
grep -q 'class="history"' "$dir/results/report.html" || fail "the report has no history"
grep -q 'ALERT .*candidate\|kmmlu-floor.*candidate' "$out" && { show; fail "an alert on the candidate"; }
for m in baseline candidate; do
  python3 - "$dir/results/$m.json" "$m" <<'PY' || fail "results JSON of $m"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run_metadata"]["model"] == sys.argv[2], d["run_metadata"]
assert len(d["results"][0]["samples"]) == 1000, len(d["results"][0]["samples"])
PY
done

# nothing left running: the recorded pids, the broker and anything naming the demo's directory
while read -r pid name; do
  kill -0 "$pid" 2>/dev/null && fail "$name (pid $pid) still running after the demo"
done <"$dir/pids.stopped"
left=$(ps -eo pid=,args= | grep -F -e "$dir" -e "$(cat "$dir/pg_dir")" | grep -v grep || true)
[ -z "$left" ] || fail "processes of the demo still running: $left"
grep -q 'demo: failed' "$out" && fail "the demo reported a failure"
echo "ok: make demo ($(sed -n 's/^demo finished in //p' "$out"))"
