#!/usr/bin/env bash
# make demo: a complete local evaluation on this machine, explained step by step.
# Today it runs the one-process pipeline (`hret run`); the Kafka fleet, PostgreSQL history,
# MLflow and alerting join the demo as they land (see the README's Status table).
# HRET_DEMO_ENDPOINT=http://host:port/v1 and HRET_DEMO_MODEL=<model id> evaluate a real
# OpenAI-compatible endpoint as the "candidate" instead of the fake one (key: HRET_DEMO_API_KEY).
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "1/6 installing what is missing and building hret (build/hret, build/fake-llm)"
deploy/local/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target hret fake-llm >/dev/null

work=$(mktemp -d /tmp/hret-demo.XXXXXX)
fake_pid=""
trap '[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; true' EXIT

say "2/6 generating a KMMLU-format dataset (2,000 questions over 45 subsets) and its answer key"
python3 tests/data/gen_kmmlu_synth.py --out "$work/kmmlu" --items 2000 --seed 42 >/dev/null
echo "    $work/kmmlu/data/<Subset>-test.csv, as huggingface-cli download leaves KMMLU"

say "3/6 starting fake-llm, an OpenAI-compatible server with two 'models' of known accuracy"
build/fake-llm --port 0 --log-level warn --answer-key "$work/kmmlu/answer_key.tsv" \
  --model-accuracy baseline=0.55 --model-accuracy candidate=0.68 --jitter-ms 20 >"$work/fake.out" &
fake_pid=$!
for _ in $(seq 100); do grep -q listening "$work/fake.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed 's/.*://' "$work/fake.out")
echo "    http://127.0.0.1:$port/v1  (baseline answers 55% right, candidate 68%)"

cand_url="http://127.0.0.1:$port/v1"
cand_model=candidate
cand_key=""
if [ -n "${HRET_DEMO_ENDPOINT:-}" ]; then
  cand_url=$HRET_DEMO_ENDPOINT
  cand_model=${HRET_DEMO_MODEL:?set HRET_DEMO_MODEL to the model id served at HRET_DEMO_ENDPOINT}
  [ -n "${HRET_DEMO_API_KEY:-}" ] && cand_key="api_key_env: HRET_DEMO_API_KEY"
  echo "    candidate: $cand_model at $cand_url (from HRET_DEMO_ENDPOINT)"
fi
cat >"$work/hret_config.yaml" <<YAML
output_dir: $work/results
models:
  baseline:
    base_url: "http://127.0.0.1:$port/v1"
    model: baseline
    max_inflight: 256
  candidate:
    base_url: "$cand_url"
    model: "$cand_model"
    max_inflight: 256
    $cand_key
YAML
build/hret config check "$work/hret_config.yaml"

for m in baseline candidate; do
  say "$([ $m = baseline ] && echo 4 || echo 5)/6 hret run: $m on KMMLU (HRET's prompt and string_match scoring)"
  build/hret run --config "$work/hret_config.yaml" --dataset kmmlu --data-dir "$work/kmmlu" \
    --model $m --run-name "demo-$m" --output "$work/results/$m.json"
done

say "6/6 hret compare: is the candidate really better? (paired McNemar test on the same questions)"
build/hret compare "$work/results/baseline.json" "$work/results/candidate.json"

say "done"
echo "    results JSON (HRET's save_results layout): $work/results/{baseline,candidate}.json"
echo "    next: hret help run, examples/hret_config.yaml, make test"
