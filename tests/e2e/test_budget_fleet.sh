#!/usr/bin/env bash
# One budget per model across the fleet (issue 20): three workers share model a's fleet_rpm
# through PostgreSQL leases. fake-llm enforces a server-side limit a little above fleet_rpm (429
# past it in a wall-clock minute); the run needs about 1.5 minutes of the budget, so without the
# fleet budget the three workers would send everything at once. Checked: every wall-clock
# minute's model calls stay within fleet_rpm plus one lease slice (fleet_rpm x 3 s / 60 s), no
# 429 at all, every sample answered, and the leases of stopped workers are gone. No timing is
# asserted.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

fleet_rpm=120
slice=$((fleet_rpm * 3 / 60))
STACK_FAKE_FLAGS="--rpm $((fleet_rpm + slice + 4))" stack_up 180
STACK_SHARD_SIZE=15 stack_config "max_workers: 2"
sed -i "s/^  a: {\(.*\)}$/  a: {\1, fleet_rpm: $fleet_rpm}/" "$work/hret.yaml"
grep -q "fleet_rpm: $fleet_rpm}" "$work/hret.yaml" || fail "config: $(cat "$work/hret.yaml")"
declare -a workers
for i in 1 2 3; do
  "$hret" worker --config "$work/hret.yaml" >>"$work/worker$i.log" 2>&1 &
  workers+=($!)
  pids+=($!)
done
curl -sf -X POST "http://127.0.0.1:$port/fake/reset" >/dev/null
stack_submit --dataset kmmlu --model a --request-id budget-fleet >"$work/submit.out" 2>&1 ||
  fail "submit: $(cat "$work/submit.out")"
grep -q '^completed run=' "$work/submit.out" || fail "not completed: $(cat "$work/submit.out")"
[ "$(pg_sql "SELECT count(DISTINCT owner) FROM shards s JOIN runs r USING (run_id) WHERE r.request_id = 'budget-fleet'")" -ge 2 ] ||
  fail "the shards did not spread over the workers"
[ "$(pg_sql "SELECT count(*) FROM samples s JOIN runs r USING (run_id) WHERE r.request_id = 'budget-fleet' AND s.error_class IS NULL")" = 180 ] ||
  fail "not every sample answered: $(pg_sql "SELECT DISTINCT error FROM samples WHERE error IS NOT NULL")"
curl -sf "http://127.0.0.1:$port/fake/stats" >"$work/stats.json"
python3 - "$work/stats.json" "$fleet_rpm" "$slice" <<'PY' || fail "fleet budget: $(cat "$work/stats.json")"
import json, sys
s = json.load(open(sys.argv[1]))
fleet_rpm, slice_ = int(sys.argv[2]), int(sys.argv[3])
per_minute = s["per_minute"]
assert sum(per_minute.values()) == 180, per_minute
assert max(per_minute.values()) <= fleet_rpm + slice_, (per_minute, fleet_rpm + slice_)
assert "429" not in s["status"] and s["sent_429"] == 0, s["status"]
print(f"per-minute model calls {sorted(per_minute.values())} <= {fleet_rpm} + {slice_}, no 429")
PY
for i in 0 1 2; do stack_stop "${workers[$i]}" "worker $((i + 1))"; done
[ "$(pg_sql "SELECT count(*) FROM model_budget_leases WHERE expires_at > now()")" = 0 ] ||
  fail "stopped workers still hold leases: $(pg_sql "SELECT * FROM model_budget_leases")"
echo "budget fleet e2e: ok"
