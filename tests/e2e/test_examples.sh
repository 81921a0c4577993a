#!/usr/bin/env bash
# The examples against their stack: examples/stack.sh up (PostgreSQL, Kafka, fake-llm, two
# workers, the monitor; MLflow left out here: HRET_EXAMPLES_MLFLOW=0, no example needs it), then
# four examples, each checked on what it claims to show, then examples/stack.sh down and nothing
# of the stack left running. About 2 min, most of it Kafka starting.
#   ab_test.sh          a paired comparison with a significant verdict for the candidate
#   hparam_sweep.sh     three lr groups ranked by hret metrics compare --group-by, best lr 0.005
#   continuous_eval.sh  the third night's bad release raises the regress alert (McNemar)
#   webhook.sh          the receiver verifies the bridge's HMAC signature and gets the run
#   checkpoint_eval.py  four checkpoints, accuracy rising with the epoch
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

export HRET_EXAMPLES_DIR="$work/stack" HRET_EXAMPLES_MLFLOW=0 HRET_DEMO_BUILD="$HRET_BUILD_DIR"
extra_cleanup() { "$src/examples/stack.sh" down >/dev/null 2>&1 || true; }
"$src/examples/stack.sh" up >"$work/up.out" 2>&1 || fail "stack.sh up: $(cat "$work/up.out")"

run() { # example: runs it, output in $work/<example>.out
  timeout 180 "$src/examples/$1" >"$work/$1.out" 2>&1 || fail "$1 exited $?: $(cat "$work/$1.out")"
}
expect() { # example pattern
  grep -Eq -- "$2" "$work/$1.out" || fail "$1: no /$2/ in: $(cat "$work/$1.out")"
}

run ab_test.sh
expect ab_test.sh '^overall +400 +5[0-9]\.[0-9] +6[0-9]\.[0-9] '
expect ab_test.sh '^verdict: B is better than A by '

run hparam_sweep.sh
expect hparam_sweep.sh '^0\.005 +1 +0\.6'
expect hparam_sweep.sh 'over 3 groups: best 0\.[0-9]+ \(0\.005\)'

run continuous_eval.sh
expect continuous_eval.sh '^  regress \| warning \| accuracy regressed against previous run .*McNemar exact p'

run webhook.sh
expect webhook.sh '^  run completed: hooked-[0-9]+ on kmmlu accuracy=0\.6'

run checkpoint_eval.sh
python3 - "$work/checkpoint_eval.sh.out" <<'PY' || fail "checkpoint_eval: $(cat "$work/checkpoint_eval.sh.out")"
import re, sys
acc = [float(a) for a in re.findall(r"^  epoch \d: accuracy ([0-9.]+)", open(sys.argv[1]).read(), re.M)]
assert len(acc) == 4 and acc == sorted(acc) and acc[-1] - acc[0] > 0.1, acc
PY

stack_dir=$HRET_EXAMPLES_DIR
cp "$stack_dir/pids" "$work/pids"
pg_dir=$(cat "$stack_dir/pg_dir")
"$src/examples/stack.sh" down >"$work/down.out" 2>&1 || fail "stack.sh down: $(cat "$work/down.out")"
while read -r pid name; do
  kill -0 "$pid" 2>/dev/null && fail "$name (pid $pid) still running after stack.sh down"
done <"$work/pids"
left=$(ps -eo pid=,args= | grep -F -e "$stack_dir" -e "$pg_dir" | grep -v grep || true)
[ -d "$pg_dir" ] && fail "stack.sh down left the database in $pg_dir"
[ -z "$left" ] || fail "processes of the example stack still running: $left"
echo "ok: examples (ab_test, hparam_sweep, continuous_eval, webhook, checkpoint_eval)"
