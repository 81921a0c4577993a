#!/usr/bin/env bash
# Secret scan (issue 10): the stack runs with recognisable secret values in every place a secret
# can be configured, and none of them may show up anywhere it does not belong.
#   models' api_key_env (both models)       HRET_SCAN_MODEL_KEY (model a: Authorization: Bearer;
#                                          model b speaks anthropic: x-api-key)
#   models' headers_env (both models)       HRET_SCAN_GW_TOKEN (a gateway's X-Gateway-Token)
#   postgres.password_env                  HRET_SCAN_PG_PASSWORD (the local cluster trusts local
#                                          connections, so it is read and never needed)
#   webhooks[].secret_env                  HRET_SCAN_HOOK_SECRET (HMAC key: never sent)
#   mlflow.token_env                       HRET_SCAN_MLFLOW_TOKEN (Authorization: Bearer)
#   wandb.api_key_env                      HRET_SCAN_WANDB_KEY (Authorization: Basic api:KEY)
# Everything runs at log level debug: a worker, `hret submit --wait` of a two-model request,
# `hret run` (results JSON), `hret status`, `hret config show`, and the bridges webhook, mlflow
# (against a recording fake that speaks enough of MLflow's REST API), wandb
# (tests/fakes/fake_wandb.py) and tensorboard until each has finished every run. Then the values
# must not appear in: any file under the test's directory (logs, stdout/stderr of every process,
# results JSON, TensorBoard event files, the broker's log segments), a pg_dump of the database,
# any Kafka topic's messages with headers and keys, W&B's recorded state, or the requests the
# receivers recorded — except the Authorization header MLflow must get, which is asserted to be
# exactly "Bearer <token>" and then left out. fake_wandb checks its own Authorization header
# (no violation recorded).
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$src/tests/support/stack_env.sh"

marker="HRET_TEST_SECRET_7f3a9c"
tag="$$$RANDOM"
export HRET_SCAN_MODEL_KEY="${marker}_model_$tag"
export HRET_SCAN_PG_PASSWORD="${marker}_pg_$tag"
export HRET_SCAN_HOOK_SECRET="${marker}_hook_$tag"
export HRET_SCAN_MLFLOW_TOKEN="${marker}_mlflow_$tag"
export HRET_SCAN_WANDB_KEY="${marker}_wandb_$tag"
export HRET_SCAN_GW_TOKEN="${marker}_gateway_$tag"
# fake-llm refuses a model call without the exact key and gateway header (401/403), so the
# scores below also prove that both secrets were sent where they belong
STACK_FAKE_FLAGS="--api-key $HRET_SCAN_MODEL_KEY --require-header X-Gateway-Token=$HRET_SCAN_GW_TOKEN"

# The receiver: webhooks under /hook/, MLflow's REST API under /api/2.0/; records every request.
cat >"$work/recv.py" <<'PY'
import http.server, json, sys, threading, urllib.parse
log = sys.argv[1]
lock, runs = threading.Lock(), {}
class H(http.server.BaseHTTPRequestHandler):
    def handle_any(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b""
        path = urllib.parse.urlparse(self.path).path
        out = {}
        with lock:
            if path.endswith("/experiments/get-by-name"):
                out = {"experiment": {"experiment_id": "1", "name": "hret", "lifecycle_stage": "active"}}
            elif path.endswith("/runs/create"):
                rid = f"run{len(runs) + 1:04d}"
                runs[rid] = json.loads(body)
                out = {"run": {"info": {"run_id": rid, "status": "RUNNING",
                                        "artifact_uri": f"mlflow-artifacts:/1/{rid}/artifacts"},
                               "data": {}}}
            elif path.endswith("/runs/search"):
                out = {"runs": []}
            elif path.endswith("/runs/get"):
                rid = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)["run_id"][0]
                out = {"run": {"info": {"run_id": rid, "status": "RUNNING",
                                        "artifact_uri": f"mlflow-artifacts:/1/{rid}/artifacts"},
                               "data": {"metrics": []}}}
            with open(log, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path,
                                    "headers": [[k, v] for k, v in self.headers.items()],
                                    "body": body.decode("utf-8", "replace")}) + "\n")
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_PUT = handle_any
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"listening 127.0.0.1:{s.server_address[1]}", flush=True)
s.serve_forever()
PY
: >"$work/requests.jsonl"
python3 "$work/recv.py" "$work/requests.jsonl" >"$work/recv.out" 2>"$work/recv.log" &
pids+=($!)
rport=$(listening_port "$work/recv.out") || exit 1
python3 "$src/tests/fakes/fake_wandb.py" --port 0 --api-key-env HRET_SCAN_WANDB_KEY \
  >"$work/wandb.out" 2>>"$work/wandb.log" &
pids+=($!)
wport=$(listening_port "$work/wandb.out") || exit 1

