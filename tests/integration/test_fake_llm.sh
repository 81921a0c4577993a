#!/usr/bin/env bash
# Integration test of $HRET_BUILD_DIR/fake-llm, the fake OpenAI-compatible model server: answers
# from an answer key, the accuracy decision, logprobs for log-likelihood scoring, fault headers,
# /fake/stats, and a clean exit on SIGTERM while a request is held.
set -euo pipefail

BUILD_DIR=${HRET_BUILD_DIR:?HRET_BUILD_DIR must name the build directory}
FAKE=$BUILD_DIR/fake-llm
WORK=$(mktemp -d)
PID=""

cleanup() {
    if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
        kill -KILL "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    if [[ -s $WORK/stderr ]]; then
        sed 's/^/  fake-llm stderr: /' "$WORK/stderr" >&2
    fi
    exit 1
}

ok() {
    echo "ok - $*"
}

[[ -x $FAKE ]] || fail "$FAKE is not built"

# FNV-1a 64 of the UTF-8 bytes of $1, as 16 hex digits (hret_hash_hex64).
fnv() {
    python3 -c '
import os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import fnv_hex
print(fnv_hex(sys.argv[1]))' "$1"
}

# 1 if the prompt is answered correctly at accuracy $3 with seed $2 (tests/fakes/hret_fake_decide.h).
decide_correct() {
    python3 -c '
import os, sys
sys.path.insert(0, os.environ["HRET_SOURCE_DIR"] + "/tests/support")
from hret_fake_decide import decide
h, seed, acc = int(sys.argv[1], 16), int(sys.argv[2]), float(sys.argv[3])
print(1 if decide(h, seed) < acc else 0)' "$1" "$2" "$3"
}

# Evaluates a Python expression over the JSON document d in file $1.
jq_py() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v)' "$1" "$2"
}

# post PATH BODY [curl args...]: writes the body to $WORK/body, headers to $WORK/headers and
# prints the status code.
post() {
    local path=$1 body=$2
    shift 2
    curl -sS -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 20 \
        -H 'Content-Type: application/json' "$@" --data-binary "$body" "$BASE$path"
}

get() {
    curl -sS -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' --max-time 20 "$BASE$1"
}

