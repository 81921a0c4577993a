#!/usr/bin/env bash
# hret api end to end, through a real Kafka broker, real PostgreSQL, fake-llm and one worker:
# tokens (printed once, only their hash on disk), 401/403/400/413 as JSON errors, a request
# submitted over HTTP run by the worker and shown with its runs' metrics, Idempotency-Key
# replays (and 409 for a different body), the SSE stream ending with the result events, runs,
# paged results JSON, metric history and the paired comparison, a POST accepted while Kafka is
# stopped run once it is back, 429 with Retry-After from a second api with a small limit, CORS
# only when configured, one audit line per request naming the token's name, no token in any log,
# file other than the client's or table, and SIGTERM exiting 0.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

stack_up 40
stack_config 'api: {listen: "127.0.0.1:0", tokens_file: "'"$work"'/tokens", max_body_bytes: 65536, rate_per_minute: 100000, rate_burst: 1000}'

# --- tokens --------------------------------------------------------------------------------------
"$hret" api token add ci --scopes submit,read --config "$work/hret.yaml" >"$work/ci.out"
ci=$(tail -n 1 "$work/ci.out")
reader=$("$hret" api token add reader --scopes read --config "$work/hret.yaml" | tail -n 1)
[[ $ci =~ ^hret_[0-9a-f]{64}$ ]] || fail "token add printed '$ci' last"
! "$hret" api token add ci --scopes read --config "$work/hret.yaml" 2>/dev/null ||
  fail "a second token named ci was added"
! "$hret" api token add x --scopes admin --config "$work/hret.yaml" 2>/dev/null ||
  fail "an unknown scope was accepted"
hash=$(printf '%s' "$ci" | sha256sum | cut -d' ' -f1)
grep -q "^ci submit,read sha256:$hash " "$work/tokens" || fail "tokens file: $(cat "$work/tokens")"
[ "$(stat -c %a "$work/tokens")" = 600 ] || fail "tokens file mode $(stat -c %a "$work/tokens")"
"$hret" api token list --config "$work/hret.yaml" | grep -q '^reader  *read ' ||
  fail "token list: $("$hret" api token list --config "$work/hret.yaml")"
"$hret" api token add gone --scopes read --config "$work/hret.yaml" >/dev/null

