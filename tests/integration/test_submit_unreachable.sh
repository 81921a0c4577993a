#!/usr/bin/env bash
# hret submit to a broker nobody listens on fails fast (the broker check gives up after about
# 10 s, well inside the 25 s bound here; before, the send waited 30 s and the client 10 s more)
# with exit 1 and one clear line on stderr naming the brokers and where they come from.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/hret_config.yaml" <<YAML
models:
  m: {base_url: "http://127.0.0.1:9/v1", model: x}
kafka: {brokers: "127.0.0.1:$closed"}
YAML
set +e
timeout 25 "$hret" submit --config "$work/hret_config.yaml" --dataset kmmlu --model m \
  >"$work/out" 2>"$work/err"
rc=$?
set -e
[ $rc -ne 124 ] || fail "submit to an unreachable broker still waiting after 25 s"
[ $rc -eq 1 ] || fail "submit to an unreachable broker exits $rc, want 1: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "want one line on stderr, got: $(cat "$work/err")"
grep -q "^hret submit: cannot reach the Kafka broker 127.0.0.1:$closed" "$work/err" ||
  fail "unclear message: $(cat "$work/err")"
[ ! -s "$work/out" ] || fail "a request id was printed for a request never sent: $(cat "$work/out")"
echo "submit_unreachable: one line, exit 1"