expect_eq() { # what got want
    [[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"
}

chat_body() { # model prompt
    python3 -c 'import json, sys
print(json.dumps({"model": sys.argv[1], "messages": [
    {"role": "system", "content": "Answer with the answer only."},
    {"role": "user", "content": sys.argv[2]}], "temperature": 0}))' "$1" "$2"
}

# ---- answer key and start-up ----
Q_CAPITAL="What is the capital of France?"
Q_LETTER="Which option is right? A) 1 B) 2 C) 3 D) 4"
LL_CONTEXT=$'질문: 2+2=?\nAnswer: '
printf '# hash\tcorrect\twrong\n%s\tParis\tLondon\n%s\tB\n%s\t(A)\n' \
    "$(fnv "$Q_CAPITAL")" "$(fnv "$Q_LETTER")" "$(fnv "$LL_CONTEXT")" >"$WORK/key.tsv"

"$FAKE" --port 0 --answer-key "$WORK/key.tsv" --retry-after 2 >"$WORK/stdout" 2>"$WORK/stderr" &
PID=$!
PORT=""
for _ in $(seq 100); do
    if [[ -s $WORK/stdout ]]; then
        PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$WORK/stdout")
        break
    fi
    kill -0 "$PID" 2>/dev/null || fail "fake-llm exited during start-up"
    sleep 0.1
done
[[ -n $PORT ]] || fail "no 'listening on 127.0.0.1:PORT' line; stdout: $(cat "$WORK/stdout")"
BASE="http://127.0.0.1:$PORT"
ok "started on port $PORT"

# ---- plain endpoints ----
expect_eq "/health status" "$(get /health)" 200
expect_eq "/health body" "$(jq_py "$WORK/body" 'd["status"]')" ok
expect_eq "/v1/models status" "$(get /v1/models)" 200
expect_eq "/v1/models" "$(jq_py "$WORK/body" '[d["object"], d["data"][0]["id"], d["data"][0]["object"]]')" \
    '["list", "fake-model", "model"]'
ok "/health and /v1/models"

# ---- chat answers from the key ----
expect_eq "chat status" "$(post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")")" 200
expect_eq "chat content" "$(jq_py "$WORK/body" 'd["choices"][0]["message"]["content"]')" Paris
expect_eq "chat shape" "$(jq_py "$WORK/body" '[d["object"], d["model"], d["system_fingerprint"], d["choices"][0]["finish_reason"], d["choices"][0]["message"]["role"], d["id"].startswith("chatcmpl-")]')" \
    '["chat.completion", "fake-model", "fp_fake", "stop", "assistant", true]'
expect_eq "chat usage adds up" "$(jq_py "$WORK/body" 'd["usage"]["total_tokens"] == d["usage"]["prompt_tokens"] + d["usage"]["completion_tokens"] and d["usage"]["completion_tokens"] == 5')" true
post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-accuracy: 0' >/dev/null
expect_eq "accuracy 0, third column" "$(jq_py "$WORK/body" 'd["choices"][0]["message"]["content"]')" London
post /v1/chat/completions "$(chat_body m "$Q_LETTER")" >/dev/null
expect_eq "letter answer" "$(jq_py "$WORK/body" 'd["choices"][0]["message"]["content"]')" B
post /v1/chat/completions "$(chat_body m "$Q_LETTER")" -H 'x-fake-accuracy: 0' >/dev/null
expect_eq "accuracy 0, next letter" "$(jq_py "$WORK/body" 'd["choices"][0]["message"]["content"]')" C
post /v1/chat/completions "$(chat_body m "not in the key")" >/dev/null
expect_eq "unknown prompt" "$(jq_py "$WORK/body" 'd["choices"][0]["message"]["content"]')" "모르겠습니다"
ok "chat answers: correct, wrong, derived letter, unknown"

# The decision is exactly the documented formula: compare ten seeds at accuracy 0.5.
H_CAPITAL=$(fnv "$Q_CAPITAL")
right=0
for seed in $(seq 0 9); do
    post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-accuracy: 0.5' \
        -H "x-fake-seed: $seed" >/dev/null
    got=$(jq_py "$WORK/body" 'd["choices"][0]["message"]["content"]')
    want=London
    if [[ $(decide_correct "$H_CAPITAL" "$seed" 0.5) == 1 ]]; then
        want=Paris
        right=$((right + 1))
    fi
    expect_eq "seed $seed at accuracy 0.5" "$got" "$want"
done
[[ $right -gt 0 && $right -lt 10 ]] || fail "seeds 0-9 should mix right and wrong answers, got $right right"
ok "decide(hash, seed) < accuracy matches hret_fake_decide.h ($right/10 right)"

body=$(python3 -c 'import json, sys
print(json.dumps({"model": "m", "messages": [{"role": "user", "content": sys.argv[1]}],
    "n": 3, "logprobs": True, "top_logprobs": 1}))' "$Q_CAPITAL")
post /v1/chat/completions "$body" >/dev/null
expect_eq "n=3 with logprobs" "$(jq_py "$WORK/body" '[len(d["choices"]), [c["index"] for c in d["choices"]], "".join(t["token"] for t in d["choices"][2]["logprobs"]["content"])]')" \
    '[3, [0, 1, 2], "Paris"]'
ok "chat n and logprobs"

# ---- completions: echo + logprobs for log-likelihood ----
ll_body() { # continuation [extra header args are not here]
    python3 -c 'import json, sys
print(json.dumps({"model": "m", "prompt": sys.argv[1] + sys.argv[2], "max_tokens": 0,
    "echo": True, "logprobs": 1, "temperature": 0}))' "$LL_CONTEXT" "$1"
}
# Sum of the logprobs of the tokens at or after len(context) in bytes (lm-eval style), plus
# shape checks: one token per code point, first logprob null, text_offset = byte offsets.
score() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
prompt = sys.argv[2] + sys.argv[3]
ctx_len = len(sys.argv[2].encode())
lp = d["choices"][0]["logprobs"]
assert d["object"] == "text_completion", d["object"]
assert d["choices"][0]["text"] == prompt, "echo text"
assert lp["tokens"] == list(prompt), "one token per code point"
assert lp["token_logprobs"][0] is None and lp["top_logprobs"][0] is None, "first logprob null"
assert all(x is not None for x in lp["token_logprobs"][1:]), "later logprobs set"
offsets, at = [], 0
for ch in prompt:
    offsets.append(at)
    at += len(ch.encode())
assert lp["text_offset"] == offsets, "text_offset must be byte offsets"
assert d["usage"]["prompt_tokens"] == len(prompt) and d["usage"]["completion_tokens"] == 0
print(sum(l for l, o in zip(lp["token_logprobs"], lp["text_offset"]) if o >= ctx_len))
' "$WORK/body" "$LL_CONTEXT" "$1"
}
expect_eq "completions A status" "$(post /v1/completions "$(ll_body A)")" 200
score_a=$(score A) || fail "completions shape (A)"
post /v1/completions "$(ll_body B)" >/dev/null
score_b=$(score B) || fail "completions shape (B)"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' \
    "$score_a" "$score_b" || fail "correct option A ($score_a) must outscore B ($score_b)"
post /v1/completions "$(ll_body A)" -H 'x-fake-accuracy: 0' >/dev/null
score_a0=$(score A) || fail "completions shape (A, accuracy 0)"
[[ $score_a0 == "$score_b" ]] || fail "at accuracy 0, A should score as wrong: $score_a0 vs $score_b"
ok "completions echo+logprobs: shape, offsets, A=$score_a > B=$score_b"

body='{"model":"m","prompt":"What is the capital of France?","max_tokens":3}'
post /v1/completions "$body" >/dev/null
expect_eq "completions max_tokens cut" "$(jq_py "$WORK/body" '[d["choices"][0]["text"], d["choices"][0]["finish_reason"], d["choices"][0]["logprobs"]]')" \
    '["Par", "length", null]'
expect_eq "logprobs reject" "$(post /v1/completions "$(ll_body A)" -H 'x-fake-logprobs: reject')" 400
expect_eq "logprobs reject body" "$(jq_py "$WORK/body" '[d["error"]["message"], d["error"]["type"], d["error"]["param"], d["error"]["code"]]')" \
    '["logprobs are not supported", "invalid_request_error", "logprobs", null]'
expect_eq "logprobs off" "$(post /v1/completions "$(ll_body A)" -H 'x-fake-logprobs: off')" 200
expect_eq "logprobs off body" "$(jq_py "$WORK/body" 'd["choices"][0]["logprobs"]')" null
ok "completions max_tokens, logprobs reject and off"

# ---- faults ----
post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-status: 429' >"$WORK/code"
expect_eq "forced 429" "$(cat "$WORK/code")" 429
grep -qi '^Retry-After: 2' "$WORK/headers" || fail "429 without Retry-After: 2: $(cat "$WORK/headers")"
grep -qi '^retry-after-ms: 2000' "$WORK/headers" || fail "429 without retry-after-ms: 2000"
expect_eq "429 body" "$(jq_py "$WORK/body" 'd["error"]["code"]')" rate_limit_exceeded
post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-quota: 1' >"$WORK/code"
expect_eq "quota 429" "$(cat "$WORK/code")" 429
expect_eq "quota body" "$(jq_py "$WORK/body" 'd["error"]["code"]')" insufficient_quota
expect_eq "forced 503" "$(post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-status: 503')" 503
expect_eq "503 body" "$(jq_py "$WORK/body" 'd["error"]["type"]')" server_error
expect_eq "vLLM 500" "$(post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-rate-500: 1')" 500
expect_eq "vLLM 500 body" "$(jq_py "$WORK/body" '[d["object"], d["code"]]')" '["error", 500]'
expect_eq "proxy 503" "$(post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-rate-503: 1')" 503
grep -q '<html>' "$WORK/body" || fail "proxy 503 should be HTML"
expect_eq "malformed 200" "$(post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-rate-malformed: 1')" 200
if python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/body" 2>/dev/null; then
    fail "malformed body parsed as JSON"
fi
expect_eq "truncated 200" "$(post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-rate-truncated: 1')" 200
if python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/body" 2>/dev/null; then
    fail "truncated body parsed as JSON"
fi
expect_eq "padded 200" "$(post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-body-bytes: 65536')" 200
size=$(wc -c <"$WORK/body")
[[ $size -ge 65000 && $size -le 66000 ]] || fail "padded body is $size bytes, want about 65536"
expect_eq "padded still answers" "$(jq_py "$WORK/body" 'd["choices"][0]["message"]["content"]')" Paris
expect_eq "bad JSON" "$(post /v1/chat/completions '{"model": ')" 400
expect_eq "bad JSON body" "$(jq_py "$WORK/body" 'd["error"]["type"]')" invalid_request_error
expect_eq "bad knob header" "$(post /v1/chat/completions "$(chat_body m x)" -H 'x-fake-accuracy: 2')" 400
start=$(date +%s%N)
post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-latency-ms: 300' >/dev/null
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[[ $elapsed_ms -ge 300 ]] || fail "latency 300 ms answered after $elapsed_ms ms"
start=$(date +%s%N) # the heavy tail: a slow response takes --slow-factor times the latency
post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-latency-ms: 100' \
  -H 'x-fake-rate-slow: 1' -H 'x-fake-slow-factor: 4' >/dev/null
slow_ms=$((($(date +%s%N) - start) / 1000000))
[[ $slow_ms -ge 400 ]] || fail "a slow response (100 ms x 4) answered after $slow_ms ms"
ok "faults: 429 + Retry-After, quota, 500, 503, malformed, truncated, padding, 400s, latency ${elapsed_ms} ms, slow ${slow_ms} ms"

# ---- stats ----
expect_eq "reset" "$(post /fake/reset '')" 200
post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" >/dev/null
post /v1/chat/completions "$(chat_body m "$Q_CAPITAL")" -H 'x-fake-status: 429' >/dev/null
post /v1/completions '{"model":"m","prompt":"x","max_tokens":1}' >/dev/null
get /v1/models >/dev/null
expect_eq "stats status" "$(get /fake/stats)" 200
expect_eq "stats" "$(jq_py "$WORK/body" '[d["requests_total"], d["endpoints"]["chat_completions"], d["endpoints"]["completions"], d["endpoints"]["models"], d["status"].get("200"), d["status"].get("429"), d["sent_429"], d["in_flight"], d["max_in_flight"] >= 1]')" \
    '[4, 2, 1, 1, 3, 1, 1, 0, true]'
ok "/fake/stats counts after /fake/reset"

# ---- what a real server (llama-cpp-python, tests/e2e/test_llama.sh) does differently ----
# it answers one choice whatever n is (chat and completions) ...
expect_eq "ignore-n chat" "$(post /v1/chat/completions '{"model":"m","n":3,"messages":[{"role":"user","content":"x"}]}' -H 'x-fake-ignore-n: 1')" 200
expect_eq "ignore-n chat choices" "$(jq_py "$WORK/body" 'len(d["choices"])')" 1
expect_eq "ignore-n completions" "$(post /v1/completions '{"model":"m","prompt":"x","n":2,"max_tokens":1}' -H 'x-fake-ignore-n: 1')" 200
expect_eq "ignore-n completions choices" "$(jq_py "$WORK/body" 'len(d["choices"])')" 1
# ... and refuses a prompt plus max_tokens past its context window with a 400
expect_eq "context window" "$(post /v1/chat/completions '{"model":"m","max_tokens":4,"messages":[{"role":"user","content":"0123456789"}]}' -H 'x-fake-context-tokens: 12')" 400
expect_eq "context window error" "$(jq_py "$WORK/body" '[d["error"]["type"], d["error"]["code"], d["error"]["param"], "maximum context length is 12 tokens" in d["error"]["message"]]')" \
    '["invalid_request_error", "context_length_exceeded", "messages", true]'
expect_eq "context window completions" "$(post /v1/completions '{"model":"m","prompt":"0123456789","max_tokens":4}' -H 'x-fake-context-tokens: 12')" 400
expect_eq "context window completions param" "$(jq_py "$WORK/body" 'd["error"]["param"]')" prompt
expect_eq "within the context window" "$(post /v1/completions '{"model":"m","prompt":"0123456789","max_tokens":2}' -H 'x-fake-context-tokens: 12')" 200
ok "llama-cpp-python's ways: one choice whatever n, 400 context_length_exceeded past the window"

# ---- shutdown while a request is held ----
curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -H 'x-fake-rate-hang: 1' \
    --data-binary "$(chat_body m x)" "$BASE/v1/chat/completions" >"$WORK/held" 2>/dev/null &
HELD=$!
for _ in $(seq 300); do
    get /fake/stats >/dev/null
    [[ $(jq_py "$WORK/body" 'd["hangs"]') == 1 ]] && break
    sleep 0.1
done
expect_eq "hang counted" "$(jq_py "$WORK/body" '[d["hangs"], d["in_flight"]]')" '[1, 1]'
kill -TERM "$PID"
status=0
wait "$PID" || status=$?
PID=""
expect_eq "exit status after SIGTERM" "$status" 0
wait "$HELD" || true
expect_eq "held request answered at shutdown" "$(cat "$WORK/held")" 503
if grep -Eq 'level=error|ERROR: (Address|Leak|Undefined)Sanitizer|runtime error' "$WORK/stderr"; then
    fail "errors in the server log"
fi
ok "SIGTERM with a held request: 503 to the client, exit 0"
