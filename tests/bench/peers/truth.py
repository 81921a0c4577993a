#!/usr/bin/env python3
"""Prints the accuracy fake-llm is bound to produce on a synthetic set: the share of answer-key
prompts whose correct/wrong decision (tests/fakes/hret_fake_decide.h) falls under --accuracy.

    truth.py ANSWER_KEY_TSV ACCURACY [SEED] [LIMIT]

LIMIT counts the first lines of the key (the loader's order), as `hret run --limit` does."""
import sys

M = 2**64 - 1


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def decide(h, seed):
    return (mix64(h ^ ((seed * 0x9E3779B97F4A7C15) & M)) >> 11) * 2.0**-53


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
