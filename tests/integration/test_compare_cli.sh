#!/usr/bin/env bash
# hret compare's report on results files written here with known outcomes: each run's header
# shows the run's own accuracy over all its answered items, and the accuracies over the shared
# items are labelled as such (they differ when one run has items the other lacks).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

# results FILE MODEL N_ITEMS CORRECT_IDS...: a results JSON of items 1..N, right on CORRECT_IDS
results() {
  python3 - "$@" <<'PY'
import json, sys
path, model, n, correct = sys.argv[1], sys.argv[2], int(sys.argv[3]), set(sys.argv[4:])
samples = [{"id": str(i), "_subset_name": "s", "input": f"q{i}", "reference": "A",
            "prediction": "A" if str(i) in correct else "B",
            "evaluation": {"is_correct": str(i) in correct}} for i in range(1, n + 1)]
json.dump({"run_metadata": {"model": model}, "metrics": {},
           "results": [{"samples": samples}]}, open(path, "w"))
PY
}

# A: 10 items, right on 1..8 (80.0%); B: items 1..8, right on 1..5 (62.5%). On the 8 shared
# items A is right on all (100.0%), B on 5 (62.5%).
results "$work/a.json" ma 10 1 2 3 4 5 6 7 8
results "$work/b.json" mb 8 1 2 3 4 5
"$hret" compare "$work/a.json" "$work/b.json" --bootstrap 200 >"$work/out" 2>"$work/err" ||
  fail "compare exited $?: $(cat "$work/err")"
grep -qE '^A: .*\(model ma\): 10 items, 0 errors; accuracy 80\.0% ' "$work/out" ||
  fail "A's header does not show its own accuracy (80.0%): $(grep '^A:' "$work/out")"
grep -qE '^B: .*\(model mb\): 8 items, 0 errors; accuracy 62\.5% ' "$work/out" ||
  fail "B's header does not show its own accuracy (62.5%): $(grep '^B:' "$work/out")"
grep -qE '^paired on 8 shared items .*on them A 100\.0%, B 62\.5%' "$work/out" ||
  fail "the shared-items accuracies are not labelled: $(cat "$work/out")"

# The JSON carries both: each run's own accuracy, and the overall (shared-items) group.
"$hret" compare "$work/a.json" "$work/b.json" --bootstrap 200 --json >"$work/out.json"
python3 - "$work/out.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["a"]["accuracy"] == 0.8 and c["a"]["answered"] == 10, c["a"]
assert c["b"]["accuracy"] == 0.625 and c["b"]["answered"] == 8, c["b"]
assert c["overall"]["accuracy_a"] == 1.0 and c["overall"]["pairs"] == 8, c["overall"]
PY

# When the bootstrap interval of B-A excludes 0 but McNemar's p is above 0.05 (5 discordant
# items, all for B: p = 2 * 0.5^5 = 0.0625), the report explains the disagreement.
results "$work/c.json" mc 100 $(seq 1 50)
results "$work/d.json" md 100 $(seq 1 55)
"$hret" compare "$work/c.json" "$work/d.json" >"$work/cd.txt" || fail "compare c d"
grep -qE '^overall .*\[ *\+[0-9.]+, *\+[0-9.]+\] .* 0\.06' "$work/cd.txt" ||
  fail "the case is not the one meant (interval above 0, p 0.0625): $(cat "$work/cd.txt")"
grep -qE "^note: the bootstrap interval excludes 0 but McNemar's exact p = 0\.06[0-9]* is above 0\.05" \
  "$work/cd.txt" || fail "no explanation of interval vs p-value: $(cat "$work/cd.txt")"
"$hret" compare "$work/c.json" "$work/d.json" --json | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert "McNemar" in c["note"], c.get("note")' || fail "--json has no note"
# and no such note when they agree (a run against itself: interval [0, 0], p = 1)
"$hret" compare "$work/c.json" "$work/c.json" >"$work/cc.txt" || fail "compare c c"
! grep -q "^note:" "$work/cc.txt" || fail "a note where interval and test agree: $(cat "$work/cc.txt")"
echo "compare_cli: own and shared-items accuracies shown and labelled"
