#!/usr/bin/env bash
# hret bridge wandb end to end: real Kafka, PostgreSQL, fake-llm and a worker (stack_env.sh), and
# tests/fakes/fake_wandb.py, which refuses (and records) every request that breaks the protocol
# of reference/infra.md §2.
#   1. a two-model request with --meta epoch=4 --meta lr=0.01 becomes two W&B runs: name = hret
#      run id, display name, group = request id, job type, tags, wrapped config, one history row
#      at _step 4 with the result event's accuracy, the summary, completed with exitcode 0, no
#      violation, bridge_state finished;
#   2. the bridge again from the first event (--group fresh, bridge_state kept): W&B gets no
#      request at all;
#   3. a crash between W&B accepting a step and bridge_state recording it (every other
#      bridge_state write fails): the steps are repeated with the same bytes, W&B sees one run,
#      one history line, retransmissions and no violation;
#   4. W&B down (connection refused), then back answering 503 to its first 5 requests: a request
#      routed to another project with track_metrics [accuracy] is delivered exactly once;
#   5. the API key appears in no log, nothing was dead-lettered, and without the key the bridge
#      does not start.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

# A distinctive key, so the log check below cannot pass by accident.
export WANDB_API_KEY="wbkey-$$-$RANDOM$RANDOM-secret"
fake_wandb="$src/tests/fakes/fake_wandb.py"
wport=0

start_wandb() { # fake flags...; reuses $wport once it is known
  python3 "$fake_wandb" --port "$wport" "$@" >"$work/wandb.out" 2>>"$work/wandb.log" &
  wandb_pid=$!
  pids+=($wandb_pid)
  wport=$(listening_port "$work/wandb.out" fake_wandb) || exit 1
}
stop_wandb() {
  kill "$wandb_pid"
  wait "$wandb_pid" 2>/dev/null || true
}
wstate() { curl -sf "http://127.0.0.1:$wport/_fake/state"; }

start_bridge() { # extra args...
  "$hret" bridge wandb --config "$work/bridge.yaml" "$@" >>"$work/bridge.log" 2>&1 &
  bridge=$!
  pids+=($bridge)
}
wait_for() { # what python-condition-on-state (d = the fake's state)
  for _ in $(seq 450); do
    wstate | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)" \
      2>/dev/null && return 0
    sleep 0.2
  done
  fail "timed out waiting for $1: $(wstate)"
}

finished() { pg_sql "SELECT count(*) FROM bridge_state WHERE sink = 'wandb' AND state = 'finished'"; }
wait_finished() { # n: bridge_state has n finished W&B runs
  for _ in $(seq 300); do
    [ "$(finished)" = "$1" ] && return 0
    sleep 0.2
  done
  fail "bridge_state: $(finished) finished runs, not $1: $(pg_sql "SELECT * FROM bridge_state")"
}

start_wandb
stack_up 40
stack_config "wandb: {base_url: \"http://127.0.0.1:$wport\", entity: e, project: p, api_key_env: WANDB_API_KEY}" \
  "wandb_tracking: true"
# the bridge logs at debug level: the key must stay out of even the most talkative log
sed 's/^log_level: info$/log_level: debug/' "$work/hret.yaml" >"$work/bridge.yaml"
grep -q '^log_level: debug$' "$work/bridge.yaml" || fail "bridge.yaml: log_level not switched"
stack_worker

# 1. two runs -------------------------------------------------------------------------------------
stack_submit --dataset kmmlu --model a,b --request-id req-wb1 --run-name wb --meta epoch=4 \
  --meta lr=0.01 >"$work/submit1.out" || fail "submit 1: $(cat "$work/submit1.out")"
stack_check_calls 80 # 2 models x 40 samples, one call each (issue 16)
stack_events "$res_topic" 10 >"$work/events1.jsonl"
start_bridge
wait_for "two completed runs" 'len(d["runs"]) == 2 and all(r["completed"] for r in d["runs"])'
wait_finished 2
stack_stop "$bridge" bridge
wstate >"$work/state1.json"
python3 - "$work" <<'PY' || fail "W&B state after the first request: $(cat "$work/state1.json")"
import json, sys
from datetime import datetime
work = sys.argv[1]
d = json.load(open(f"{work}/state1.json"))
events = [json.loads(l) for l in open(f"{work}/events1.jsonl") if l.strip()]
events = {e["run_id"]: e for e in events if e.get("status") == "completed" and e["request_id"] == "req-wb1"}
assert len(events) == 2, events
assert d["violations"] == [], d["violations"]
assert len(d["runs"]) == 2
def ts(t):
    return datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
