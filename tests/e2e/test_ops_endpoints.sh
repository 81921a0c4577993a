#!/usr/bin/env bash
# /metrics, /healthz and /readyz of a worker (real Kafka, a PostgreSQL cluster of the test's own,
# fake-llm): the server listens on the port the log names; /healthz is 200, /readyz 200 once the
# first tick saw PostgreSQL and Kafka; other paths are 404 and other methods 405; after one
# request with models a and b on N items, /metrics is valid text format 0.0.4 (checked by a
# strict parser below) and its counters match the run (N samples scored per model, at least N
# endpoint requests per model, one request consumed, no samples left in flight); the stats line
# is logged every second; with PostgreSQL stopped /readyz turns 503 naming postgres, and 200 again
# once it is back; after SIGTERM /readyz never says ready, the worker exits 0 and the port closes.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
source "$HRET_SOURCE_DIR/tests/support/stack_env.sh"

items=40
STACK_PG=own stack_up $items
stack_config 'http: {listen: "127.0.0.1:0", stats_interval_s: 1}'
stack_worker

for _ in $(seq 200); do
  grep -q 'listening on 127.0.0.1:[0-9]' "$work/worker.log" 2>/dev/null && break
  sleep 0.1
done
mport=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/worker.log" | sed -n 1p | sed 's/.*://')
[ -n "$mport" ] && [ "$mport" != 0 ] || fail "the worker logged no bound address"
url="http://127.0.0.1:$mport"

code() { # METHOD PATH -> the status code, 000 when nothing answers
  curl -s -o "$work/body" -w '%{http_code}' -m 5 -X "$1" "$url$2" || true
}
wait_ready() { # EXPECTED_CODE BODY_WORD SECONDS
  local c=""
  for _ in $(seq $(($3 * 5))); do
    c=$(code GET /readyz)
    [ "$c" = "$1" ] && grep -q "$2" "$work/body" && return 0
    sleep 0.2
  done
  fail "/readyz: wanted $1 '$2' within $3 s, last $c: $(cat "$work/body" 2>/dev/null)"
}

[ "$(code GET /healthz)" = 200 ] || fail "/healthz: $(cat "$work/body")"
grep -qx ok "$work/body" || fail "/healthz body: $(cat "$work/body")"
wait_ready 200 '^ready$' 30
[ "$(code GET /nope)" = 404 ] || fail "GET /nope is not 404"
[ "$(code POST /metrics)" = 405 ] || fail "POST /metrics is not 405"
curl -s -D "$work/headers" -o /dev/null -m 5 "$url/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$work/headers" ||
  fail "/metrics content type: $(cat "$work/headers")"

stack_submit --dataset kmmlu --model a,b --request-id req-ops1 >"$work/submit.out" 2>&1 ||
  fail "submit: $(cat "$work/submit.out")"
stack_check_calls $((2 * items)) # once per sample of both runs (issue 16)

