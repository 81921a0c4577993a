#!/usr/bin/env python3
"""Prints the accuracy fake-llm is bound to produce on a synthetic set: the share of answer-key
prompts whose correct/wrong decision (tests/fakes/hret_fake_decide.h) falls under --accuracy.

    truth.py ANSWER_KEY_TSV ACCURACY [SEED] [LIMIT]

LIMIT counts the first lines of the key (the loader's order), as `hret run --limit` does."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from hret_fake_decide import decide  # noqa: E402  (the one Python copy of fake-llm's decision)


def main():
    path, accuracy = sys.argv[1], float(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
    with open(path, encoding="utf-8") as f:
        hashes = [int(line.split("\t", 1)[0], 16) for line in f if line.strip()]
    hashes = hashes[:limit]
    print(sum(decide(h, seed) < accuracy for h in hashes) / len(hashes))


if __name__ == "__main__":
    main()
