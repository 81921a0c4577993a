#!/usr/bin/env bash
# hret monitor end to end: real Kafka, PostgreSQL, fake-llm and a worker (stack_env.sh), the
# monitor with three channels (slack, webhook, pagerduty) pointing at tests/fakes/alert_receiver.py.
# Model b on the same 80 items, each request with alerts {min_accuracy 0.5, max_drop 0.05} and
# a different temperature (so the response cache never answers for the restarted fake):
#   1. b at 0.7: nothing raised;
#   2. fake-llm restarted with b at 0.2: request:min_accuracy and request:max_drop raise (the
#      regression paired on the shared items: McNemar exact, effect, p, MDE in the alert); rows in
#      alerts, events on the alerts topic that validate against their schemas, and each channel's
#      payload: Slack text, the webhook's JSON with an HMAC signature that verifies, PagerDuty
#      Events v2 with the routing key from the environment;
#   3. b at 0.7 again, fake-llm reporting another system_fingerprint: both alerts resolve
#      (PagerDuty resolve with the same dedup_key) and the fingerprint rule raises;
#   4. a second monitor replaying the topic from the start (--group fresh): nothing delivered
#      twice, no new alert;
#   5. the channels down (connection refused) while b degrades again: the monitor retries, is
#      stopped, the channels come back answering 503 twice, a restarted monitor delivers every
#      notice exactly once;
#   6. no secret in any log, nothing dead-lettered.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
STACK_TOPICS="hret.monitor.dlq"
source "$src/tests/support/stack_env.sh"

export MON_SECRET="whsec-$$-$RANDOM$RANDOM"
export PD_KEY="pdkey-$$-$RANDOM$RANDOM"
rport=0
recv_log="$work/received.jsonl"
: >"$recv_log"

start_receiver() { # extra args...; reuses $rport once known
  python3 "$src/tests/fakes/alert_receiver.py" --port "$rport" --log "$recv_log" "$@" \
    >"$work/recv.out" 2>>"$work/recv.log" &
  recv_pid=$!
  pids+=($recv_pid)
  rport=$(listening_port "$work/recv.out" alert_receiver) || exit 1
}
stop_receiver() {
  kill "$recv_pid"
  wait "$recv_pid" 2>/dev/null || true
}
start_monitor() { # log file, extra args...
  local log=$1
  shift
  "$hret" monitor --config "$work/hret.yaml" "$@" >>"$log" 2>&1 &
  monitor=$!
  pids+=($monitor)
}
restart_fake() { # accuracy of b, fingerprint
  kill "$fake_pid"
  wait "$fake_pid" 2>/dev/null || true
  "$fake" --port "$port" --log-level warn --answer-key "$work/data/kmmlu/answer_key.tsv" \
    --model-accuracy a=0.55 --model-accuracy "b=$1" --seed 5 --fingerprint "$2" \
    >"$work/llm.out" 2>&1 &
  fake_pid=$!
  pids+=($fake_pid)
  listening_port "$work/llm.out" "fake-llm (restarted)" >/dev/null || exit 1
}
submit() { # request id, n: temperature 0.0n makes the request body (and the cache key) new
  printf '{"request_id": "%s", "run_name": "nightly-%s", "datasets": [{"name": "kmmlu"}],
    "models": [{"name": "b", "params": {"temperature": 0.0%s}}],
    "alerts": {"min_accuracy": 0.5, "max_drop": 0.05}}\n' "$1" "$2" "$2" >"$work/$1.json"
  curl -sf -X POST "http://127.0.0.1:$port/fake/reset" >/dev/null || fail "fake-llm reset"
  stack_submit "$work/$1.json" >"$work/$1.out" 2>&1 || fail "submit $1: $(cat "$work/$1.out")"
  stack_check_calls 80 # once per sample (issue 16)
}
q() { pg_sql "$1"; }
received() { wc -l <"$recv_log" | tr -d ' '; }
wait_received() { # count
  for _ in $(seq 600); do
    [ "$(received)" -ge "$1" ] && return 0
    sleep 0.2
  done
  fail "timed out waiting for $1 channel requests (have $(received))"
}
wait_delivered() { # every notice accepted (marked after the receiver answered)
  for _ in $(seq 600); do
    [ "$(q "SELECT count(*) FROM alert_deliveries WHERE delivered_at IS NULL")" = 0 ] && return 0
    sleep 0.2
  done
  fail "notices still pending: $(q "SELECT notice_id, channel, last_error FROM alert_deliveries WHERE delivered_at IS NULL")"
}
wait_evaluated() { # request id, rules
  for _ in $(seq 600); do
    [ "$(q "SELECT count(*) FROM monitor_evaluations e JOIN runs r USING (run_id)
            WHERE r.request_id = '$1'")" -ge "$2" ] && return 0
    sleep 0.2
  done
  fail "timed out waiting for the monitor to judge $1"
}

