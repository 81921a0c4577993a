#!/usr/bin/env python3
"""An external evaluator for hret: case-insensitive exact match.

Declare it in hret_config.yaml and pick it by name (hret run --method exact_ci, or a request's
evaluation_method_name):

    evaluators:
      exact_ci:
        command: ["python3", "examples/evaluators/exact_ci.py"]
        timeout_ms: 60000

hret writes one JSON object per sample to stdin (the `hret score` input: prediction, reference,
optional options, id, subset, params) and reads one verdict per line from stdout, in the same
order: is_correct (required), score, normalized_pred, normalized_ref (optional). A line hret
cannot read makes that sample an error; exiting non-zero makes every sample an error.

The answer is the text after the last "Answer:" marker (the whole output when there is none),
first line, stripped and case-folded; params {"strip_parens": true} also drops "(" and ")".
"""
import json
import re
import sys

MARKER = re.compile(r"(?:final\s+answer|answer|정답|답)\s*[:：]", re.IGNORECASE)


def normalize(text, strip_parens):
    text = "" if text is None else str(text)
    found = list(MARKER.finditer(text))
    if found:
        text = text[found[-1].end():]
    lines = text.strip().splitlines()
    text = lines[0].strip() if lines else ""
    if strip_parens:
        text = text.replace("(", "").replace(")", "")
    return text.casefold()


def main():
    out = sys.stdout
    for line in sys.stdin:
        sample = json.loads(line)
        params = sample.get("params") or {}
        strip_parens = bool(params.get("strip_parens", False))
        pred = normalize(sample.get("prediction"), strip_parens)
        ref = normalize(sample.get("reference"), strip_parens)
        ok = pred == ref
        verdict = {"is_correct": ok, "score": 1.0 if ok else 0.0,
                   "normalized_pred": pred, "normalized_ref": ref}
        out.write(json.dumps(verdict, ensure_ascii=False) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
