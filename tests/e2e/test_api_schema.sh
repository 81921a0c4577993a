#!/usr/bin/env bash
# The OpenAPI document against the live server: schemathesis (pinned, deploy/local/pyvenv.sh)
# generates valid and invalid requests for every operation of GET /v1/openapi.json, with a
# submit+read token, and checks that no answer is a 5xx, that every status code, content type,
# header and body matches the document, that invalid input is refused, that a request without
# the token is refused, and that unsupported methods answer 405 with Allow. The server runs on
# real PostgreSQL holding two stored runs (hret run --db), so run, history and comparison
# routes answer with real data; Kafka is not running (accepted requests wait in the outbox).
# Bounded: a fixed seed, at most 25 examples per operation and a 120 s time budget.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/pg_env.sh"
extra_cleanup() { pg_teardown; }
pg_setup
venv=$("$src/deploy/local/pyvenv.sh" schemathesis)

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/data/kmmlu" --items 30 --seed 7 >/dev/null
start_fake llm --answer-key "$work/data/kmmlu/answer_key.tsv" --model-accuracy a=0.55 \
  --model-accuracy b=0.7 --seed 5
cat >"$work/hret.yaml" <<YAML
log_level: info
output_dir: $work/out
kafka: {brokers: "127.0.0.1:9"}
postgres: {conninfo: "$HRET_PG"}
datasets: {root: "$work/data"}
models:
  a: {base_url: "http://127.0.0.1:$port/v1", model: a}
  b: {base_url: "http://127.0.0.1:$port/v1", model: b}
http: {listen: "127.0.0.1:0"}
api: {listen: "127.0.0.1:0", tokens_file: "$work/tokens", rate_per_minute: 0, events_max_s: 2,
      max_body_bytes: 65536}
YAML
"$hret" migrate --db "$HRET_PG" >/dev/null
for m in a b; do
  "$hret" run --config "$work/hret.yaml" --db "$HRET_PG" --dataset kmmlu --model $m \
    --run-name "schema-$m" --quiet >"$work/run-$m.txt" 2>&1 || fail "run $m: $(cat "$work/run-$m.txt")"
done
token=$("$hret" api token add fuzz --scopes submit,read --config "$work/hret.yaml" | tail -n 1)

"$hret" api --config "$work/hret.yaml" >"$work/api.log" 2>&1 &
api_pid=$!
pids+=($api_pid)
for _ in $(seq 600); do grep -q 'serving /v1 on' "$work/api.log" && break; sleep 0.05; done
api_port=$(sed -n 's/.*serving \/v1 on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/api.log")
[ -n "$api_port" ] || fail "hret api did not start: $(cat "$work/api.log")"
base="http://127.0.0.1:$api_port"

# positive_data_acceptance is left out: a request the document calls valid may still name a
# model or dataset this config does not have, which the parser rightly refuses with 400.
rc=0
(cd "$work" && timeout 420 "$venv/bin/schemathesis" run "$base/v1/openapi.json" --url "$base" \
  -H "Authorization: Bearer $token" --checks all --exclude-checks positive_data_acceptance \
  --max-examples 25 --seed 22 --max-time 120 --request-timeout 10 --workers 1 \
  --generation-database none --no-color --suppress-health-check all) >"$work/schemathesis.out" 2>&1 || rc=$?
if [ $rc != 0 ]; then
  tail -n 80 "$work/schemathesis.out" >&2
  tail -n 20 "$work/api.log" >&2
  fail "schemathesis found problems (exit $rc)"
fi
tail -n 25 "$work/schemathesis.out" >&2
! grep -q 'status=5[0-9][0-9]' "$work/api.log" || fail "a 5xx: $(grep 'status=5' "$work/api.log" | sed -n 1,3p)"
kill -0 $api_pid || fail "hret api died"
! grep -qF "$token" "$work/api.log" || fail "the token is in the log"
echo "api schema: ok" >&2
