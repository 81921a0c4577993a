#!/usr/bin/env bash
# A real inference server (issue 20): llama.cpp's server through llama-cpp-python 0.3.36
# (deploy/local/llama.sh builds it once into a cached venv, about 6 minutes, under a lock) with a
# tiny random-weight llama model the test writes itself (tests/support/llama_model.py: 2 layers,
# 64 dims, a byte-fallback vocabulary; nothing is downloaded). The answers are noise; what is
# checked is the protocol: chat, usage counts, max_tokens, completions with echo + logprobs (the
# log_likelihood mode), self-consistency against a server that ignores n (hret tops up with
# single requests), and a prompt past the context window recorded as that sample's error.
source "$HRET_SOURCE_DIR/tests/support/test_env.sh"

"$src/deploy/local/llama.sh" model "$work/tiny.gguf" >"$work/model.log" 2>&1 ||
  fail "model: $(tail -20 "$work/model.log")"
lport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$src/deploy/local/llama.sh" serve "$work/tiny.gguf" "$lport" >"$work/llama.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$lport/v1/models" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$lport/v1/models" >/dev/null || fail "llama server: $(tail -20 "$work/llama.log")"

# a KMMLU-shaped set: six short questions, then one far past the server's context window
mkdir -p "$work/data/data"
python3 - "$work/data/data/Accounting-test.csv" <<'PY'
import csv, sys
with open(sys.argv[1], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["question", "answer", "A", "B", "C", "D", "Category", "Human Accuracy"])
    for i in range(6):
        w.writerow([f"What is {i} plus {i}?", 1 + i % 4, str(2 * i), str(2 * i + 1), "ten", "zero",
                    "accounting", 0.5])
    w.writerow(["the answer is " * 400 + "?", 1, "a", "b", "c", "d", "accounting", 0.5])
PY
cat >"$work/hret_config.yaml" <<YAML
output_dir: $work/out
models:
  tiny: {base_url: "http://127.0.0.1:$lport/v1", model: tiny, max_inflight: 2, max_tokens: 6,
         system_message: "Answer with a number."}
  tiny_completions: {backend: openai_completions, base_url: "http://127.0.0.1:$lport/v1",
                     model: tiny, max_inflight: 2}
YAML
run() { # name args...
  local name=$1
  shift
  "$hret" run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/data" \
    --subset Accounting --output "$work/$name.json" "$@" >"$work/$name.out" 2>"$work/$name.err" ||
    fail "$name: $(tail -5 "$work/$name.err")"
}
check() { # name python-assertions (s: a sample, d: the document)
  python3 - "$work/$1.json" "$2" <<'PY' || fail "$1: $(head -c 1500 "$work/$1.json")"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
samples = d["results"][0]["samples"]
exec(sys.argv[2])
PY
}

# chat: answered, usage counted, max_tokens honoured (the model's 6; llama-cpp-python finishes a
# UTF-8 character it started in byte tokens, so up to 3 more may be counted)
run chat --model tiny --limit 6
check chat '
assert len(samples) == 6 and d["metrics"]["errors"] == 0, d["metrics"]
for s in samples:
    assert s["prediction"] is not None and s["finish_reason"] in ("stop", "length"), s
    assert s["prompt_tokens"] > 5 and 0 < s["completion_tokens"] <= 6 + 3, s
assert any(s["finish_reason"] == "length" for s in samples)  # random weights rarely stop
'
# max_tokens from the command line wins (the server's default is 16)
run short --model tiny --limit 3 --max-tokens 1
check short '
for s in samples:
    assert 0 < s["completion_tokens"] <= 1 + 3, s
'
# log_likelihood: /completions with echo + logprobs, one request per option
run loglik --model tiny_completions --limit 6 --method log_likelihood
check loglik '
import math
assert d["metrics"]["errors"] == 0, d["metrics"]
for s in samples:
    lps = s["logits"]["option_log_probs"]
    assert len(lps) == 4 and all(math.isfinite(x) and x < 0 for x in lps), s
    assert s["prediction"] in s["options"], s
'
# self-consistency: the server answers one choice whatever n is; hret sends the rest
run sc --model tiny --limit 3 --self-consistency 3
check sc '
assert d["metrics"]["errors"] == 0, d["metrics"]
for s in samples:
    assert len(s["self_consistency"]["paths"]) == 3, s
    assert s["attempts"] == 3, ("one request with n=3, then two top-ups", s["attempts"])
'
# a prompt past the context window: that sample is an error (400, not retried), the rest answer
run ctx --model tiny
check ctx '
assert len(samples) == 7 and d["metrics"]["errors"] == 1, d["metrics"]
bad = samples[6]
assert bad["prediction"] is None and bad["error_class"] == "invalid", bad
assert "HTTP 400" in bad["error"] and "context" in bad["error"], bad["error"]
assert bad["attempts"] == 1, bad
'
echo "llama.cpp e2e: ok"
