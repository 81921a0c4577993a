#!/usr/bin/env bash
# hret bridge webhook end to end: real Kafka, PostgreSQL, fake-llm and a worker (stack_env.sh),
# and a local receiver (python3 http.server) that records every request. Four receivers:
#   all     every event, signed                    -> 200
#   flaky   comparisons only, signed               -> 503 to its first 4 requests, then 200
#   onlyb   run.completed of model b on kmmlu,     -> 200
#           unsigned
#   bad     run.completed of model a               -> 400 always
# A two-model request (runs a and b, one comparison) and one hand-made run event (model b on
# another dataset) go through the bridge. Asserted:
#   1. each receiver got exactly the events its filters take, each accepted once; the body is the
#      topic's value byte for byte; X-Hret-Signature verifies with Python's hmac over
#      "<X-Hret-Timestamp>.<X-Hret-Delivery>.<raw body>", the timestamp within minutes of now
#      (absent for the unsigned receiver); X-Hret-Event and the ce-* headers are the event's;
#      X-Hret-Delivery is the same on every attempt of one (event, receiver), differs across
#      receivers and equals the documented sha256("<ce_id>\n<sink>")[:32];
#   2. the 503s were retried (hret_call, then the loop's backoff) and "all" still got the
#      comparison once; the 400 dead-lettered run a's event to hret.bridge.webhook.dlq with the
#      reason; bridge_state holds one finished row per delivery;
#   3. the bridge again from the first event (--group fresh) posts nothing new to the receivers
#      that accepted (only "bad", which refused, is asked again and refuses again);
#   4. the secret appears in no log and in no dead letter, even at debug level.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

export HOOK_SECRET="whsec-$$-$RANDOM$RANDOM-secret"

