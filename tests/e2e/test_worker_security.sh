#!/usr/bin/env bash
# What a request may make a worker do, checked where the worker does it (real Kafka, PostgreSQL,
# fake-llm):
#   1. the issue's traversal request ({"split": "data/../../../outside/private"}), produced
#      straight onto the requests topic (hret submit would refuse it first), lands in the DLQ
#      with the parser's reason and path;
#   2. inline endpoints are checked on the address actually connected to: an allowlisted
#      http://localhost:PORT endpoint (a name that resolves to loopback) leaves every sample an
#      error naming the refusal and fake-llm sees no request; a 127.0.0.1 literal is refused at
#      parse time (DLQ);
#      with endpoints.allow_private_networks the same localhost endpoint is evaluated.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"
stack_up 40
chat_calls() {
  curl -s "http://127.0.0.1:$port/fake/stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["chat_completions"])'
}
policy() { # allow_private_networks
  stack_config "endpoints: {allow_inline: true, allow_private_networks: $1, allowlist: [\"localhost:$port\", \"127.0.0.1:$port\"]}"
}
dlq_of() { # request id: the DLQ message's headers
  timeout 20 kcat -C -b "$HRET_KAFKA" -t "$req_topic.dlq" -o beginning -e -q -f '%k\t%h\n' \
    2>/dev/null | awk -F '\t' -v k="$1" '$1 == k {print $2}'
}
wait_dlq() { # request id
  local end=$((SECONDS + 60))
  while [ $SECONDS -lt $end ]; do
    kill -0 "$worker" 2>/dev/null || fail "the worker exited: $(tail -5 "$work/worker.log")"
    [ -n "$(dlq_of "$1")" ] && return 0
    sleep 0.5
  done
  fail "no DLQ message for $1 within 60 s"
}
produce_request() { # id json
  printf '%s\n' "$2" | timeout 20 kcat -P -b "$HRET_KAFKA" -t "$req_topic" -k "$1" -H ce_specversion=1.0 \
    -H "ce_id=$1" -H ce_source=/test -H ce_type=hret.eval.requested.v1 \
    -H ce_time=2026-12-07T10:00:00.000Z -H content-type=application/json
}

policy false
stack_worker

# 1. the traversal request
produce_request req-traversal \
  '{"request_id": "req-traversal", "datasets": [{"name": "kmmlu", "split": "data/../../../outside/private"}], "models": [{"name": "a"}]}'
wait_dlq req-traversal
dlq_of req-traversal | grep -q 'hret_dlq_reason=datasets\[0\].split: expected a single path component' ||
  fail "traversal DLQ headers: $(dlq_of req-traversal)"

# 2. inline endpoints
inline() { # request id, base URL
  printf '{"request_id": "%s", "datasets": [{"name": "kmmlu", "limit": 4}], "models": [{"name": "lab", "endpoint": {"base_url": "%s", "model": "a"}}]}\n' "$1" "$2"
}
inline req-localhost "http://localhost:$port/v1" >"$work/localhost.json"
rc=0
stack_submit "$work/localhost.json" >"$work/localhost.out" 2>&1 || rc=$?
# the run ends (a run with nothing scored fails); endpoint failures are errors, never answers:
# every sample carries the refusal
[ $rc -le 1 ] && grep -Eq '^(completed|failed) run=' "$work/localhost.out" ||
  fail "localhost endpoint: exit $rc: $(cat "$work/localhost.out")"
errors=$(pg_sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE s.prediction IS NULL AND s.error
  LIKE '%refused by the endpoint policy: the address is loopback%') FROM samples s JOIN runs r
  ON r.run_id = s.run_id WHERE r.request_id = 'req-localhost'")
[ "$errors" = "4 4" ] || fail "localhost endpoint: samples/refused $errors: $(cat "$work/localhost.out")"
[ "$(chat_calls)" = 0 ] || fail "fake-llm got $(chat_calls) requests from a refused endpoint"
produce_request req-literal "$(inline req-literal "http://127.0.0.1:$port/v1")"
wait_dlq req-literal
dlq_of req-literal | grep -q 'hret_dlq_reason=models\[0\].endpoint.base_url: host 127.0.0.1 is loopback' ||
  fail "loopback literal DLQ headers: $(dlq_of req-literal)"
stack_stop "$worker" worker

# ... allowed by the operator
policy true
stack_worker
inline req-allowed "http://localhost:$port/v1" >"$work/allowed.json"
stack_submit "$work/allowed.json" >"$work/allowed.out" 2>&1 ||
  fail "allow_private_networks: $(cat "$work/allowed.out")"
[ "$(chat_calls)" -ge 4 ] || fail "allow_private_networks: fake-llm got $(chat_calls) requests"
stack_stop "$worker" worker
echo "worker_security: traversal to the DLQ, loopback endpoints refused at connect and by policy"
