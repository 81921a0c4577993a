#!/usr/bin/env bash
# Issue 16: worker ids are unique per process even where host and pid repeat. Two workers with
# --network host share the hostname and may both be pid 1 in their containers; here each runs as
# pid 1 of a PID namespace of its own (unshare --pid --fork) on the same host. Their ids (in
# leases, budget leases and logs) must differ, still start with host:pid, and the two together
# complete a request of several shards with one model call per sample and every shard done by an
# owner of one of them (host:pid:nonce:slot).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) is needed"
unshare --pid --fork true 2>/dev/null || fail "unshare --pid does not work here (root needed)"
items=48
STACK_FAKE_FLAGS="--latency-ms 100" stack_up "$items"
STACK_SHARD_SIZE=8 stack_config "max_workers: 2"
for i in 1 2; do
  unshare --pid --fork --kill-child "$hret" worker --config "$work/hret.yaml" >>"$work/worker$i.log" 2>&1 &
  pids+=($!)
done
host=$(hostname)
declare -a ids
for i in 1 2; do
  for _ in $(seq 300); do
    grep -q 'consuming .* as group' "$work/worker$i.log" && break
    sleep 0.1
  done
  ids[$i]=$(sed -n 's/.* id=\([^ ]*\) msg="consuming .*/\1/p' "$work/worker$i.log" | sed -n 1p)
  [ -n "${ids[$i]}" ] || fail "worker $i logged no id"
  [[ "${ids[$i]}" == "$host:1:"* ]] || fail "worker $i: id ${ids[$i]} is not $host:1:<nonce> (pid 1 of its namespace)"
done
[ "${ids[1]}" != "${ids[2]}" ] || fail "both workers run as ${ids[1]}"
echo "worker ids: ${ids[1]} ${ids[2]}" >&2

out=$(stack_submit --dataset kmmlu --model b --request-id ids-1) || fail "submit: $out"
run_id=$(pg_sql "SELECT run_id FROM runs WHERE request_id = 'ids-1'")
[ "$(pg_sql "SELECT status FROM runs WHERE run_id = '$run_id'")" = completed ] || fail "run not completed: $out"
[ "$(pg_sql "SELECT count(*) FROM shards WHERE run_id = '$run_id' AND status = 'done'
              AND (owner LIKE '${ids[1]}:%' OR owner LIKE '${ids[2]}:%')")" = $((items / 8)) ] ||
  fail "shard owners: $(pg_sql "SELECT shard_idx, status, owner FROM shards WHERE run_id = '$run_id'")"
stack_check_calls "$items"
echo "fleet worker ids: ok" >&2
