#!/usr/bin/env bash
# `hret score` end to end: the HRET parity corpus through the binary (is_correct and the
# normalised strings equal HRET's for every line, other fields copied through), malformed lines
# (exit 1, 1-based line numbers on stderr), usage errors (exit 2) and --param parsing.
set -euo pipefail

hret="${HRET_BUILD_DIR:?}/hret"
corpus="${HRET_SOURCE_DIR:?}/tests/data/parity/hret_parity_public.jsonl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*" >&2
}
expect_status() { # want, got, what
  if [ "$1" = "$2" ]; then ok; else bad "$3: exit $2, want $1"; fi
}
expect_grep() { # pattern, file, what
  if grep -q -- "$1" "$2"; then ok; else bad "$3: no '$1' in $(cat "$2")"; fi
}

# 1. The corpus: every verdict as HRET's, the input fields copied through.
status=0
"$hret" score --input "$corpus" --output "$tmp/out.jsonl" 2>"$tmp/err" || status=$?
expect_status 0 "$status" "score the corpus"
expect_grep "scored 842 lines" "$tmp/err" "summary"
expect_grep "string_match: accuracy" "$tmp/err" "per-method summary"
if python3 - "$corpus" "$tmp/out.jsonl" <<'EOF'; then ok; else bad "corpus verdicts"; fi
import json, sys
inp = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
out = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(inp) == len(out) == 842, (len(inp), len(out))
wrong = 0
for a, b in zip(inp, out):
    e = b["expected"]
    for k in ("normalized_pred", "normalized_ref", "is_correct"):
        if b[k] != e[k]:
            wrong += 1
            if wrong <= 5:
                print("line id", b["id"], k, repr(b[k]), "want", repr(e[k]), file=sys.stderr)
    for k, v in a.items():  # input fields unchanged
        assert b[k] == v, (b["id"], k)
assert wrong == 0, wrong
print(f"score_cli: {len(out)}/{len(out)} corpus lines match HRET")
EOF
if grep -q '\\u' "$tmp/out.jsonl"; then bad "output is ASCII-escaped"; else ok; fi

# 2. No --output: stdout, one line per input line.
lines=$("$hret" score --input "$corpus" 2>/dev/null | wc -l)
expect_status 842 "$lines" "stdout lines"

# 3. Malformed lines: reported by number, an error line in their place (output line N is input
# line N; a blank line stays blank), exit 1.
cat >"$tmp/mixed.jsonl" <<'EOF'
{"id": 1, "prediction": "정답: (A)", "reference": "(A)", "options": ["(A)", "(B)"]}
{"id": 2, "prediction": "oops"

{"id": 4, "prediction": "x"}
{"id": 5, "prediction": "x", "reference": "x", "method": "bleu"}
{"id": 6, "prediction": "x", "reference": "x", "params": {"ignore_cases": true}}
{"id": 7, "prediction": "x", "reference": "x", "options": [1, 2]}
{"id": 8, "prediction": 42, "reference": "42", "method": "math_match", "params": {"rel_tol": 0.5}}
EOF
status=0
"$hret" score --input "$tmp/mixed.jsonl" --output "$tmp/mixed.out" 2>"$tmp/err" || status=$?
expect_status 1 "$status" "malformed lines"
expect_grep "line 2: invalid JSON" "$tmp/err" "bad JSON"
expect_grep 'line 4: missing "reference"' "$tmp/err" "missing reference"
expect_grep "line 5: unknown method 'bleu'" "$tmp/err" "unknown method on a line"
expect_grep "line 6: unknown parameter 'ignore_cases'" "$tmp/err" "bad params"
expect_grep 'line 7: "options" must be a list of strings' "$tmp/err" "bad options"
expect_grep "scored 2 lines: accuracy 1.0000 (2/2), 5 malformed" "$tmp/err" "summary"
expect_status 8 "$(wc -l <"$tmp/mixed.out")" "one output line per input line"
if python3 - "$tmp/mixed.out" <<'EOF'; then ok; else bad "error lines in place"; fi
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]
assert lines[2] == "", lines[2]
out = [json.loads(l) if l else None for l in lines]
assert out[0]["id"] == 1 and out[0]["is_correct"] is True, out[0]
assert out[1] == {"line": 2, "error": out[1]["error"]} and "invalid JSON" in out[1]["error"], out[1]
for n in (4, 5, 6, 7):
    assert out[n - 1]["line"] == n and out[n - 1]["error"], out[n - 1]
assert out[7]["id"] == 8 and out[7]["is_correct"] is True, out[7]
EOF

# 4. Usage errors: exit 2.
status=0
"$hret" score --input "$corpus" --method bleu >/dev/null 2>"$tmp/err" || status=$?
expect_status 2 "$status" "unknown --method"
expect_grep "unknown method 'bleu' (known: string_match, partial_match, math_match, log_likelihood, llm_judge)" "$tmp/err" \
  "unknown --method message"