start_receiver
stack_up 80
fake_pid=${pids[-1]} # stack_up starts fake-llm last
url="http://127.0.0.1:$rport"
stack_config "http: {listen: \"127.0.0.1:0\"}" \
  "monitor:" \
  "  cooldown_s: 3600" \
  "  rules:" \
  "    - {name: swapped, kind: fingerprint, model: b, severity: critical}" \
  "  channels:" \
  "    - {name: ops-slack, kind: slack, url: \"$url/slack\"}" \
  "    - {name: hook, kind: webhook, url: \"$url/hook\", secret_env: MON_SECRET}" \
  "    - {name: pd, kind: pagerduty, url: \"$url/pd\", routing_key_env: PD_KEY, max_retries: 1}"
"$hret" config check "$work/hret.yaml" >/dev/null || fail "config check"
stack_worker
start_monitor "$work/monitor.log"

# 1. healthy -------------------------------------------------------------------------------------
submit mon-1 1
wait_evaluated mon-1 3
[ "$(q "SELECT count(*) FROM alerts")" = 0 ] || fail "alerts after a healthy run"

# 2. degraded ------------------------------------------------------------------------------------
restart_fake 0.2 fp_fake
submit mon-2 2
wait_received 6
wait_evaluated mon-2 3
wait_delivered
q "SELECT rule || ' ' || severity || ' ' || (resolved_at IS NULL) || ' ' || (notified_at IS NOT NULL)
   FROM alerts ORDER BY rule" >"$work/alerts2.txt"
printf '%s\n' "request:max_drop warning true true" "request:min_accuracy warning true true" |
  cmp -s - "$work/alerts2.txt" || fail "alert rows after the degraded run: $(cat "$work/alerts2.txt")"
stack_events "$alert_topic" 2 >"$work/topic2.jsonl"
python3 - "$work" <<'PY' || fail "degraded run: $(cat "$work/topic2.jsonl")"
import hashlib, hmac, json, os, sys, time
work = sys.argv[1]
events = {e["rule"]: e for e in map(json.loads, open(f"{work}/topic2.jsonl"))}
assert set(events) == {"request:min_accuracy", "request:max_drop"}, events.keys()
floor = events["request:min_accuracy"]
assert floor["kind"] == "threshold" and floor["op"] == "<" and floor["threshold"] == 0.5, floor
assert floor["value"] < 0.5 and floor["model"] == "b" and floor["dataset"] == "kmmlu", floor
reg = events["request:max_drop"]
st = reg["statistics"]
assert reg["significant"] is True and reg["baseline"]["kind"] == "previous", reg
assert st["test"] == "mcnemar_exact" and st["n"] == 80, st
assert st["effect"] < -0.05 and st["p_value"] < 1e-3 and st["mde"] > 0, st
assert "McNemar exact" in reg["message"] and "minimum detectable effect" in reg["message"]
assert reg["baseline"]["value"] > 0.5, reg
recs = [json.loads(l) for l in open(f"{work}/received.jsonl")]
by = {}
for r in recs:
    by.setdefault(r["path"], []).append(r)
assert sorted(by) == ["/hook", "/pd", "/slack"] and all(len(v) == 2 for v in by.values()), by
for r in by["/slack"]:
    body = json.loads(r["body"])
    assert list(body) == ["text"] and ":rotating_light: hret alert [warning] request:" in body["text"]
