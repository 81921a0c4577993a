#!/usr/bin/env bash
# Every backend scores a known answer key exactly (issue 20): `hret run` against fake-llm through
# openai_chat behind a gateway, anthropic and azure_openai. fake-llm checks each dialect's route
# and headers (x-api-key + anthropic-version, api-key + api-version, Bearer), the API key value
# (--api-key) and two gateway headers (--require-header), one plain (`headers`) and one from the
# environment (`headers_env`); a request that misses any of them is refused, so an exact score is
# also proof that every header arrived. Then: Anthropic's 529 is retried like 503; an unset
# headers_env or api_key_env variable is refused before any request; the secrets appear in no
# log, output or results file.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

python3 "$src/tests/data/gen_kmmlu_synth.py" --out "$work/synth" --items 400 --seed 11 >/dev/null
export HRET_T_MODEL_KEY="HRET_TEST_SECRET_be_key_$$"
export HRET_T_GW_TOKEN="HRET_TEST_SECRET_be_gw_$$"
start_fake good --answer-key "$work/synth/answer_key.tsv" --accuracy 0.62 --seed 5 \
  --api-key "$HRET_T_MODEL_KEY" --require-header "X-Gateway-Team=evals" \
  --require-header "X-Gateway-Token=$HRET_T_GW_TOKEN"
good=$port
start_fake overloaded --status 529 --api-key "$HRET_T_MODEL_KEY"
overloaded=$port
cat >"$work/hret_config.yaml" <<YAML
output_dir: $work/out
log_level: debug
models:
  gateway:
    base_url: "http://127.0.0.1:$good/v1"
    model: fake-model
    api_key_env: HRET_T_MODEL_KEY
    system_message: "You answer Korean exam questions."
    headers: {X-Gateway-Team: evals}
    headers_env: {X-Gateway-Token: HRET_T_GW_TOKEN}
  claude:
    backend: anthropic
    base_url: "http://127.0.0.1:$good"
    model: claude-sonnet-4-5
    api_key_env: HRET_T_MODEL_KEY
    max_tokens: 64
    system_message: "You answer Korean exam questions."
    headers: {X-Gateway-Team: evals}
    headers_env: {X-Gateway-Token: HRET_T_GW_TOKEN}
  azure:
    backend: azure_openai
    base_url: "http://127.0.0.1:$good"
    model: gpt-4o-prod
    api_version: "2024-10-21"
    api_key_env: HRET_T_MODEL_KEY
    headers: {X-Gateway-Team: evals}
    headers_env: {X-Gateway-Token: HRET_T_GW_TOKEN}
  claude_overloaded:
    backend: anthropic
    base_url: "http://127.0.0.1:$overloaded"
    model: c
    api_key_env: HRET_T_MODEL_KEY
    max_retries: 1
  no_gw_token:
    backend: anthropic
    base_url: "http://127.0.0.1:$good"
    model: c
    api_key_env: HRET_T_MODEL_KEY
    headers_env: {X-Gateway-Token: HRET_T_UNSET_VAR}
  no_key:
    backend: azure_openai
    base_url: "http://127.0.0.1:$good"
    model: d
    api_version: "2024-10-21"
    api_key_env: HRET_T_UNSET_KEY
YAML
unset HRET_T_UNSET_VAR HRET_T_UNSET_KEY
"$hret" config check "$work/hret_config.yaml" >"$work/check.out" 2>&1 || fail "config: $(cat "$work/check.out")"

# 1. each backend scores the answer key exactly
for model in gateway claude azure; do
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model $model --output "$work/$model.json" >"$work/$model.txt" 2>"$work/$model.err" ||
    fail "$model: $(tail -5 "$work/$model.err")"
  python3 - "$work" "$model" <<'PY' || fail "$model: not the exact score"
import json, os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import decide, fnv_hex
work, model = sys.argv[1:]
key = {}
for line in open(f"{work}/synth/answer_key.tsv", encoding="utf-8"):
    h = line.rstrip("\n").split("\t")[0]
    key[h] = decide(int(h, 16), 5) < 0.62
doc = json.load(open(f"{work}/{model}.json", encoding="utf-8"))
samples = doc["results"][0]["samples"]
want = sum(key[fnv_hex(s["input"])] for s in samples)
m = doc["metrics"]
assert len(samples) == 400 and m["errors"] == 0 and m["answered"] == 400, m
assert m["correct"] == want, (m["correct"], want)
for s in samples:
    assert s["evaluation"]["is_correct"] == key[fnv_hex(s["input"])], s["input"][:40]
    assert s["prompt_tokens"] > 0 and s["completion_tokens"] > 0, s