STACK_PG=own stack_up 40
stack_config 'http: {listen: "127.0.0.1:0"}' "mlflow_tracking: true" "wandb_tracking: true" \
  "tensorboard_tracking: true" \
  "mlflow: {tracking_uri: \"http://127.0.0.1:$rport\", experiment: hret, token_env: HRET_SCAN_MLFLOW_TOKEN}" \
  "wandb: {base_url: \"http://127.0.0.1:$wport\", entity: e, project: p, api_key_env: HRET_SCAN_WANDB_KEY}" \
  "tensorboard: {log_dir: \"$work/tb\"}" \
  "webhooks:
  - {name: signed, url: \"http://127.0.0.1:$rport/hook/signed\", secret_env: HRET_SCAN_HOOK_SECRET}"
sed -i -e 's/^log_level: info$/log_level: debug/' \
  -e 's/max_inflight: 16}/max_inflight: 16, api_key_env: HRET_SCAN_MODEL_KEY, headers_env: {X-Gateway-Token: HRET_SCAN_GW_TOKEN}}/' \
  -e 's|^  b: {base_url: "\(http://127.0.0.1:[0-9]*\)/v1"|  b: {backend: anthropic, base_url: "\1"|' \
  -e 's/^postgres: {conninfo: \(.*\)}$/postgres: {conninfo: \1, password_env: HRET_SCAN_PG_PASSWORD}/' \
  "$work/hret.yaml"
[ "$(grep -c 'api_key_env: HRET_SCAN_MODEL_KEY, headers_env\|password_env: HRET_SCAN_PG_PASSWORD\|^log_level: debug' "$work/hret.yaml")" = 4 ] &&
  grep -q '^  b: {backend: anthropic' "$work/hret.yaml" ||
  fail "hret.yaml not rewritten: $(cat "$work/hret.yaml")"
"$hret" config check "$work/hret.yaml" >"$work/config-check.out" 2>&1 ||
  fail "config: $(cat "$work/config-check.out")"
"$hret" config show "$work/hret.yaml" >"$work/config-show.out" 2>&1 || fail "config show"

stack_worker
stack_submit --dataset kmmlu --model a,b --request-id scan-1 --run-name scan \
  >"$work/submit.out" 2>"$work/submit.err" || fail "submit: $(cat "$work/submit.out" "$work/submit.err")"
stack_check_calls 80 # 2 models (a by chat completions, b by Anthropic messages) x 40 samples (issue 16)
"$hret" status scan-1 --config "$work/hret.yaml" >"$work/status.out" 2>&1 ||
  fail "status: $(cat "$work/status.out")"
[ "$(pg_sql "SELECT count(*) FROM samples WHERE error_class IS NOT NULL")" = 0 ] ||
  fail "model calls failed (key or gateway header not sent?): $(pg_sql "SELECT DISTINCT error FROM samples WHERE error IS NOT NULL")"
# hret run logs to W&B in process too (--track), so its key's path is scanned as well
"$hret" run --config "$work/hret.yaml" --dataset kmmlu --data-dir "$work/data/kmmlu" --model a \
  --quiet --track wandb --output "$work/out/run.json" >"$work/run.out" 2>"$work/run.err" ||
  fail "hret run: $(cat "$work/run.err")"

declare -a bridges
for sink in webhook mlflow wandb tensorboard; do
  "$hret" bridge "$sink" --config "$work/hret.yaml" >"$work/bridge-$sink.log" 2>&1 &
  bridges+=($!)
  pids+=($!)
done
finished() { pg_sql "SELECT count(*) FROM bridge_state WHERE sink LIKE '$1%' AND state = 'finished'"; }
# webhook: two runs and the comparison; the trackers: the request's two runs
for _ in $(seq 900); do
  [ "$(finished webhook)" -ge 3 ] && [ "$(finished mlflow)" -ge 2 ] && [ "$(finished wandb)" -ge 2 ] &&
    [ "$(finished tensorboard)" -ge 2 ] && break
  sleep 0.2
done
[ "$(finished webhook)/$(finished mlflow)/$(finished wandb)/$(finished tensorboard)" = 3/2/2/2 ] ||
  fail "bridges finished webhook/mlflow/wandb/tensorboard $(finished webhook)/$(finished mlflow)/$(finished wandb)/$(finished tensorboard), not 3/2/2/2: $(pg_sql "SELECT sink, subject, state FROM bridge_state")"
for b in "${bridges[@]}"; do kill -TERM "$b"; done
for b in "${bridges[@]}"; do wait "$b" || fail "a bridge exited with status $?"; done
kill -TERM "$worker"
wait "$worker" || true
curl -sf "http://127.0.0.1:$wport/_fake/state" >"$work/wandb-state.json" || fail "fake_wandb state"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["violations"] == [], d["violations"]; assert len(d["runs"]) == 3, len(d["runs"])' \
  "$work/wandb-state.json" || fail "W&B: $(head -c 600 "$work/wandb-state.json")"

# under ASan+UBSan: no report in any log
! grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$work"/*.log >/dev/null 2>&1 ||
  fail "sanitizer report in $(grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$work"/*.log)"
# the database, every topic
pg_dump "$HRET_PG" >"$work/pg_dump.sql" 2>"$work/pg_dump.err" || fail "pg_dump: $(cat "$work/pg_dump.err")"
grep -q "scan-1" "$work/pg_dump.sql" || fail "the dump does not hold the request"
# kcat -L can answer with a partial topic list while the broker is busy (seen under ASan): ask again
for _ in $(seq 30); do
  topics=$(kcat -L -b "$HRET_KAFKA" 2>/dev/null | sed -n 's/^ *topic "\([^"]*\)".*/\1/p')
  echo "$topics" | grep -qx "$res_topic" && break
  sleep 0.5
done
echo "$topics" | grep -qx "$res_topic" || fail "topic list: $topics"
ntopics=0
for t in $topics; do
  kcat -C -b "$HRET_KAFKA" -t "$t" -o beginning -e -q -f 'topic=%t %h %k %s\n' >>"$work/topics.txt" 2>/dev/null || true
  ntopics=$((ntopics + 1))
done
[ "$(grep -c "^topic=$res_topic " "$work/topics.txt")" -ge 3 ] || fail "the results topic was not read back"

# the receivers: MLflow got the bearer token, nothing else carries a secret
python3 - "$work/requests.jsonl" "$HRET_SCAN_MLFLOW_TOKEN" "$marker" <<'PY' || fail "receivers"
import json, sys
path, token, marker = sys.argv[1:]
reqs = [json.loads(l) for l in open(path, encoding="utf-8")]
ml = [r for r in reqs if r["path"].startswith("/api/2.0/")]
hooks = [r for r in reqs if r["path"].startswith("/hook/")]
assert len(ml) >= 10 and len(hooks) >= 3, (len(ml), len(hooks))
for r in ml:
    auth = [v for k, v in r["headers"] if k.lower() == "authorization"]
    assert auth == [f"Bearer {token}"], (r["method"], r["path"], "Authorization", len(auth))
for r in reqs:
    rest = dict(r, headers=[[k, v] for k, v in r["headers"]
                            if not (r["path"].startswith("/api/2.0/") and k.lower() == "authorization")])
    assert marker not in json.dumps(rest, ensure_ascii=False), (r["method"], r["path"], "carries a secret")
    assert "x-hret-signature" in {k.lower() for k, _ in r["headers"]} or not r["path"].startswith("/hook/")
print(f"{len(ml)} MLflow requests with the bearer token, {len(hooks)} signed webhooks, no secret in the rest")
PY

# every file: logs, stdout/stderr, results JSON, TensorBoard files, Kafka segments, the dump...
ls "$work"/out/*.json >/dev/null 2>&1 || fail "no results JSON in $work/out"
ls -R "$work/tb" | grep -q tfevents || fail "no TensorBoard event file"
nfiles=$(find "$work" -type f ! -name requests.jsonl | wc -l)
# the scan itself can fail: a canary holding one value, deep in a binary file, is found
mkdir -p "$work/canary/deep"
{ head -c 4096 /dev/urandom; printf '%s' "$HRET_SCAN_MODEL_KEY"; head -c 64 /dev/urandom; } \
  >"$work/canary/deep/blob.bin"
[ "$(grep -rlaF -e "$marker" "$work" --exclude=requests.jsonl || true)" = "$work/canary/deep/blob.bin" ] ||
  fail "the scan does not find the canary (or finds more: $(grep -rlaF -e "$marker" "$work" --exclude=requests.jsonl))"
rm -r "$work/canary"
leaks=$(grep -rlaF -e "$marker" "$work" --exclude=requests.jsonl || true)
if [ -n "$pg_dir" ]; then # our own cluster: its data files and WAL too
  leaks="$leaks $(grep -rlaF -e "$marker" "$pg_dir" || true)"
  leaks=${leaks% }
fi
if [ -n "${leaks// /}" ]; then
  for f in $leaks; do
    echo "--- $f:" >&2
    grep -aoF -e "$marker" -m 3 -n "$f" | sed -n 1,3p >&2
    grep -a -m 2 "$marker" "$f" | sed "s/$marker/<SECRET>/g" | cut -c1-300 >&2
  done
  fail "a secret value appears in: $leaks"
fi
echo "secret scan: 6 secrets absent from $nfiles files (logs, outputs, results JSON, TensorBoard, Kafka segments), pg_dump, $ntopics topics, W&B state and the receivers' requests" >&2