for r in d["runs"]:
    ev = events[r["name"]]  # the W&B run name is the hret run id
    assert (r["entity"], r["project"]) == ("e", "p"), r
    assert r["displayName"] == ev.get("run_name") == "wb", (r["displayName"], ev.get("run_name"))
    assert r["groupName"] == "req-wb1" and r["jobType"] == "eval", r
    assert r["tags"] == [ev["model"]["name"], "kmmlu"], r["tags"]
    c = r["config"]
    assert c["epoch"] == {"value": 4} and c["lr"] == {"value": 0.01}, c
    assert c["evaluation"]["value"]["method"] == ev["evaluation"]["method"], c
    assert c["model"] == {"value": ev["model"]["name"]} and c["dataset"] == {"value": "kmmlu"}, c
    assert c["dataset_version"] == {"value": ev["dataset"]["version"]}, c
    assert r["upserts"] == 1 and r["stream_requests"] == 2 and r["retransmits"] == 0, r
    assert len(r["history"]) == 1, r["history"]
    row = json.loads(r["history"][0])
    assert row["_step"] == 4, row
    assert row["accuracy"] == ev["metrics"]["accuracy"], (row, ev["metrics"])
    assert row["_timestamp"] == ts(ev["finished_at"]), (row, ev["finished_at"])
    assert row["_runtime"] >= 0
    for subset, m in ev.get("subset_metrics", {}).items():
        assert row[f"{subset}/accuracy"] == m["accuracy"], (subset, row)
    assert r["summary"] == row, (r["summary"], row)
    assert r["completed"] is True and r["exitcode"] == 0, r
print("runs", sorted((r["name"], json.loads(r["history"][0])["accuracy"]) for r in d["runs"]))
PY

# 2. a replay from the first event changes nothing outside -----------------------------------------
replayed() { echo $(($(grep -c 'nothing to send' "$work/bridge.log" || true) - seen)); }
seen=0
seen=$(replayed)
start_bridge --group "hret-bridge-wandb-replay-$RANDOM"
for _ in $(seq 300); do
  [ "$(replayed)" -ge 2 ] && break
  sleep 0.2
done
[ "$(replayed)" = 2 ] || fail "the replay reached $(replayed) runs, not 2"
stack_stop "$bridge" bridge
wstate >"$work/state2.json"
cmp -s <(python3 -m json.tool --sort-keys "$work/state1.json") \
  <(python3 -m json.tool --sort-keys "$work/state2.json") ||
  fail "the replay changed W&B: $(diff "$work/state1.json" "$work/state2.json")"

# 3. a crash after each step W&B accepted, before bridge_state recorded it: every other write to
# bridge_state fails, so the bridge repeats each step: the upsert (an update of the same run), the
# history line at the same offset, the completion; W&B sees retransmissions, never new lines ------
pg_sql "CREATE SEQUENCE wb_lost;
CREATE FUNCTION wb_lost() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  IF NEW.sink = 'wandb' AND nextval('wb_lost') % 2 = 1 THEN
    RAISE EXCEPTION 'test: bridge_state write lost';
  END IF;
  RETURN NEW;
END \$\$;
CREATE TRIGGER wb_lost BEFORE INSERT ON bridge_state FOR EACH ROW EXECUTE FUNCTION wb_lost();" >/dev/null
stack_submit --dataset kmmlu --model a --request-id req-wb3 --meta epoch=9 >"$work/submit3.out" ||
  fail "submit 3: $(cat "$work/submit3.out")"