cat >"$work/recv.py" <<'PY'
import http.server, json, sys, threading
log, fail_first = sys.argv[1], int(sys.argv[2])
lock, seen = threading.Lock(), {"/flaky": 0}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            if self.path == "/bad":
                status = 400
            elif self.path == "/flaky":
                seen["/flaky"] += 1
                status = 503 if seen["/flaky"] <= fail_first else 200
            else:
                status = 200
            with open(log, "a") as f:
                f.write(json.dumps({"path": self.path, "status": status,
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body.decode("utf-8")}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"listening 127.0.0.1:{s.server_address[1]}", flush=True)
s.serve_forever()
PY
python3 "$work/recv.py" "$work/requests.jsonl" 4 >"$work/recv.out" 2>"$work/recv.log" &
pids+=($!)
rport=$(listening_port "$work/recv.out") || exit 1
: >"$work/requests.jsonl"
url="http://127.0.0.1:$rport"

start_bridge() { # log extra-args...
  local log=$1
  shift
  HRET_LOG_LEVEL=debug "$hret" bridge webhook --config "$work/hret.yaml" "$@" >>"$work/$log" 2>&1 &
  bridge=$!
  pids+=($bridge)
}

stack_up 40
stack_config 'http: {listen: "127.0.0.1:0"}' "webhooks:
  - {name: all, url: \"$url/all\", secret_env: HOOK_SECRET}
  - {name: flaky, url: \"$url/flaky\", secret_env: HOOK_SECRET, events: [hret.comparison.completed.v1]}
  - {name: onlyb, url: \"$url/onlyb\", events: [hret.run.completed.v1], models: [b], datasets: [kmmlu]}
  - {name: bad, url: \"$url/bad\", events: [hret.run.completed.v1], models: [a]}"
"$hret" config check "$work/hret.yaml" >/dev/null || fail "config: $("$hret" config check "$work/hret.yaml")"
stack_worker
stack_submit --dataset kmmlu --model a,b --run-name hook >"$work/submit.out" ||
  fail "submit: $(cat "$work/submit.out")"
stack_check_calls 80 # once per sample of both runs (issue 16)
printf '%s\n' '{"request_id":"req-hand","run_id":"run-hand","status":"completed","model":{"name":"b"},"dataset":{"name":"other","split":"test"},"evaluation":{"method":"string_match"},"metrics":{"accuracy":0.5},"counts":{"samples":2,"errors":0},"started_at":"2026-11-28T09:00:00.000Z","finished_at":"2026-11-28T09:30:00.000Z"}' |
  kcat -P -b "$HRET_KAFKA" -t "$res_topic" -k run-hand -H ce_specversion=1.0 -H ce_id=hand-1 \
    -H ce_source=/test -H ce_type=hret.run.completed.v1 -H ce_time=2026-11-28T10:00:00.000Z \
    -H content-type=application/json
for _ in $(seq 100); do # the comparison event may trail the runs' by a relay pass
  kcat -C -b "$HRET_KAFKA" -t "$res_topic" -o beginning -c 4 -e -q -f '%h\t%s\n' >"$work/events.tsv"
  [ "$(wc -l <"$work/events.tsv")" -ge 4 ] && break
  sleep 0.3
done
[ "$(wc -l <"$work/events.tsv")" = 4 ] || fail "expected 4 result events: $(cat "$work/events.tsv")"

# 1. + 2. one pass ---------------------------------------------------------------------------------
start_bridge bridge1.log
stack_wait_handled bridge1.log 4 # the log is rate-limited: count with /metrics, not log lines
stack_stop "$bridge" bridge
grep -q 'will retry' "$work/bridge1.log" || fail "the 503s were not retried through the loop"
grep -Eq 'stats: delivered=3 skipped=0 retried=[1-9][0-9]* dead_lettered=1' "$work/bridge1.log" ||
  fail "stats line: $(grep stats: "$work/bridge1.log")"

python3 - "$work" "$HOOK_SECRET" <<'PY' || fail "the receivers' requests are wrong"
import collections, hashlib, hmac, json, sys, time
work, secret = sys.argv[1], sys.argv[2].encode()
events = {}
for line in open(f"{work}/events.tsv", encoding="utf-8"):
    hdrs, body = line.rstrip("\n").split("\t", 1)
    h = dict(kv.split("=", 1) for kv in hdrs.split(","))
    events[h["ce_id"]] = (h, body)
reqs = [json.loads(l) for l in open(f"{work}/requests.jsonl")]
got = collections.defaultdict(list)
for r in reqs:
    h = r["headers"]
    ce_id = h["ce-id"]
    ceh, body = events[ce_id]
    name = r["path"][1:]
    assert r["body"] == body, (name, "body differs from the topic's value")
    assert h["x-hret-event"] == ceh["ce_type"] == h["ce-type"], h
    assert h["ce-source"] == ceh["ce_source"] and h["ce-time"] == ceh["ce_time"], h
    assert h["ce-specversion"] == "1.0" and h["content-type"] == "application/json", h
    want_id = hashlib.sha256(f"{ce_id}\nwebhook:{name}".encode()).hexdigest()[:32]
    assert h["x-hret-delivery"] == want_id, (name, h["x-hret-delivery"], want_id)
    if name == "onlyb" or name == "bad":
        assert "x-hret-signature" not in h, h
    else:
        # "<timestamp>.<delivery id>.<body>": a replayed body under another id or time fails
        ts = h["x-hret-timestamp"]
        assert ts.isdigit() and abs(int(ts) - time.time()) < 600, (name, "timestamp", ts)
        signed = f"{ts}.{h['x-hret-delivery']}.".encode() + r["body"].encode()
        mac = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(h["x-hret-signature"], mac), (name, "signature")
        body_only = "sha256=" + hmac.new(secret, r["body"].encode(), hashlib.sha256).hexdigest()
        assert h["x-hret-signature"] != body_only, (name, "the body-only scheme")
    got[name].append((ce_id, r["status"], h["x-hret-delivery"]))
typ = lambda i: events[i][0]["ce_type"]
body = lambda i: json.loads(events[i][1])
runs = {body(i)["model"]["name"] + ("-hand" if i == "hand-1" else ""): i
        for i in events if typ(i) == "hret.run.completed.v1"}
[cmp] = [i for i in events if typ(i) == "hret.comparison.completed.v1"]
ok = lambda n: sorted(i for i, s, _ in got[n] if s == 200)
assert ok("all") == sorted(events), got["all"]                  # each exactly once
assert all(s == 200 for _, s, _ in got["all"]), got["all"]
assert ok("onlyb") == [runs["b"]], got["onlyb"]                   # model, dataset, type filters
assert [s for _, s, _ in got["flaky"]] == [503] * 4 + [200], got["flaky"]
assert {i for i, _, _ in got["flaky"]} == {cmp}, got["flaky"]
assert len({d for _, _, d in got["flaky"]}) == 1                  # one id on every attempt
assert [(i, s) for i, s, _ in got["bad"]] == [(runs["a"], 400)], got["bad"]
ids = [d for n in got for _, _, d in got[n]]
assert len(set(ids)) == len(events) + 1 + 1 + 1, ids               # distinct across receivers
print({n: len(v) for n, v in got.items()}, "requests; signatures and delivery ids verified")
json.dump({"a": runs["a"]}, open(f"{work}/ids.json", "w"))
PY
kcat -C -b "$HRET_KAFKA" -t hret.bridge.webhook.dlq -o beginning -c 1 -e -q -f '%h\t%s\n' \
  >"$work/dlq.tsv"
run_a=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["a"])' "$work/ids.json")
grep -q "ce_id=$run_a" "$work/dlq.tsv" || fail "run a's event is not in the DLQ: $(cat "$work/dlq.tsv")"
grep -q 'hret_dlq_reason=webhook:bad: [^,]*HTTP 400' "$work/dlq.tsv" ||
  fail "the DLQ reason does not name the receiver and the 400: $(cut -f1 "$work/dlq.tsv")"
[ "$(pg_sql "SELECT count(*) FROM bridge_state WHERE sink LIKE 'webhook:%' AND state = 'finished'")" = 6 ] ||
  fail "bridge_state: $(pg_sql "SELECT sink, subject, state FROM bridge_state")"

# 3. a replay from the first event posts nothing new ----------------------------------------------
before=$(wc -l <"$work/requests.jsonl")
start_bridge bridge2.log --group "hret-bridge-webhook-replay-$RANDOM"
stack_wait_handled bridge2.log 4
stack_stop "$bridge" bridge
tail -n +"$((before + 1))" "$work/requests.jsonl" >"$work/replay.jsonl"
python3 - "$work/replay.jsonl" <<'PY' || fail "the replay posted again: $(cat "$work/replay.jsonl")"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["path"], r["status"]) for r in reqs] == [("/bad", 400)], reqs
PY
grep -q 'delivered hret\.' "$work/bridge2.log" && fail "the replay delivered an event again"

# 4. the secret never logged or dead-lettered ------------------------------------------------------
for f in "$work"/*.log "$work"/*.out "$work/dlq.tsv"; do
  if grep -qF -e "$HOOK_SECRET" "$f"; then
    fail "the webhook secret appears in $(basename "$f")"
  fi
done
echo "ok: webhook bridge"