# The strict parser: every line is a comment, HELP/TYPE (TYPE once, before the family's samples,
# families contiguous) or `name{labels} value`; histograms have ascending cumulative buckets
# ending in +Inf equal to _count. Prints `name{sorted labels} value` lines for the checks.
parse() {
  python3 - "$1" <<'PY'
import math, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
assert text.endswith("\n"), "the last line does not end with a newline"
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label_re = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
sample_re = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" % (name_re, label_re, label_re))
types, done, current, out, hist = {}, set(), None, [], {}
def family(name):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return name
for line in text.split("\n")[:-1]:
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        parts = line.split(" ", 3)
        assert re.fullmatch(name_re, parts[2]), line
        if parts[1] == "TYPE":
            assert parts[2] not in types, "TYPE twice: " + line
            assert parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"), line
            types[parts[2]] = parts[3]
        continue
    if line.startswith("#"):
        continue
    m = sample_re.match(line)
    assert m, "bad sample line: %r" % line
    name, value = m.group(1), m.group(m.lastindex)
    labels = dict(re.findall(label_re, line[len(name):line.rfind(" ")]))
    fam = family(name)
    assert fam in types, "sample before its TYPE: " + line
    if fam != current:
        assert fam not in done, "family not contiguous: " + fam
        if current is not None:
            done.add(current)
        current = fam
    v = float(value)
    assert not math.isnan(v), line
    if types[fam] == "histogram":
        key = (fam, tuple(sorted((k, x) for k, x in labels.items() if k != "le")))
        h = hist.setdefault(key, {"buckets": []})
        if name.endswith("_bucket"):
            h["buckets"].append((float(labels["le"]), v))
        elif name.endswith("_count"):
            h["count"] = v
    out.append("%s{%s} %s" % (name, ",".join("%s=%s" % kv for kv in sorted(labels.items())),
                               value))
for (fam, labels), h in hist.items():
    b = h["buckets"]
    assert b and b[-1][0] == math.inf, "%s: no +Inf bucket" % fam
    assert all(b[i][0] < b[i + 1][0] and b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), fam
    assert b[-1][1] == h["count"], "%s: +Inf bucket != _count" % fam
print("\n".join(out))
PY
}
value() { # NAME{labels} -> value (0 when absent)
  awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "$work/samples"
}

curl -sf -m 5 "$url/metrics" >"$work/metrics" || fail "GET /metrics failed"
parse "$work/metrics" >"$work/samples" || fail "/metrics does not parse (see above)"
for model in a b; do
  [ "$(value "hret_samples_scored_total{model=$model}")" = $items ] ||
    fail "samples scored for $model: $(grep samples_scored "$work/samples")"
  ep=$(value "hret_endpoint_requests_total{model=$model,status=2xx}")
  [ "${ep%.*}" -ge $items ] || fail "endpoint requests of $model: $ep"
  n=$(value "hret_endpoint_latency_seconds_count{model=$model}")
  [ "${n%.*}" -ge $items ] || fail "latency observations of $model: $n"
  [ "$(value "hret_endpoint_inflight_requests{model=$model}")" = 0 ] || fail "requests left in flight"
  tin=$(value "hret_endpoint_tokens_total{direction=input,model=$model}")
  [ "${tin%.*}" -gt 0 ] || fail "no input tokens counted for $model"
done
[ "$(awk '$1 ~ /^hret_requests_total\{/ { s += $2 } END { print s + 0 }' "$work/samples")" = 1 ] ||
  fail "requests consumed: $(grep '^hret_requests_total' "$work/samples")"
[ "$(value 'hret_ready{}')" = 1 ] || fail "hret_ready is not 1"
n=$(value 'hret_db_write_seconds_count{}')
[ "${n%.*}" -ge 1 ] || fail "no sample write was timed"

for _ in $(seq 300); do
  grep -q 'stats requests=1 .*samples=80' "$work/worker.log" && break
  sleep 0.1
done
grep -q 'stats requests=1 .*samples=80' "$work/worker.log" ||
  fail "no stats line with the run's counts: $(grep stats "$work/worker.log" | tail -2)"

pg_stop >/dev/null
wait_ready 503 postgres 60
pg_start
wait_ready 200 '^ready$' 90

kill -TERM "$worker"
while kill -0 "$worker" 2>/dev/null; do
  c=$(code GET /readyz)
  case $c in
    000) ;;                                                           # already closed
    503) grep -q stopping "$work/body" || fail "/readyz while stopping: $(cat "$work/body")" ;;
    *) fail "/readyz answered $c after SIGTERM: $(cat "$work/body")" ;;
  esac
  sleep 0.1
done
rc=0
wait "$worker" || rc=$?
[ $rc = 0 ] || fail "the worker exited $rc after SIGTERM"
[ "$(code GET /healthz)" = 000 ] || fail "the port is still open after the worker exited"
echo "ok: metrics, health and readiness endpoints"