print(f"{model}: {m['correct']}/400 correct as predicted")
PY
done
curl -sf "http://127.0.0.1:$good/fake/stats" >"$work/stats.json"
python3 - "$work/stats.json" <<'PY' || fail "fake-llm routes: $(cat "$work/stats.json")"
import json, sys
s = json.load(open(sys.argv[1]))
e = s["endpoints"]
assert e["chat_completions"] == 400 and e["messages"] == 400 and e["azure_chat_completions"] == 400, e
assert s["status"] == {"200": 1200}, s["status"]
PY

# 2. Anthropic's 529 overloaded is retried like a 503, then an unavailable error (not an answer)
set +e
"$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
  --model claude_overloaded --limit 3 --output "$work/overloaded.json" >/dev/null 2>"$work/overloaded.err"
set -e
python3 - "$work/overloaded.json" <<'PY' || fail "529: $(cat "$work/overloaded.err")"
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["results"][0]["samples"]:
    assert s["prediction"] is None and s["error_class"] == "unavailable", s
    assert "HTTP 529" in s["error"] and s["attempts"] == 2, s
    assert "Overloaded [overloaded_error]" in s["error"], s
PY

# 3. an unset headers_env / api_key_env variable is refused before any request
curl -sf -X POST "http://127.0.0.1:$good/fake/reset" >/dev/null
for model in no_gw_token no_key; do
  set +e
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/synth" \
    --model $model --limit 5 --output "$work/$model.json" >/dev/null 2>"$work/$model.err"
  rc=$?
  set -e
  [ $rc -ne 0 ] || fail "$model: a run with an unset secret variable succeeded"
done
grep -q "HRET_T_UNSET_VAR" "$work/no_gw_token.err" "$work/no_gw_token.json" ||
  fail "the error does not name the unset headers_env variable: $(cat "$work/no_gw_token.err")"
grep -q "HRET_T_UNSET_KEY" "$work/no_key.err" "$work/no_key.json" ||
  fail "the error does not name the unset api_key_env variable: $(cat "$work/no_key.err")"
[ "$(curl -sf "http://127.0.0.1:$good/fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_total"])')" = 0 ] ||
  fail "a request was sent although a secret variable was unset"

# 3b. hret probe speaks each backend's API: Anthropic lists models at /v1/models with its headers;
# Azure has no deployment listing, so the deployment's answer stands for it; neither has OpenAI's
# /completions, so those checks say "not applicable" and send nothing
for model in claude azure; do
  rc=0
  "$hret" probe --config "$work/hret_config.yaml" --model $model --json >"$work/probe_$model.json" \
    2>"$work/probe_$model.err" || rc=$?
  echo $rc >"$work/probe_$model.rc"
done
python3 - "$work" <<'PY' || fail "probe: $(cat "$work"/probe_*.json "$work"/probe_*.err)"
import json, sys
w = sys.argv[1]
p = {m: (json.load(open(f"{w}/probe_{m}.json")), int(open(f"{w}/probe_{m}.rc").read())) for m in ("claude", "azure")}
(c, crc), (a, arc) = p["claude"], p["azure"]
assert c["reachable"] and c["served_models"] == ["fake-model"] and not c["model_listed"], c
assert c["chat_answers"] and crc == 1, (c, crc)  # answers, but its model id is not served: exit 1
assert a["reachable"] and a["model_listed"] and a["chat_answers"] and arc == 0, (a, arc)
for j in (c, a):
    assert not j["supports_echo_logprobs"] and not j["completions_answer"], j
    assert j["details"]["echo_logprobs"].startswith("not applicable"), j
    assert j["supports_chat_logprobs"] is None, j
print("probe: ok")
PY
# 4. the secrets reached fake-llm (it checked them) and nothing else: logs, outputs, results
grep -q "HRET_TEST_SECRET" "$work/hret_config.yaml" && fail "the config holds a secret"
leaks=$(grep -rlaF -e "HRET_TEST_SECRET" "$work" || true)
[ -z "$leaks" ] || fail "a secret value appears in: $leaks"
echo "backends e2e: ok"