start_bridge
wait_for "the run of req-wb3" 'any(r["groupName"] == "req-wb3" and r["completed"] for r in d["runs"])'
wait_finished 3 # the last write is lost too: the completion is sent again before it sticks
stack_stop "$bridge" bridge
pg_sql "DROP TRIGGER wb_lost ON bridge_state" >/dev/null
wstate >"$work/state3.json"
[ "$(grep -c 'bridge_state write lost' "$work/bridge.log")" -ge 3 ] || fail "no lost bridge_state write"
python3 - "$work" <<'PY' || fail "W&B state after lost bridge_state writes: $(cat "$work/state3.json")
$(grep -e 'will retry' -e 'req-wb3' "$work/bridge.log")"
import json, sys
work = sys.argv[1]
before = {r["name"]: r for r in json.load(open(f"{work}/state1.json"))["runs"]}
d = json.load(open(f"{work}/state3.json"))
assert d["violations"] == [], d["violations"]
assert len(d["runs"]) == 3, d["runs"]
[r] = [r for r in d["runs"] if r["groupName"] == "req-wb3"]
assert r["upserts"] == 2 and r["retransmits"] == 2, r  # upsert, line 0 and complete, each twice
assert len(r["history"]) == 1 and json.loads(r["history"][0])["_step"] == 9, r["history"]
assert r["completed"] and r["exitcode"] == 0, r
for other in d["runs"]:
    if other is not r:
        assert other == before[other["name"]], other
PY

# 4. an outage: W&B down, then answering 503 five times -----------------------------------------------
stop_wandb
start_bridge
"$hret" submit --config "$work/hret.yaml" --dataset kmmlu --model b --request-id req-wb2 \
  --meta step=7 --dry-run >"$work/req2.json"
python3 - "$work/req2.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))
q["tracking"] = {"wandb": {"project": "p2"}}
q["track_metrics"] = ["accuracy"]
json.dump(q, open(sys.argv[1], "w"))
PY
stack_submit "$work/req2.json" >"$work/submit2.out" || fail "submit 2: $(cat "$work/submit2.out")"
for _ in $(seq 300); do
  grep -q 'will retry' "$work/bridge.log" && break
  sleep 0.2
done
grep -q 'will retry' "$work/bridge.log" || fail "the bridge did not retry while W&B was down"
start_wandb --fail-first 5
wait_for "the run after the outage" 'len(d["runs"]) == 1 and d["runs"][0]["completed"]'
wait_finished 4
stack_stop "$bridge" bridge
wstate >"$work/state4.json"
stack_events "$res_topic" 20 >"$work/events2.jsonl"
python3 - "$work" <<'PY' || fail "W&B state after the outage: $(cat "$work/state4.json")"
import json, sys
work = sys.argv[1]
d = json.load(open(f"{work}/state4.json"))
ev = [e for e in map(json.loads, filter(str.strip, open(f"{work}/events2.jsonl")))
      if e.get("request_id") == "req-wb2" and e.get("status") == "completed"]
assert len(ev) == 1, ev
ev = ev[0]
assert d["violations"] == [], d["violations"]
assert d["outage_answers"] == 5, d["outage_answers"]
[r] = d["runs"]
assert (r["entity"], r["project"], r["name"]) == ("e", "p2", ev["run_id"]), r
assert r["upserts"] == 1 and r["stream_requests"] == 2 and r["retransmits"] == 0, r
assert len(r["history"]) == 1
row = json.loads(r["history"][0])
assert row["_step"] == 7 and row["accuracy"] == ev["metrics"]["accuracy"], row
metrics = {k for k in row if not k.startswith("_")}
assert all(k == "accuracy" or k.endswith("/accuracy") for k in metrics), metrics  # track_metrics
assert r["completed"] and r["exitcode"] == 0
PY

# 5. the key never logged; nothing dead-lettered -----------------------------------------------------
basic=$(printf 'api:%s' "$WANDB_API_KEY" | base64 -w0)
for f in "$work"/*.log "$work"/*.out; do
  if grep -qF -e "$WANDB_API_KEY" -e "$basic" "$f"; then
    fail "the W&B API key appears in $(basename "$f")"
  fi
done
[ -z "$(stack_events hret.bridge.wandb.dlq 1)" ] || fail "dead letters: $(stack_events hret.bridge.wandb.dlq 5)"
# without the key the bridge refuses to start and says which variable to set
rc=0
env -u WANDB_API_KEY "$hret" bridge wandb --config "$work/hret.yaml" >"$work/nokey.out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q 'WANDB_API_KEY' "$work/nokey.out" || fail "no key: exit $rc: $(cat "$work/nokey.out")"
echo "ok: W&B bridge"