secret = os.environ["MON_SECRET"].encode()
for r in by["/hook"]:
    h = r["headers"]
    ts = h["x-hret-timestamp"]  # signed with the delivery id: no replay under another id/time
    assert ts.isdigit() and abs(int(ts) - time.time()) < 600, h
    signed = f"{ts}.{h['x-hret-delivery']}.".encode() + r["body"].encode()
    want = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(h["x-hret-signature"], want), (h, want)
    assert h["x-hret-event"] == "hret.alert.raised.v1"
    body = json.loads(r["body"])
    assert h["x-hret-delivery"] == body["alert_id"] and body == events[body["rule"]], body
for r in by["/pd"]:
    body = json.loads(r["body"])
    assert body["routing_key"] == os.environ["PD_KEY"] and body["event_action"] == "trigger"
    assert body["dedup_key"] == events[body["payload"]["class"]]["dedupe_key"], body
    assert body["payload"]["severity"] == "warning" and body["payload"]["source"] == "hret monitor"
    assert body["payload"]["summary"].startswith(body["payload"]["class"] + ": ")
print("degraded: 2 alerts; McNemar p =", st["p_value"], "effect", st["effect"], "mde", st["mde"])
PY
# the alert events in the outbox validate against the schema
q "SELECT payload FROM outbox WHERE ce_type = 'hret.alert.raised.v1' LIMIT 1" >"$work/raised.json"
python3 "$src/tests/integration/request_schema_check.py" validate \
  "$src/schemas/events/hret.alert.raised.v1.schema.json" "$work/raised.json" >"$work/schema.out" ||
  fail "hret.alert.raised.v1: $(cat "$work/schema.out")"
q "SELECT payload FROM outbox WHERE ce_type = 'hret.run.completed.v1' LIMIT 1" >"$work/completed.json"
python3 "$src/tests/integration/request_schema_check.py" validate \
  "$src/schemas/events/hret.run.completed.v1.schema.json" "$work/completed.json" \
  >"$work/schema.out" || fail "hret.run.completed.v1 with alerts: $(cat "$work/schema.out")"

# 3. recovered, on a swapped endpoint ------------------------------------------------------------
restart_fake 0.7 fp_new
submit mon-3 3
wait_received 15
wait_evaluated mon-3 3
[ "$(q "SELECT count(*) FROM alerts WHERE resolved_by_run IS NOT NULL")" = 2 ] || fail "not resolved"
[ "$(q "SELECT rule || ' ' || severity FROM alerts WHERE resolved_at IS NULL")" = "swapped critical" ] ||
  fail "fingerprint alert: $(q "SELECT rule, message FROM alerts")"
q "SELECT payload FROM outbox WHERE ce_type = 'hret.alert.resolved.v1' LIMIT 1" >"$work/resolved.json"
python3 "$src/tests/integration/request_schema_check.py" validate \
  "$src/schemas/events/hret.alert.resolved.v1.schema.json" "$work/resolved.json" \
  >"$work/schema.out" || fail "hret.alert.resolved.v1: $(cat "$work/schema.out")"
python3 - "$work" <<'PY' || fail "recovered run: $(tail -n 9 "$work/received.jsonl")"
import json, sys
work = sys.argv[1]
recs = [json.loads(l) for l in open(f"{work}/received.jsonl")][6:]
pd = [json.loads(r["body"]) for r in recs if r["path"] == "/pd"]
first = [json.loads(r["body"]) for r in map(json.loads, open(f"{work}/received.jsonl"))
         if r["path"] == "/pd"][:2]
resolves = [b for b in pd if b["event_action"] == "resolve"]
assert sorted(b["dedup_key"] for b in resolves) == sorted(b["dedup_key"] for b in first), pd
assert all("payload" not in b for b in resolves)
swapped = [b for b in pd if b["event_action"] == "trigger"]
assert len(swapped) == 1 and swapped[0]["payload"]["severity"] == "critical", swapped
det = swapped[0]["payload"]["custom_details"]["details"]
assert det["previous"]["fingerprint"] == "fp_fake" and det["current"]["fingerprint"] == "fp_new", det
hook = [r for r in recs if r["path"] == "/hook"]
assert sorted(r["headers"]["x-hret-event"] for r in hook) == [
    "hret.alert.raised.v1", "hret.alert.resolved.v1", "hret.alert.resolved.v1"], hook