status=0
"$hret" score --method string_match >/dev/null 2>"$tmp/err" || status=$?
expect_status 2 "$status" "missing --input"
status=0
"$hret" score --input "$corpus" --param nope=1 >/dev/null 2>"$tmp/err" || status=$?
expect_status 2 "$status" "bad --param"
expect_grep "unknown parameter 'nope'" "$tmp/err" "bad --param message"
status=0
"$hret" score --input "$tmp/does-not-exist.jsonl" >/dev/null 2>"$tmp/err" || status=$?
expect_status 2 "$status" "missing input (the exit-code table: usage)"

# 5. --param values parse as JSON (false, "robust") and lines' own params win.
printf '%s\n' '{"prediction": "Answer: Seoul", "reference": "seoul"}' \
  '{"prediction": "Answer: Seoul", "reference": "seoul", "params": {"ignore_case": true}}' \
  >"$tmp/case.jsonl"
"$hret" score --input "$tmp/case.jsonl" --param ignore_case=false >"$tmp/case.out" 2>/dev/null
if python3 -c '
import json, sys
v = [json.loads(l)["is_correct"] for l in open(sys.argv[1])]
assert v == [False, True], v' "$tmp/case.out"; then ok; else bad "--param ignore_case=false"; fi
"$hret" score --input "$corpus" --param extraction=robust --output "$tmp/robust.jsonl" 2>"$tmp/err"
if python3 - "$tmp/robust.jsonl" <<'EOF'; then ok; else bad "robust mode"; fi
import json, sys
out = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
changed = sum(o["is_correct"] != o["expected"]["is_correct"] for o in out)
assert changed > 0
print(f"score_cli: robust extraction changes {changed} of {len(out)} verdicts")
EOF

# 6. A line past the 16 MiB cap is refused by number; the next line is still scored.
python3 -c '
import sys
sys.stdout.write("{\"prediction\": \"" + "x" * (17 << 20) + "\", \"reference\": \"x\"}\n")
sys.stdout.write("{\"prediction\": \"x\", \"reference\": \"x\"}\n")' >"$tmp/long.jsonl"
status=0
"$hret" score --input "$tmp/long.jsonl" >"$tmp/long.out" 2>"$tmp/err" || status=$?
expect_status 1 "$status" "line over the cap"
expect_grep "line 1: longer than" "$tmp/err" "cap message"
expect_status 2 "$(wc -l <"$tmp/long.out")" "an error line, then the line after the long one"

# 7. A results JSON (hret run's file) is recognised: its samples are re-scored, one line each,
# with the run's method; samples that were endpoint errors get an error line.
python3 - "$tmp/results.json" <<'EOF'
import json, sys
samples = [
    {"id": "a", "input": "q", "reference": "(A)", "options": ["(A)", "(B)"], "_subset_name": "Law",
     "prediction": "정답: (A)", "finish_reason": "stop",
     "evaluation": {"normalized_pred": "(a)", "normalized_ref": "(a)", "is_correct": True}},
    {"id": "b", "input": "q", "reference": "(B)", "options": ["(A)", "(B)"], "_subset_name": "Law",
     "prediction": "정답: (A)", "finish_reason": "stop",
     "evaluation": {"normalized_pred": "(a)", "normalized_ref": "(b)", "is_correct": False}},
    {"id": "c", "input": "q", "reference": "(B)", "options": ["(A)", "(B)"], "_subset_name": "Law",
     "prediction": None, "finish_reason": "error", "error": "HTTP 500", "error_class": "unavailable"},
]
meta = {"config": {"evaluation_method_name": "string_match", "evaluator_params": {}}}
results = [{"metrics": {}, "samples": samples, "info": {}}]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("{\n\"run_metadata\": " + json.dumps(meta) + ",\n\"results\": " +
            json.dumps(results, ensure_ascii=False) + "\n}\n")
EOF
status=0
"$hret" score --input "$tmp/results.json" --output "$tmp/results.out" 2>"$tmp/err" || status=$?
expect_status 0 "$status" "score a results JSON"
expect_grep "results JSON: 3 samples" "$tmp/err" "results JSON recognised"
expect_grep "scored 2 lines: accuracy 0.5000 (1/2)" "$tmp/err" "results JSON summary"
if python3 - "$tmp/results.out" <<'EOF'; then ok; else bad "results JSON re-scored"; fi
import json, sys
out = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [o["id"] for o in out] == ["a", "b", "c"], out
assert out[0]["is_correct"] is True and out[1]["is_correct"] is False, out
assert "is_correct" not in out[2] and "HTTP 500" in out[2]["error"], out[2]
EOF

echo "score_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