stack_worker
"$hret" api --config "$work/hret.yaml" >>"$work/api.log" 2>&1 &
api_pid=$!
pids+=($api_pid)
for _ in $(seq 600); do grep -q 'serving /v1 on' "$work/api.log" && break; sleep 0.05; done
api_port=$(sed -n 's/.*serving \/v1 on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/api.log")
[ -n "$api_port" ] || fail "hret api did not start"
base="http://127.0.0.1:$api_port"
"$hret" api token revoke gone --config "$work/hret.yaml" >/dev/null
gone=$(grep -c '^gone ' "$work/tokens" || true)
[ "$gone" = 0 ] || fail "revoke left the line"

# call METHOD PATH TOKEN [BODY] [extra curl args]: prints the status, body in $work/body, headers
# in $work/headers
call() {
  local method=$1 path=$2 token=$3 body=${4:-} auth=()
  shift 4 || shift $#
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  local data=()
  [ -n "$body" ] && data=(--data-binary "$body" -H 'Content-Type: application/json')
  curl -s -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method" "${auth[@]}" \
    "${data[@]}" "$@" "$base$path"
}
jq_() { python3 -c "import json,sys; d=json.load(open('$work/body')); print($1)"; }
expect() { # status method path token [body] [curl args]
  local want=$1 got
  shift
  got=$(call "$@")
  [ "$got" = "$want" ] || fail "$1 $2: status $got, expected $want: $(head -c 400 "$work/body")"
}

# --- refusals ------------------------------------------------------------------------------------
request='{"datasets":[{"name":"kmmlu","split":"test"}],"models":[{"name":"a"},{"name":"b"}],"run_name":"api-e2e","metadata":{"epoch":1}}'
expect 401 POST /v1/requests "" "$request"
[ "$(jq_ 'd["error"]')" = unauthenticated ] || fail "401 body: $(cat "$work/body")"
grep -qi '^WWW-Authenticate: Bearer' "$work/headers" || fail "401 without WWW-Authenticate"
expect 401 GET /v1/runs "hret_$(printf '0%.0s' $(seq 64))"
expect 401 GET /v1/runs "$(printf '%s' "$ci" | sed 's/.$/x/')"
expect 401 GET /v1/runs gone_token_is_revoked
expect 403 POST /v1/requests "$reader" "$request"
[ "$(jq_ 'd["error"]')" = forbidden ] || fail "403 body: $(cat "$work/body")"
expect 400 POST /v1/requests "$ci" '{"models":[{"name":"nope"}]}'
jq_ 'd["message"]' | grep -q "nope" || fail "400 without the parser's message: $(cat "$work/body")"
[ "$(jq_ 'd["path"]')" = "models[0].name" ] || fail "400 path: $(cat "$work/body")"
expect 400 POST /v1/requests "$ci" '{"models": ['
expect 400 POST /v1/requests "$ci" '{"models":[{"name":"a","api_key":"sk-nope"}]}'
big=$(head -c 70000 /dev/zero | tr '\0' ' ')
expect 413 POST /v1/requests "$ci" "{\"run_name\":\"$big\"}"
expect 404 GET /v1/requests/no-such-request "$ci"
expect 404 GET /v1/nothing "$ci"
expect 405 DELETE /v1/runs "$ci"
expect 400 GET '/v1/runs?limit=0' "$ci"
expect 400 GET /v1/metrics/history "$ci"
expect 200 GET /v1/openapi.json ""
[ "$(jq_ 'd["openapi"]')" = 3.0.3 ] || fail "openapi.json: $(head -c 200 "$work/body")"
! grep -qi '^Access-Control-Allow-Origin' "$work/headers" || fail "CORS headers without cors_origins"

# --- submit, replay, follow ----------------------------------------------------------------------
expect 202 POST /v1/requests "$ci" "$request" -H 'Idempotency-Key: e2e-1'
id=$(jq_ 'd["request_id"]')
curl -sN --max-time 240 -H "Authorization: Bearer $ci" "$base/v1/requests/$id/events" \
  >"$work/events.sse" 2>/dev/null &
sse=$!
expect 202 POST /v1/requests "$ci" "$request" -H 'Idempotency-Key: e2e-1'
[ "$(jq_ 'd["request_id"]')" = "$id" ] || fail "a replayed Idempotency-Key gave another request"
grep -qi '^Idempotent-Replayed: true' "$work/headers" || fail "replay not marked"
expect 409 POST /v1/requests "$ci" '{"models":[{"name":"a"}]}' -H 'Idempotency-Key: e2e-1'
status=""
for _ in $(seq 1800); do
  call GET "/v1/requests/$id" "$ci" >/dev/null
  status=$(jq_ 'd["status"]')
  [ "$status" = completed ] && break
  [ "$status" = failed ] && fail "request failed: $(cat "$work/body")"
  sleep 0.1
done
[ "$status" = completed ] || fail "request not completed: $(cat "$work/body")"
[ "$(jq_ 'len(d["runs"])')" = 2 ] || fail "runs: $(cat "$work/body")"
jq_ '" ".join("%s=%.4f" % (r["model"], r["metrics"]["accuracy"]) for r in d["runs"])' >"$work/acc"
grep -Eq '^a=0\.[0-9]{4} b=0\.[0-9]{4}$' "$work/acc" || fail "metrics: $(cat "$work/body")"
run_a=$(jq_ '[r["run_id"] for r in d["runs"] if r["model"] == "a"][0]')
run_b=$(jq_ '[r["run_id"] for r in d["runs"] if r["model"] == "b"][0]')
[ "$(psql "$HRET_PG" -Atc "SELECT count(*) FROM requests WHERE request_id = '$id'")" = 1 ] ||
  fail "the replayed POST made a second request"
[ "$(psql "$HRET_PG" -Atc "SELECT count(*) FROM outbox WHERE msg_key = '$id' AND ce_type = 'hret.eval.requested.v1'")" = 1 ] ||
  fail "the replayed POST published twice"

for _ in $(seq 100); do kill -0 $sse 2>/dev/null || break; sleep 0.1; done
kill -0 $sse 2>/dev/null && fail "the event stream did not end after the request: $(tail -5 "$work/events.sse")"
grep -q '^event: progress' "$work/events.sse" || fail "no progress event"
[ "$(grep -c '^event: hret.run.completed.v1' "$work/events.sse")" = 2 ] || fail "SSE: $(cat "$work/events.sse")"
grep -q '^event: hret.comparison.completed.v1' "$work/events.sse" || fail "no comparison event"
last=$(grep '^event:' "$work/events.sse" | tail -n 1)
[ "$last" = "event: end" ] || fail "the stream ended with $last"
grep -q "^data: {\"request_id\":\"$id\",\"status\":\"completed\"}" "$work/events.sse" || fail "end data"
# a reconnect with Last-Event-ID gets no result event twice
last_id=$(sed -n 's/^id: //p' "$work/events.sse" | tail -n 1)
curl -sN --max-time 30 -H "Authorization: Bearer $ci" -H "Last-Event-ID: $last_id" \
  "$base/v1/requests/$id/events" >"$work/again.sse"
! grep -q '^event: hret.run' "$work/again.sse" || fail "Last-Event-ID resent events"
tail -n 3 "$work/again.sse" | grep -q '^event: end' || fail "resumed stream: $(cat "$work/again.sse")"

# --- reading ------------------------------------------------------------------------------------
expect 200 GET '/v1/runs?model=a&limit=5' "$ci"
[ "$(jq_ 'd["runs"][0]["run_id"]')" = "$run_a" ] || fail "runs list: $(head -c 300 "$work/body")"
expect 200 GET "/v1/runs/$run_a?limit=5&offset=10" "$ci"
[ "$(jq_ 'len(d["results"][0]["samples"])')" = 5 ] || fail "page: $(head -c 300 "$work/body")"
[ "$(jq_ 'd["samples_page"]["next_offset"]')" = 15 ] || fail "next_offset: $(jq_ 'd["samples_page"]')"
[ "$(jq_ 'd["run_metadata"]["model"]')" = a ] || fail "run_metadata: $(jq_ 'd["run_metadata"]')"
acc=$(jq_ '"%.4f" % d["metrics"]["accuracy"]')
grep -q "a=$acc" "$work/acc" || fail "results JSON accuracy $acc, request said $(cat "$work/acc")"
expect 200 GET "/v1/metrics/history?metric=accuracy&model=b" "$ci"
[ "$(jq_ 'd["points"][-1]["run_id"]')" = "$run_b" ] || fail "history: $(cat "$work/body")"
expect 200 GET "/v1/compare?a=$run_a&b=$run_b" "$ci"
[ "$(jq_ 'd["paired"]')" = True ] || fail "compare: $(head -c 300 "$work/body")"
expect 404 GET "/v1/compare?a=$run_a&b=no-such-run" "$ci"
expect 200 GET "/v1/report?runs=$run_a,$run_b" "$ci"
grep -qi '^Content-Type: text/html' "$work/headers" || fail "report content type"
grep -qi '<html' "$work/body" && grep -q "$run_b" "$work/body" || fail "report: $(head -c 300 "$work/body")"
expect 404 GET "/v1/report?runs=$run_a,no-such-run" "$ci"
expect 200 GET "/v1/runs/$run_a/report.html?compare=$run_b" "$ci" # the same page, by the run
grep -qi '^Content-Type: text/html' "$work/headers" && grep -q "$run_b" "$work/body" ||
  fail "run report: $(head -c 300 "$work/body")"
expect 404 GET "/v1/runs/no-such-run/report.html" "$ci"

# --- Kafka down: accepted now, run when it is back -----------------------------------------------
"$src/deploy/local/kafka.sh" stop --keep --dir "$kafka_dir" >/dev/null 2>&1
expect 202 POST /v1/requests "$ci" '{"datasets":[{"name":"kmmlu","limit":10}],"models":[{"name":"a"}],"run_name":"while-kafka-down"}'
down_id=$(jq_ 'd["request_id"]')
expect 200 GET "/v1/requests/$down_id" "$ci"
[ "$(jq_ 'd["status"]')" = accepted ] || fail "while Kafka is down: $(cat "$work/body")"
sleep 3
line=$("$src/deploy/local/kafka.sh" start --dir "$kafka_dir" | grep '^HRET_KAFKA=')
[ "$line" = "HRET_KAFKA=$HRET_KAFKA" ] || fail "the broker came back elsewhere"
for _ in $(seq 1800); do
  call GET "/v1/requests/$down_id" "$ci" >/dev/null
  [ "$(jq_ 'd["status"]')" = completed ] && break
  sleep 0.1
done
[ "$(jq_ 'd["status"]')" = completed ] || fail "accepted while Kafka was down, not run: $(cat "$work/body")"

# --- rate limit: a second api with a small one ---------------------------------------------------
sed 's/rate_per_minute: 100000, rate_burst: 1000/rate_per_minute: 6, rate_burst: 2/' \
  "$work/hret.yaml" >"$work/limited.yaml"
"$hret" api --config "$work/limited.yaml" >>"$work/limited.log" 2>&1 &
limited=$!
pids+=($limited)
for _ in $(seq 600); do grep -q 'serving /v1 on' "$work/limited.log" && break; sleep 0.05; done
lport=$(sed -n 's/.*serving \/v1 on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/limited.log")
codes=""
for _ in 1 2 3; do
  codes="$codes $(curl -s -o "$work/body" -D "$work/headers" -w '%{http_code}' \
    -H "Authorization: Bearer $reader" "http://127.0.0.1:$lport/v1/runs?limit=1")"
done
[ "$codes" = " 200 200 429" ] || fail "rate limit: $codes"
grep -qi '^Retry-After: [1-9]' "$work/headers" || fail "429 without Retry-After"
[ "$(jq_ 'd["error"]')" = rate_limited ] || fail "429 body: $(cat "$work/body")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ci" \
  "http://127.0.0.1:$lport/v1/runs?limit=1")
[ "$code" = 200 ] || fail "another token was limited too: $code"
stack_stop $limited "the rate-limited api"

# --- CORS when configured --------------------------------------------------------------------------
sed 's/api: {/api: {cors_origins: ["https:\/\/nb.example"], /' "$work/limited.yaml" >"$work/cors.yaml"
"$hret" api --config "$work/cors.yaml" >>"$work/cors.log" 2>&1 &
cors=$!
pids+=($cors)
for _ in $(seq 600); do grep -q 'serving /v1 on' "$work/cors.log" && break; sleep 0.05; done
cport=$(sed -n 's/.*serving \/v1 on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/cors.log")
curl -s -o /dev/null -D "$work/headers" -H 'Origin: https://nb.example' "http://127.0.0.1:$cport/v1/openapi.json"
grep -qi '^Access-Control-Allow-Origin: https://nb.example' "$work/headers" || fail "no CORS header"
curl -s -o /dev/null -D "$work/headers" -H 'Origin: https://evil.example' "http://127.0.0.1:$cport/v1/openapi.json"
! grep -qi '^Access-Control-Allow-Origin' "$work/headers" || fail "CORS for an unlisted origin"
stack_stop $cors "the CORS api"

# --- audit, secrets, shutdown ------------------------------------------------------------------
grep -q "audit token=ci method=POST path=/v1/requests status=202 .* request=$id" "$work/api.log" ||
  fail "no audit line for the POST"
grep -q 'audit token=reader method=POST path=/v1/requests status=403' "$work/api.log" ||
  fail "no audit line for the 403"
grep -q 'audit token=- method=POST path=/v1/requests status=401' "$work/api.log" ||
  fail "no audit line for the 401"
stack_stop $api_pid "hret api"
stack_stop $worker "the worker"
pg_dump "$HRET_PG" >"$work/dump.sql"
for t in "$ci" "$reader"; do
  leaks=$(grep -rlF "$t" "$work" --exclude=ci.out || true)
  [ -z "$leaks" ] || fail "a token is in $leaks"
done
grep -q "$hash" "$work/dump.sql" && fail "a token hash is in the database"
grep -q 'api_requests' "$work/dump.sql" || fail "pg_dump did not dump the schema"
echo "api: ok (request $id, accuracies $(cat "$work/acc"))" >&2