slack = [json.loads(r["body"])["text"] for r in recs if r["path"] == "/slack"]
assert sum(t.startswith(":white_check_mark: hret alert resolved: request:") for t in slack) == 2
print("recovered: 2 resolved, fingerprint fp_fake -> fp_new raised")
PY

# 4. a replay from the first event delivers nothing twice ----------------------------------------
stack_stop "$monitor" monitor
before=$(q "SELECT count(*) FROM alerts")/$(q "SELECT count(*) FROM alert_deliveries")
start_monitor "$work/replay.log" --group "replay-$stack_tag"
for _ in $(seq 600); do
  [ "$(grep -c 'raised, ' "$work/replay.log" || true)" -ge 3 ] && break
  sleep 0.2
done
[ "$(grep -c '0 raised, 0 resolved' "$work/replay.log" || true)" -ge 3 ] ||
  fail "replay judged again: $(cat "$work/replay.log")"
sleep 2
[ "$(received)" = 15 ] || fail "replay delivered again: $(received) channel requests"
[ "$(q "SELECT count(*) FROM alerts")/$(q "SELECT count(*) FROM alert_deliveries")" = "$before" ] ||
  fail "replay changed the store"
stack_stop "$monitor" monitor

# 5. channels down, monitor stopped mid-retry, nothing lost or repeated --------------------------
stop_receiver
start_monitor "$work/monitor.log"
restart_fake 0.2 fp_new
submit mon-4 4
wait_evaluated mon-4 3
for _ in $(seq 300); do
  grep -q "will retry" "$work/monitor.log" && break
  sleep 0.2
done
grep -q "will retry" "$work/monitor.log" || fail "no retry while the channels were down"
stack_stop "$monitor" monitor
[ "$(q "SELECT count(*) FROM alert_deliveries WHERE delivered_at IS NULL")" = 9 ] ||
  fail "pending notices: $(q "SELECT notice_id, channel, attempts, last_error FROM alert_deliveries WHERE delivered_at IS NULL")"
start_receiver --fail-first 2
start_monitor "$work/monitor.log"
wait_received 24
sleep 2
[ "$(received)" = 24 ] || fail "expected 24 channel requests, got $(received)"
python3 - "$work" <<'PY' || fail "after the outage: $(tail -n 9 "$work/received.jsonl")"
import collections, json, sys
recs = [json.loads(l) for l in open(f"{sys.argv[1]}/received.jsonl")]
keys = collections.Counter()
for r in recs:
    b = json.loads(r["body"])
    if r["path"] == "/hook":
        keys[("hook", r["headers"]["x-hret-delivery"])] += 1
    elif r["path"] == "/pd":
        keys[("pd", b["dedup_key"], b["event_action"], json.dumps(b.get("payload", {}).get("custom_details", {}).get("run_id")))] += 1
dups = [k for k, n in keys.items() if n > 1]
assert not dups, dups
print("after the outage: 24 deliveries, none twice")
PY
[ "$(q "SELECT count(*) FROM alert_deliveries WHERE delivered_at IS NULL")" = 0 ] || fail "undelivered"
stack_stop "$monitor" monitor

# 6. secrets stay out of the logs; nothing dead-lettered -----------------------------------------
for f in "$work"/*.log; do
  grep -q -e "$MON_SECRET" -e "$PD_KEY" "$f" && fail "a secret in $f"
done
[ -z "$(kcat -C -b "$HRET_KAFKA" -t hret.monitor.dlq -o beginning -e -q -f '%s\n' 2>/dev/null)" ] ||
  fail "dead letters: $(kcat -C -b "$HRET_KAFKA" -t hret.monitor.dlq -o beginning -e -q)"
echo "monitor e2e: ok"
