#include "hret_cli.h"

#include "hret_buf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"

static const struct hret_cli_command commands[] = {
    {"run", "evaluate a model on a dataset in this process (no Kafka needed)",
     "usage: hret run --dataset NAME --model NAME [options]\n"
     "\n"
     "Renders HRET's prompts byte for byte, calls the endpoint, scores exactly as HRET does\n"
     "and writes HRET's results JSON.\n"
     "\n"
     "what to evaluate:\n"
     "  --dataset NAME         kmmlu, haerae_bench, benchhub, click, hrm8k, k2_eval, kudge,\n"
     "                         kormedmcqa or generic (default: default_dataset)\n"
     "  --data-dir DIR         the download (default <datasets.root>/<dataset>); generic: a file\n"
     "                         (with a database and datasets.source auto or postgres, an\n"
     "                         imported dataset is read instead unless --data-dir is given)\n"
     "  --dataset-version V    that imported version (64 hex digits or 8+), default the latest\n"
     "  --subset A,B           subsets (configs) to load (default: all of the dataset's)\n"
     "  --split S              split (default: default_split, test)\n"
     "  --limit N              first N samples after sampling and few-shot\n"
     "  --sample-size N        a seeded random sample of N (--seed S)\n"
     "  --num-few-shot K       HRET few-shot prefix; examples come from --few-shot-split, or\n"
     "                         from the split itself and are then left out of scoring\n"
     "  --dataset-param k=v    loader parameter (dataset_params), repeatable\n"
     "  --template FILE        prompt template with HRET's placeholders\n"
     "  --few-shot-template FILE   few-shot example template (likewise)\n"
     "how to score:\n"
     "  --model NAME           an entry under models: in the config (default: default_model)\n"
     "  --method M             string_match, partial_match, ... or an evaluators: entry\n"
     "                         (default: default_evaluation_method)\n"
     "  --param k=v            evaluator parameter, repeatable: mcqa=false,\n"
     "                         extraction=robust, ignore_case=true, regexes_to_ignore=[...]\n"
     "  --max-tokens N, --temperature T   generation settings for this run\n"
     "  --language-penalty T   language_penalizer = 1 when the answer's Hangul share >= T\n"
     "scoring modes:\n"
     "  --method log_likelihood   MCQA by option log-probabilities: one /completions request\n"
     "                         per option (echo+logprobs); the endpoint is probed first and\n"
     "                         the run fails if it cannot (vLLM can; llama.cpp, TGI not)\n"
     "  --method llm_judge --judge-model NAME   a second models: entry judges each answer;\n"
     "                         --param judge_type=k2_eval (default), response_comparison,\n"
     "                         rubric_and_response, rubric_response_and_gold; kudge's\n"
     "                         pre-filled predictions are judged without the model\n"
     "  --self-consistency N   N answers per sample (n=N, or N requests if the server ignores\n"
     "                         n) at --temperature (default 0.7), majority vote on the parsed\n"
     "                         answer, ties to the first; every raw answer is kept\n"
     "  --prompt-suffix TEXT   appended to every answer prompt (a request's\n"
     "                         evaluation.prompt_suffix; HRET's self-consistency appends\n"
     "                         $'\\nLet\\'s think step by step.\\n'); not with log_likelihood\n"
     "  --language-gate        answers whose Hangul share is below --language-penalty T\n"
     "                         (default 0.5) are marked wrong, counted in language_gate_*\n",
     hret_cmd_run,
     "output:\n"
     "  --run-name X           name stored with the results\n"
     "  --meta k=v             run metadata, repeatable (dotted keys nest:\n"
     "                         hyperparameters.lr=0.001); kept with the run\n"
     "  --db CONNINFO          also store the run and its samples in PostgreSQL (else HRET_PG\n"
     "                         or postgres.conninfo when set)\n"
     "  --no-cache             no response cache (config response_cache: deterministic\n"
     "                         reuses temperature-0/seeded answers across runs; always; off)\n"
     "  --output FILE          results JSON, - for stdout (default: a new file in output_dir);\n"
     "                         a symlink's target, a FIFO or device is written into\n"
     "  --max-error-rate R     exit 1 when more than R (0..1) of the samples were errors\n"
     "  --invalid-utf8 P       invalid UTF-8 in the data: error (default) or replace (U+FFFD)\n"
     "  --track SINKS          also log the run in process: mlflow,wandb,tensorboard,webhook\n"
     "                         (default: the *_tracking keys; none: off)\n"
     "  --quiet                no progress bar\n"
     "  --config FILE          configuration (default: $HRET_CONFIG, ./hret_config.yaml)\n"
     "\n"
     "Endpoint failures (and replies without text) are per-sample errors, left out of the\n"
     "accuracy. Exit: 0 done, 1 nothing scored or --max-error-rate exceeded, 2 usage or\n"
     "configuration error (an unset api_key_env too), 130 Ctrl-C and 143 SIGTERM (partial\n"
     "results kept).\n"
     "\n"
     "example:\n"
     "  hret run --dataset kmmlu --data-dir ./KMMLU --subset Accounting,Law --model local-vllm\n"},
    {"score", "re-score predictions from a JSONL file without calling a model",
     "usage: hret score --input FILE.jsonl [--output FILE.jsonl] [--method M] [--param k=v ...]\n"
     "\n"
     "Each input line has prediction, reference and optional options, method and params.\n"
     "Each output line adds normalized_pred, normalized_ref and is_correct.\n",
     hret_cmd_score, NULL},
    {"probe", "check what a model endpoint supports before a run depends on it",
     "usage: hret probe [--model NAME] [--json] [--config FILE]\n"
     "\n"
     "Asks the endpoint of a models: entry, with its own limits and key:\n"
     "  GET  {base_url}/models          reachable? which model ids does it serve? is the\n"
     "                                  configured `model:` among them?\n"
     "  POST {base_url}/completions     echo:true, logprobs:1, max_tokens:0: does it return\n"
     "                                  prompt log-probabilities? (needed by log_likelihood;\n"
     "                                  vLLM does, llama.cpp and TGI do not)\n"
     "  POST {base_url}/chat/completions  logprobs:true (chat backends): per-token logprobs?\n"
     "  POST chat and /completions      a plain answer each, as hret run asks; an error is\n"
     "                                  worded as hret run records it (HTTP 404 ..., no text\n"
     "                                  in the reply: content null, ...), with hints\n"
     "\n"
     "--json prints the report as one JSON object (supports_echo_logprobs, ...).\n"
     "Exit status: 0 reachable, the model id listed and an answer came back, 1 otherwise, 2\n"
     "usage error or an unset api_key_env variable.\n"
     "\n"
     "example:\n"
     "  hret probe --model local-vllm\n",
     hret_cmd_probe, NULL},
    {"worker", "consume evaluation requests and shard tasks from Kafka (the fleet role)",
     "usage: hret worker [--config FILE] [--kafka BROKERS] [--db CONNINFO] [--group NAME]\n"
     "\n"
     "Stateless: runs, shards and samples live in PostgreSQL; offsets are committed only after\n"
     "the effects are durable, so any worker can die and another finishes its work.\n"
     "A request becomes one run per (model, dataset), cut into datasets.shard_size shards\n"
     "published as shard tasks through the outbox; the worker that finishes a run's last shard\n"
     "publishes hret.run.completed.v1. Invalid requests go to <topic>.dlq. SIGTERM/SIGINT stop\n"
     "taking work, give an unfinished shard back, commit and exit 0 (within 15 s, else exit 1\n"
     "without the final commit; a second signal exits at once).\n"
     "\n"
     "  --group NAME   the consumer group (default kafka.group_id)\n",
     hret_cmd_worker, NULL},
    {"submit", "produce an evaluation request to Kafka, optionally wait for its result",
     "usage: hret submit (--dataset D --model M[,M2] [--method M] [--param k=v ...]\n"
     "                    [--run-name X] [--meta k=v ...] [--subset A,B] [--split S] [--limit N]\n"
     "                    [--num-few-shot K] [--dataset-param k=v ...] [--template FILE]\n"
     "                    [--few-shot-template FILE] [--self-consistency N]\n"
     "                    [--language-penalty T] [--language-gate] [--request-id ID]\n"
     "                    | FILE.json|FILE.yaml)\n"
     "                   [--kafka BROKERS] [--config FILE] [--wait [--timeout S]] [--dry-run]\n"
     "\n"
     "Builds an hret.eval.requested.v1 request (schemas/events/), validates it with the worker's\n"
     "parser against the config (model names, allowlist, no secrets), fills request_id with a\n"
     "UUIDv4 when absent and produces it as a CloudEvent (key = request_id) to\n"
     "kafka.requests_topic; prints the request id. --dry-run prints the normalised request\n"
     "instead of sending it. --wait follows kafka.results_topic from before the send and prints\n"
     "one line per run of the request. --dataset-param, --template and --few-shot-template go\n"
     "to the dataset's params as in hret run; the dataset's subsets, params and templates are\n"
     "checked here, so --dry-run refuses what a worker would. --self-consistency N (2..64,\n"
     "temperature 0.7), --language-penalty T and --language-gate are hret run's scoring modes\n"
     "(evaluation.self_consistency, .language_penalty, .language_gate in the request).\n"
     "\n"
     "The brokers are asked for metadata first: when none answers within 8 s, submit says\n"
     "so in one line and exits 1 without sending.\n"
     "\n"
     "Exit status: 0 sent (all runs completed with --wait), 1 broker error or a failed run,\n"
     "2 bad arguments or an invalid request, 3 --wait timed out (default 600 s).\n",
     hret_cmd_submit, NULL},
    {"status", "show the state of a request from PostgreSQL",
     "usage: hret status REQUEST_ID [--db CONNINFO] [--json] [--config FILE]\n"
     "\n"
     "The request as the workers recorded it (accepted, planned, running, completed, failed)\n"
     "and each of its runs: model, dataset, samples done of planned, errors, accuracy.\n"
     "REQUEST_ID is what hret submit printed. Exit status: 0 found, 1 not found or database\n"
     "unreachable, 2 usage.\n",
     hret_cmd_status, NULL},
    {"runs", "list, show or export stored runs",
     "usage: hret runs list [--model M] [--dataset D] [--since T] [--status S] [--limit N]\n"
     "                      [--json]\n"
     "       hret runs show RUN [--json]\n"
     "       hret runs export RUN [--output FILE] [--track SINKS]\n"
     "       hret runs import RESULTS.json\n"
     "       (each also takes --db CONNINFO and --config FILE)\n"
     "\n"
     "Runs stored by hret run --db (or a worker), newest first. --since takes a time\n"
     "(2025-01-31, '2025-01-31 12:00+09') or an age (30m, 12h, 7d, 2w). RUN is a run id, a\n"
     "unique prefix of one (8+ characters, as list shows) or a run name (its latest run), as in\n"
     "every command that takes a run (compare, metrics compare --runs).\n"
     "export writes the run as HRET's save_results JSON, the layout hret run --output writes,\n"
     "to FILE or stdout. import stores such a file (its run_metadata.run_id) as a run; an\n"
     "existing run is replaced only when abandoned or partial. A running run of hret run whose\n"
     "heartbeat (refreshed every 30 s) is over two minutes old is listed as abandoned.\n"
     "export --track mlflow,wandb,tensorboard,webhook logs the stored run to those sinks in\n"
     "this process, as hret run --track does (without --output, nothing is written).\n",
     hret_cmd_runs, NULL},
    {"metrics", "metric history and comparison across runs",
     "usage: hret metrics history --metric NAME [--model M] [--dataset D] [--subset S] [--json]\n"
     "       hret metrics compare NAME [--runs A,B,...|--model M|--dataset D] [--subset S]\n"
     "                            [--group-by KEY] [--json]\n"
     "       (each also takes --db CONNINFO and --config FILE)\n"
     "\n"
     "history lists the metric of every stored run that has it, oldest first (HRET's\n"
     "get_metrics_history). compare adds _stats: best, worst (with the run they came from) and\n"
     "average (HRET's compare_metric), direction-aware: lower is better for latency*, cost*,\n"
     "errors, error_rate, parse_failures, parse_failure_rate and accuracy_stderr. --group-by\n"
     "metadata.hyperparameters.lr (or model, dataset, method, split, status) compares the mean\n"
     "of each group instead, e.g. the runs of a sweep. --subset S reads S/NAME; metrics of the\n"
     "whole run are the default. A metric no stored run has is an error naming the nearest\n"
     "stored metric name.\n",
     hret_cmd_metrics, NULL},
    {"compare", "paired significance test between two runs (is B really better than A?)",
     "usage: hret compare RUN_A RUN_B [--json] [--bootstrap N] [--seed S] [--db CONNINFO]\n"
     "\n"
     "RUN_A and RUN_B are results JSON files written by hret run (or HRET), or stored runs\n"
     "named as hret runs show takes them: a run id, a unique 8+ character prefix or a run\n"
     "name (its latest run). Items are paired\n"
     "by dataset item id (by subset and prompt when a file has no ids); items that errored in\n"
     "either run are left out and counted. Overall and per subset: accuracies with Wilson 95%\n"
     "intervals, the difference B-A with a paired bootstrap 95% interval, the discordant\n"
     "counts (A right/B wrong, A wrong/B right) and McNemar's exact p-value, Holm-adjusted\n"
     "across subsets; then a one-line verdict with the minimum detectable difference when\n"
     "nothing is significant, and a note when the bootstrap interval and the test seem to\n"
     "disagree (the verdict follows the test). Runs that share no item are compared as\n"
     "independent samples with the pooled two-proportion z-test, and the output says so.\n"
     "A RUN that is not a\n"
     "file is a run stored in PostgreSQL (by the fleet or hret run --db; hret runs lists\n"
     "them): the worker's comparison events load runs and compute the same way.\n"
     "\n"
     "  --json          the comparison as JSON (the body of hret.comparison.completed)\n"
     "  --bootstrap N   bootstrap replicates (default 10000)\n"
     "  --seed S        bootstrap seed (default 1): the same seed gives the same interval\n"
     "  --db CONNINFO   the database of stored runs (else postgres.conninfo or HRET_PG)\n"
     "  --config FILE   the configuration to read postgres settings from\n"
     "\n"
     "examples:\n"
     "  hret compare results/baseline.json results/candidate.json\n"
     "  hret compare 45aed3bc-af13-4bd2-88dd-e721c92f5da7 7175b815-b2da-4df9-8b9a-b27bd1b8d79c\n"
     "\n"
     "Exit status: 0 compared (whatever the verdict), 1 database unreachable, 2 usage error,\n"
     "missing or non-results file, unknown run, or nothing to compare.\n",
     hret_cmd_compare, NULL},
    {"report",
     "a self-contained HTML report of one or more runs (where the model is weak, is B better)",
     "usage: hret report RUN_OR_FILE [RUN_OR_FILE ...] --html FILE [--db CONNINFO]\n"
     "                   [--config FILE] [--title TEXT] [--metric NAME] [--samples N]\n"
     "\n"
     "Writes one HTML page with everything inline (CSS and SVG; no script, no font or image from\n"
     "the network), readable offline, in light and dark. A RUN_OR_FILE is a results JSON file\n"
     "(hret run, hret runs export, or HRET's own) or a stored run: its id, an 8+ character\n"
     "prefix or its name (hret runs lists them).\n"
     "\n"
     "  one run        accuracy with its 95% interval and n; per-subset accuracy bars with\n"
     "                 Wilson intervals and n, worst first; errors (the most frequent), parse\n"
     "                 failures, latency p50/p90/p99, tokens, cost; the first wrong answers\n"
     "                 (prompt, prediction, reference, extracted answer)\n"
     "  two runs       the paired comparison hret compare computes: the verdict in a sentence,\n"
     "                 the McNemar table, a forest plot of the difference per subset with\n"
     "                 intervals and Holm-adjusted verdicts; then each run's section\n"
     "  three or more  each run against the first (the baseline), the overall p-values\n"
     "                 Holm-adjusted across the comparisons\n"
     "  --db           also the history of --metric for the first run's model on its dataset\n"
     "                 as a line chart, with the monitor's threshold rules (from the config)\n"
     "                 as dashed lines and the runs that raised an alert in red\n"
     "\n"
     "  --html FILE     where to write the page (- for standard output); a symlink, FIFO or\n"
     "                  device keeps being what it is, a file is replaced atomically\n"
     "  --db CONNINFO   the database of stored runs and of the history\n"
     "  --config FILE   the configuration (postgres settings, monitor rules)\n"
     "  --title TEXT    the page title (default: model and dataset)\n"
     "  --metric NAME   the metric of the history chart (default accuracy)\n"
     "  --samples N     wrong answers shown per run (default 20)\n"
     "\n"
     "examples:\n"
     "  hret report results/candidate.json --html report.html\n"
     "  hret report results/baseline.json results/candidate.json --html ab.html\n"
     "  hret report ckpt-1000 ckpt-2000 ckpt-3000 --db postgresql://hret@db/hret --html ckpt.html\n"
     "\n"
     "Exit status: 0 written, 1 database unreachable or the file not writable, 2 usage error,\n"
     "missing or non-results file, unknown run.\n",
     hret_cmd_report, NULL},
    {"dataset", "import benchmark datasets into PostgreSQL, list, show and remove versions",
     "usage: hret dataset import NAME --from DIR|URL|hub:OWNER/NAME [--subset A,B] [--split S]\n"
     "       hret dataset list [NAME] [--json]\n"
     "       hret dataset show NAME [--version V] [--json]\n"
     "       hret dataset rm NAME (--version V | --all)\n"
     "       (each also takes --db CONNINFO and --config FILE)\n"
     "\n"
     "import stores a dataset as a content-hashed version: importing the same content again\n"
     "does nothing, changed content becomes a new version beside the old one. Workers (and\n"
     "hret submit requests) then read NAME from the latest version, or the one a request\n"
     "names, without dataset files of their own (datasets.source).\n"
     "--from DIR keeps every data file under a download directory as it is (.csv .tsv .json\n"
     ".jsonl .parquet, hidden folders skipped). --from URL pages through the Hugging Face\n"
     "datasets-server rows API, e.g. https://datasets-server.huggingface.co/rows?dataset=\n"
     "HAERAE-HUB/KMMLU; hub:OWNER/NAME is the same at datasets.hub_rows_url. --subset names\n"
     "the configs (default: all), --split the split (default: every split); each (config,\n"
     "split) becomes <config>/<split>.jsonl. Pages are retried on 429/5xx; HF_TOKEN is sent\n"
     "when set. A row whose cells the server truncated fails the import.\n"
     "show lists a version's files, rows and columns (default: the latest); --version takes\n"
     "the 64 hex digits or a prefix of 8+. rm removes one version or, with --all, every\n"
     "version; a run still reading a removed version fails saying so.\n",
     hret_cmd_dataset, NULL},
    {"migrate", "apply the database migrations in schemas/sql",
     "usage: hret migrate [--status] [--db CONNINFO] [--config FILE]\n"
     "\n"
     "Applies the migrations built into this hret (schemas/sql/NNN_*.sql) in order, each in\n"
     "its own transaction under an advisory lock, so several workers may start at once.\n"
     "Applied files are recorded in schema_migrations with their checksum; a file changed\n"
     "after it was applied is refused. --status lists them without applying anything.\n"
     "The database is --db, else HRET_PG, else postgres.conninfo.\n",
     hret_cmd_migrate, NULL},
    {"bridge", "forward result events to MLflow, W&B, TensorBoard or webhooks",
     "usage: hret bridge mlflow|wandb|tensorboard|webhook [--config FILE] [--kafka BROKERS]\n"
     "                   [--db CONNINFO] [--group NAME]\n"
     "\n"
     "Follows kafka.results_topic as consumer group hret-bridge-<sink> (from the earliest\n"
     "event the first time), so a tracking outage never slows evaluation, and hands each\n"
     "result event to one sink. Run one bridge per sink you use.\n"
     "\n"
     "Events: mlflow, wandb and tensorboard take hret.run.completed.v1 (and the trackers\n"
     "hret.run.failed.v1, to close the run); webhook takes every result event, also\n"
     "hret.comparison.completed.v1. Others are acknowledged and skipped.\n"
     "Routing: a run goes to mlflow/wandb/tensorboard when its request's tracking block says\n"
     "so (\"tracking\": {\"tensorboard\": true} or an object of settings), else when the\n"
     "config default is on (mlflow_tracking, wandb_tracking, tensorboard_tracking);\n"
     "track_metrics limits the metrics forwarded. Webhooks: every entry of webhooks: whose\n"
     "events/datasets/models filters match gets a POST of the event JSON, signed with\n"
     "X-Hret-Signature: sha256=HMAC-SHA256(secret from secret_env,\n"
     "\"<timestamp>.<delivery id>.<body>\"), with X-Hret-Timestamp (Unix seconds: refuse old\n"
     "ones), X-Hret-Delivery (the same id on every retry: dedupe on it) and X-Hret-Event.\n"
     "TensorBoard: event files under tensorboard.log_dir/<run_name or request id>/<model>/,\n"
     "step = metadata.epoch (or metadata.step), so runs of one name form a curve.\n"
     "\n"
     "Idempotent: what a sink created lives in the bridge_state table, so a redelivered event\n"
     "or a replay changes nothing outside. Retriable failures (timeouts, 408, 429, 5xx,\n"
     "database away) are retried with backoff and hold the partition; an event a sink\n"
     "refuses for good (a 4xx, a malformed event) goes to hret.bridge.<sink>.dlq with the\n"
     "reason, and the bridge goes on. Offsets are committed only after the sink accepted.\n"
     "A stats line (delivered, skipped, retried, dead_lettered) is logged every\n"
     "http.stats_interval_s while events flow, and on exit.\n"
     "SIGTERM/SIGINT finish the current event, commit and leave.\n"
     "\n"
     "  --group NAME   another consumer group: replays the topic from the start (safe: the\n"
     "                 sinks skip what bridge_state says is done)\n"
     "\n"
     "examples:\n"
     "  hret bridge tensorboard --config hret.yaml\n"
     "  HRET_WEBHOOK_SECRET=... hret bridge webhook --config hret.yaml   # secret_env's name\n"
     "  hret bridge mlflow --group replay-$(date +%s)   # replay history into MLflow\n"
     "Exit status: 0 after a signal, 1 broker or database failure, 2 usage or config.\n",
     hret_cmd_bridge, NULL},
    {"monitor", "raise alerts on degraded runs (thresholds, significant regressions)",
     "usage: hret monitor [--config FILE] [--kafka BROKERS] [--db CONNINFO] [--group NAME]\n"
     "\n"
     "Follows kafka.results_topic as consumer group hret-monitor and judges every finished or\n"
     "failed run with monitor.rules and its request's alerts block. An alert is a row in the\n"
     "alerts table, a hret.alert.raised.v1 event on kafka.alerts_topic (key = dedupe key) and\n"
     "a notice to each channel; when a later run of the same model and dataset is healthy\n"
     "again, hret.alert.resolved.v1 and a resolve notice follow.\n"
     "\n"
     "rules (monitor.rules[]; model, dataset and run_name are globs, metadata exact values):\n"
     "  threshold    metric op threshold: accuracy < 0.40, error_rate > 0.02,\n"
     "               latency_p90_ms > 4000\n"
     "  regression   a drop of more than max_drop against a baseline that is also\n"
     "               significant at alpha (monitor.alpha, default 0.05)\n"
     "  fingerprint  the served model id or system_fingerprint differs from the previous\n"
     "               run's (a silently swapped model)\n"
     "  failure      the run failed; or its error_rate exceeds threshold when that is > 0\n"
     "A request's alerts block adds request:min_accuracy (threshold) and request:max_drop\n"
     "(regression against its baseline) for that request's runs.\n"
     "\n"
     "baselines (regression): previous (the last completed run of the same model and dataset\n"
     "that finished before this one), best, a pinned run id, or mean_last_k (k runs pooled).\n"
     "\n"
     "significance: against one baseline run, McNemar's exact test on the items both runs\n"
     "answered (the pooled two-proportion z-test when they share none), and per subset with\n"
     "Holm's correction: the rule fires when the overall drop or a subset's drop exceeds\n"
     "max_drop and is significant. Against mean_last_k, the two-proportion z-test on pooled\n"
     "counts. The alert states the effect, the p-value and the minimum detectable effect at\n"
     "that sample size; the statistics are the ones hret compare prints.\n"
     "\n"
     "dedupe and cooldown: one dedupe key per (rule, model, dataset). A key that fires raises\n"
     "when it is not open; while open it repeats at most once per monitor.cooldown_s (the\n"
     "firings in between are counted as suppressed) and resolves on the next healthy run;\n"
     "a regression alert resolves only when a run is back within max_drop of the baseline\n"
     "value recorded in the raised alert, whatever the baseline kind (a run that merely holds\n"
     "against a degraded previous run keeps it open).\n"
     "Each (key, run) is decided once, so replayed events raise nothing twice.\n"
     "\n"
     "channels (monitor.channels[]; URLs only from the config, secrets by variable name):\n"
     "  slack      Slack-compatible incoming webhook: {\"text\": \"...\"}\n"
     "  webhook    the event JSON, signed: X-Hret-Signature: sha256=<HMAC-SHA256 under\n"
     "             $secret_env of \"<X-Hret-Timestamp>.<X-Hret-Delivery>.<body>\">,\n"
     "             X-Hret-Event, X-Hret-Delivery (stable across retries)\n"
     "  pagerduty  Events API v2: routing_key from $routing_key_env, event_action trigger or\n"
     "             resolve, dedup_key = the dedupe key, payload {summary, source, severity}\n"
     "Deliveries are retried with backoff; an event's offset is committed only after its\n"
     "notices were delivered (or refused for good by a 4xx), so a restart neither loses nor\n"
     "repeats a notification. Unusable events go to hret.monitor.dlq.\n"
     "\n"
     "example:\n"
     "  monitor:\n"
     "    cooldown_s: 3600\n"
     "    rules:\n"
     "      - {name: kmmlu-floor, metric: accuracy, op: \"<\", threshold: 0.40, dataset: kmmlu}\n"
     "      - {name: regress, kind: regression, baseline: previous, max_drop: 0.02}\n"
     "      - {name: swapped, kind: fingerprint, severity: critical}\n"
     "    channels:\n"
     "      - {name: ops, kind: slack, url: \"https://hooks.slack.com/services/...\"}\n"
     "      - {name: pd, kind: pagerduty, url: \"https://events.pagerduty.com/v2/enqueue\",\n"
     "         routing_key_env: PD_ROUTING_KEY, min_severity: critical}\n"
     "  PD_ROUTING_KEY=... hret monitor --config hret.yaml\n",
     hret_cmd_monitor, NULL},
    {"api", "the authenticated HTTP front door: submit, status, runs, history, comparisons",
     "usage: hret api [--config FILE] [--kafka BROKERS] [--db CONNINFO]\n"
     "       hret api token add NAME --scopes submit,read [--config FILE] [--tokens-file PATH]\n"
     "       hret api token list [--config FILE] [--tokens-file PATH]\n"
     "       hret api token revoke NAME [--config FILE] [--tokens-file PATH]\n"
     "\n"
     "Serves on api.listen (its /healthz, /readyz and /metrics stay on http.listen); --group\n"
     "is accepted like every role's and unused (the api follows no topic).\n"
     "  POST /v1/requests               (submit) the JSON of a Kafka request, checked by the\n"
     "                                  worker's parser: 202 {\"request_id\"}; Idempotency-Key\n"
     "                                  makes a retry name the same request (409 if the body\n"
     "                                  differs); written through the outbox, so it is kept and\n"
     "                                  published when Kafka is down\n"
     "  GET  /v1/requests/{id}          (read) status and runs with their metrics\n"
     "  GET  /v1/requests/{id}/events   (read) Server-Sent Events: progress, result events, end\n"
     "  GET  /v1/runs?model=&dataset=&status=&since=&limit=    (read) stored runs, newest first\n"
     "  GET  /v1/runs/{id}?offset=&limit=    (read) HRET's results JSON, samples paged\n"
     "  GET  /v1/metrics/history?metric=&model=&dataset=&subset=    (read)\n"
     "  GET  /v1/compare?a=RUN&b=RUN    (read) the paired comparison (as hret compare --json)\n"
     "  GET  /v1/report?runs=A[,B...]   (read) hret report's HTML page of stored runs\n"
     "  GET  /v1/openapi.json           the OpenAPI document (schemas/openapi.yaml)\n"
     "\n"
     "Authorization: Bearer TOKEN. No token or an unknown one: 401; a token without the route's\n"
     "scope: 403; a bad body: 400 with the parser's message; over api.max_body_bytes: 413; over\n"
     "api.rate_per_minute for the token: 429 with Retry-After. Errors are JSON {\"error\",\n"
     "\"message\"}. Each request is logged as one `audit token=NAME ...` line (the token's name,\n"
     "never the token). CORS only for api.cors_origins.\n"
     "\n"
     "token add prints the new token once (its last line) and appends only its SHA-256 to\n"
     "api.tokens_file (or --tokens-file); list shows names, scopes and dates; revoke removes a\n"
     "name. A running api re-reads the file within a second.\n"
     "\n"
     "example:\n"
     "  hret api token add ci --scopes submit,read | tail -n 1 > ci.token\n"
     "  curl -H \"Authorization: Bearer $(cat ci.token)\" -d @request.json \\\n"
     "       http://127.0.0.1:8080/v1/requests\n",
     hret_cmd_api, NULL},
    {"config", "check, show or document the configuration",
     "usage: hret config check [FILE]    validate; print every problem with file:line:column\n"
     "       hret config show [FILE]     print the effective configuration, secrets redacted,\n"
     "                                   each value with its source (# file:line:column,\n"
     "                                   # environment HRET_..., # default)\n"
     "       hret config reference       print the reference of every key (Markdown)\n"
     "\n"
     "FILE may also be given as --config FILE, as every other command takes it. It\n"
     "defaults to $HRET_CONFIG, then ./hret_config.yaml, then built-in defaults.\n"
     "HRET_<SECTION>_<KEY> environment variables override keys, e.g. HRET_LOG_LEVEL=debug,\n"
     "HRET_KAFKA_BROKERS=host:9092; HRET_PG and HRET_KAFKA are short forms for\n"
     "postgres.conninfo and kafka.brokers. Secrets are never read from the file: name an\n"
     "environment variable (api_key_env) or a file (api_key_file) instead.\n"
     "\n"
     "Exit status: 0 valid, 2 problems found.\n",
     hret_cmd_config, NULL},
    {"help", "show help for a command", "usage: hret help [COMMAND]\n", NULL, NULL},
    {"version", "print the version", "usage: hret version (or hret --version, hret -V)\n", NULL,
     NULL},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct hret_cli_command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

static void usage(FILE *out)
{
    fputs("hret - the Haerae Evaluation Toolkit as a fleet service\n"
          "\n"
          "usage: hret <command> [options]      (hret help <command> for details)\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const struct hret_cli_command *c = &commands[i];
        bool builtin = strcmp(c->name, "help") == 0 || strcmp(c->name, "version") == 0;
        fprintf(out, "  %-9s %s%s\n", c->name, c->summary,
                c->run == NULL && !builtin ? " [not built yet]" : "");
    }
    fputs("\n"
          "start here:\n"
          "  hret config check hret_config.yaml      validate a configuration\n"
          "  hret run --dataset kmmlu --model NAME   evaluate one model on one machine\n"
          "  hret worker                             join the Kafka-driven fleet\n",
          out);
}

void hret_cli_print_help(const char *name)
{
    const struct hret_cli_command *c = find(name);
    if (c != NULL) {
        printf("hret %s - %s\n\n%s%s", c->name, c->summary, c->help,
               c->help_more ? c->help_more : "");
        if (c->run == NULL && strcmp(name, "help") != 0 && strcmp(name, "version") != 0) {
            printf("\nThis command is not built yet; it is planned in the issue tracker.\n");
        }
    }
}

bool hret_cli_add_param(cJSON *obj, const char *kv, const char *who)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv) {
        fprintf(stderr, "%s: --param expects key=value, got '%s'\n", who, kv);
        return false;
    }
    char *key = hret_xstrndup(kv, (size_t)(eq - kv));
    cJSON *value = hret_json_parse(eq + 1, strlen(eq + 1), 1 << 20, NULL);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, value ? value : cJSON_CreateString(eq + 1));
    free(key);
    return true;
}

