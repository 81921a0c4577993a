#!/usr/bin/env bash
# tests/fakes/fake_wandb.py refuses what reference/infra.md §2 forbids, so the W&B bridge's e2e
# test ("no violations") can fail: a protocol-correct run is recorded; a wrong key, a bad mutation
# (unknown variable, wrong input field, unwrapped config, config as an object), a file_stream
# before the upsert, an offset gap, an overlap with other content, a summary off offset 0, a
# history row without _step, complete without exitcode and a request after complete are each
# answered 4xx and recorded; an identical retransmission is accepted and counted; --fail-first
# answers 503.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"
export WANDB_API_KEY="fake-test-key"
python3 "$src/tests/fakes/fake_wandb.py" --port 0 --fail-first 2 >"$work/wandb.out" 2>"$work/wandb.log" &
pids+=($!)
wport=$(listening_port "$work/wandb.out") || exit 1
[ -n "$wport" ] || fail "fake_wandb did not start: $(cat "$work/wandb.log")"

python3 - "$wport" <<'PY' || fail "fake_wandb: see above"
import base64, json, sys, urllib.error, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
GOOD_AUTH = "Basic " + base64.b64encode(b"api:fake-test-key").decode()

def call(path, body, auth=GOOD_AUTH):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if auth:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())

def state():
    with urllib.request.urlopen(base + "/_fake/state", timeout=10) as r:
        return json.loads(r.read())

VARS = ("$name: String, $project: String, $entity: String, $config: JSONString, "
        "$tags: [String!], $groupName: String")
FIELDS = ("name: $name, modelName: $project, entityName: $entity, config: $config, "
          "tags: $tags, groupName: $groupName")
SEL = "{ bucket { id name project { id name entity { id name } } } inserted }"
def mutation(vars_=VARS, fields=FIELDS):
    return f"mutation UpsertBucket({vars_}) {{ upsertBucket(input: {{{fields}}}) {SEL} }}"
def upsert(name, config=None, query=None, **extra):
    v = {"name": name, "project": "p", "entity": None, "tags": ["t"], "groupName": "g",
         "config": json.dumps(config if config is not None else {"lr": {"value": 0.1}})}
    v.update(extra)
    return call("/graphql", {"query": query or mutation(), "variables": v})
def stream(name, body, entity="fake-entity"):
    return call(f"/files/{entity}/p/{name}/file_stream", body)
def hist(offset, *steps):
    return {"offset": offset, "content": [json.dumps({"_step": s, "_runtime": 1.0,
                                                      "_timestamp": 1.7e9, "acc": 0.5})
                                          for s in steps]}
SUMMARY = {"offset": 0, "content": ['{"acc": 0.5}']}

# --fail-first 2: an outage first
assert call("/graphql", {"query": "query Viewer { viewer { id } }"})[0] == 503
assert upsert("r1")[0] == 503
refused = []
def refuse(what, result, status=400):
    assert result[0] == status, (what, result)
    refused.append(what)

# a protocol-correct run
st, resp = upsert("r1")
assert st == 200, resp
b = resp["data"]["upsertBucket"]
assert b["inserted"] and b["bucket"]["project"]["entity"]["name"] == "fake-entity", b
assert stream("r1", {"files": {"wandb-history.jsonl": hist(0, 0, 1),
                               "wandb-summary.json": SUMMARY}})[0] == 200
assert stream("r1", {"files": {"wandb-history.jsonl": hist(2, 2)}})[0] == 200
# the SDK's retry after a lost answer: the same lines at the same offset
assert stream("r1", {"files": {"wandb-history.jsonl": hist(2, 2)}})[0] == 200
assert upsert("r1")[1]["data"]["upsertBucket"]["inserted"] is False  # same name: an update

# what the protocol forbids
refuse("wrong key", call("/graphql", {"query": mutation(), "variables": {}},
                        auth="Basic " + base64.b64encode(b"api:nope").decode()), 401)
refuse("no auth", call("/graphql", {"query": mutation(), "variables": {}}, auth=None), 401)
refuse("unknown variable", upsert("r2", query=mutation(VARS + ", $color: String",
                                                        FIELDS + ", color: $color"), color="red"))
refuse("wrong input field", upsert("r2", query=mutation(VARS, FIELDS.replace("modelName", "projectName"))))
refuse("variable not declared", upsert("r2", notes="n"))
refuse("unwrapped config", upsert("r2", config={"lr": 0.1}))
refuse("config as an object", call("/graphql", {"query": mutation(), "variables": {
    "name": "r2", "config": {"lr": {"value": 0.1}}}}))
refuse("bad run name", upsert("a/b"))
refuse("stream before upsert", stream("nope", {"files": {"wandb-summary.json": SUMMARY}}), 404)
refuse("gap", stream("r1", {"files": {"wandb-history.jsonl": hist(5, 5)}}))
refuse("overlap, other content", stream("r1", {"files": {"wandb-history.jsonl": hist(1, 7)}}))
refuse("summary off 0", stream("r1", {"files": {"wandb-summary.json": {"offset": 1, "content": ['{}']}}}))
refuse("row without _step", stream("r1", {"files": {"wandb-history.jsonl": {
    "offset": 3, "content": ['{"_runtime": 1, "_timestamp": 2, "acc": 1}']}}}))
refuse("_step going back", stream("r1", {"files": {"wandb-history.jsonl": hist(3, 1)}}))
refuse("complete without exitcode", stream("r1", {"complete": True}))
assert stream("r1", {"complete": True, "exitcode": 0})[0] == 200
assert stream("r1", {"complete": True, "exitcode": 0})[0] == 200  # retransmitted
refuse("after complete", stream("r1", {"files": {"wandb-history.jsonl": hist(3, 3)}}))
refuse("heartbeat after complete", stream("r1", {}))

d = state()
assert d["outage_answers"] == 2, d["outage_answers"]
assert len(d["violations"]) == len(refused), (refused, d["violations"])
[r] = [r for r in d["runs"] if r["name"] == "r1"]
assert [json.loads(l)["_step"] for l in r["history"]] == [0, 1, 2], r["history"]
assert r["summary"] == {"acc": 0.5} and r["completed"] and r["exitcode"] == 0, r
assert r["retransmits"] == 2 and r["upserts"] == 2 and r["config"] == {"lr": {"value": 0.1}}, r
assert [r["name"] for r in d["runs"]] == ["r1"], d["runs"]  # nothing refused was recorded
print(f"ok: {len(refused)} violations refused")
PY
! grep -q "fake-test-key" "$work/wandb.log" || fail "the fake logged the key"