bool hret_cli_add_file_param(cJSON *obj, const char *key, const char *path, const char *who)
{
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, (size_t)1 << 20);
    bool ok = hret_buf_append_file(&b, path, &err) == HRET_OK;
    if (!ok) {
        fprintf(stderr, "%s: %s\n", who, err.msg);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
        cJSON_AddItemToObject(obj, key, cJSON_CreateString(hret_buf_str(&b)));
    }
    hret_buf_fini(&b);
    return ok;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return true;
        }
    }
    return false;
}

int hret_cli_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? HRET_EXIT_USAGE : HRET_EXIT_OK;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0 || strcmp(name, "version") == 0) {
        printf("hret %s\n", HRET_VERSION);
        return HRET_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return HRET_EXIT_OK;
        }
        name = argv[2];
        if (find(name) == NULL) {
            fprintf(stderr, "hret: unknown command '%s' (see hret --help)\n", name);
            return HRET_EXIT_USAGE;
        }
        hret_cli_print_help(name);
        return HRET_EXIT_OK;
    }
    const struct hret_cli_command *c = find(name);
    if (c == NULL) {
        fprintf(stderr, "hret: unknown command '%s' (see hret --help)\n", name);
        return HRET_EXIT_USAGE;
    }
    if (wants_help(argc - 1, argv + 1)) {
        hret_cli_print_help(name);
        return HRET_EXIT_OK;
    }
    if (c->run == NULL) {
        fprintf(stderr,
                "hret: '%s' is not built yet in this version (%s); see hret help %s for what it "
                "will do\n",
                name, HRET_VERSION, name);
        return HRET_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
