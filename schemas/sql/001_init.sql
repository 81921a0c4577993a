-- hret schema, version 1 (DESIGN.md §3, §5). Forward-only: never edit this file once applied
-- anywhere (hret migrate refuses a changed checksum); add NNN_name.sql instead. Applied in one
-- transaction by `hret migrate`, which records it in schema_migrations.
--
-- Conventions: ids are text chosen by the writer (UUIDs, request ids, event ids), so a retried
-- or redelivered write names the same row and every write is idempotent (ON CONFLICT on the
-- natural key). Times are timestamptz. JSON that is queried is jsonb; JSON that is only given
-- back verbatim (results JSON blocks) is json, which keeps its key order.

-- requests: one evaluation request as received (Kafka hret.eval.requests or `hret submit`).
-- A redelivered message hits the primary key and is skipped; `hret status` reads it.
CREATE TABLE requests (
    request_id  text PRIMARY KEY,
    event_id    text UNIQUE,                       -- CloudEvents ce_id of the carrying message
    status      text NOT NULL DEFAULT 'accepted'
                CHECK (status IN ('accepted', 'planned', 'running', 'completed', 'failed',
                                  'cancelled')),
    spec        jsonb NOT NULL,                    -- the request data (datasets, models, ...)
    source      text,                              -- "topic/partition/offset", "cli", ...
    error       text,                              -- why it failed, for `hret status`
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX requests_status_idx ON requests (status, created_at);

-- runs: one (model, dataset) evaluation. A request fans out to one run per model and dataset,
-- hence the unique key below; `hret run` writes runs without a request. metrics holds the final
-- metrics object (the results JSON "metrics"); the metrics table below holds the same numbers
-- as rows for history queries. config and info are the results JSON blocks, kept verbatim.
CREATE TABLE runs (
    run_id          text PRIMARY KEY,
    request_id      text REFERENCES requests (request_id),
    run_name        text,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('planned', 'running', 'completed', 'partial', 'failed',
                                      'cancelled')),
    model_name      text NOT NULL,                 -- the config's key under models:
    model_id        text,                          -- the model id sent to the endpoint
    served_model    text,                          -- the model id the endpoint reported
    fingerprint     text,                          -- system_fingerprint, when reported
    endpoint        text,                          -- base URL (never credentials)
    dataset_name    text NOT NULL,
    dataset_version text,
    split           text,
    method          text,                          -- evaluation method
    planned_samples integer NOT NULL DEFAULT 0,
    done_samples    integer NOT NULL DEFAULT 0,
    error_samples   integer NOT NULL DEFAULT 0,
    cache_hits      integer NOT NULL DEFAULT 0,
    metadata        jsonb NOT NULL DEFAULT '{}',   -- user metadata: hyperparameters, epoch, sha
    config          json,                          -- results JSON run_metadata.config
    info            json,                          -- results JSON results[0].info
    metrics         jsonb,                         -- final metrics, NULL until finished
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    start_time      double precision,              -- Unix seconds as the run measured them
    end_time        double precision,              -- (the results JSON's; *_at are rounded)
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (request_id, model_name, dataset_name)
);
CREATE INDEX runs_model_created_idx ON runs (model_name, created_at DESC);
CREATE INDEX runs_dataset_created_idx ON runs (dataset_name, created_at DESC);
CREATE INDEX runs_created_idx ON runs (created_at DESC);
CREATE INDEX runs_active_idx ON runs (status, updated_at) WHERE status IN ('planned', 'running');

-- shards: a run cut into sample ranges [first_idx, end_idx). A worker claims pending shards
-- (or running ones whose lease expired) with FOR UPDATE SKIP LOCKED, renews the lease while it
-- works, and marks the shard done in the transaction that stores its samples. The last shard
-- done aggregates the run.
CREATE TABLE shards (
    run_id        text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    shard_idx     integer NOT NULL,
    first_idx     integer NOT NULL,
    end_idx       integer NOT NULL CHECK (end_idx > first_idx),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'done', 'failed')),
    owner         text,                            -- worker id holding the lease
    lease_until   timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    done_samples  integer NOT NULL DEFAULT 0,
    error_samples integer NOT NULL DEFAULT 0,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    PRIMARY KEY (run_id, shard_idx)
);
CREATE INDEX shards_claim_idx ON shards (status, lease_until) WHERE status IN ('pending', 'running');

-- sample_inputs: the prompts samples were asked, stored once per distinct text and addressed
-- by its SHA-256, so evaluating a benchmark again adds no prompt text and a samples row stays
-- narrow. Rows are only ever added (INSERT ... ON CONFLICT DO NOTHING), never changed.
CREATE TABLE sample_inputs (
    input_hash text PRIMARY KEY,                   -- SHA-256 hex of input
    input      text NOT NULL
);

-- samples: one scored item of a run, keyed (run_id, sample_idx) so a redelivered shard or a
-- repeated write adds nothing. Written in bulk: a run's first samples by COPY straight into
-- the table, later ones by COPY into a temporary staging table and INSERT ... ON CONFLICT DO
-- NOTHING. The prompt is in sample_inputs (input_hash). error_class is NULL for an answered
-- sample (then the evaluation columns are set) and names the failure class otherwise (never
-- a wrong answer). run_id has no foreign key on purpose: its per-row check would halve the
-- write rate; the writer checks the run once per batch instead.
CREATE TABLE samples (
    run_id             text NOT NULL,
    sample_idx         integer NOT NULL,
    item_id            text,
    subset             text,
    input_hash         text NOT NULL,              -- sample_inputs.input_hash
    reference          text,
    options            jsonb,
    prediction         text,                       -- raw model output, NULL on error
    finish_reason      text,
    normalized_pred    text,
    normalized_ref     text,
    correct            boolean,
    parse_failure      boolean NOT NULL DEFAULT false,
    score              double precision,
    language_penalizer double precision,
    latency_ms         double precision,
    prompt_tokens      integer,
    completion_tokens  integer,
    attempts           integer,
    error_class        text,
    error              text,
    metadata           json,
    extra              json,                       -- other outcome fields: paths, judge, gate
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, sample_idx)
);

-- metrics: one number of a run, for history and comparison queries. subset '' is the whole
-- run; "Accounting/accuracy" in the metrics object is (name accuracy, subset Accounting).
CREATE TABLE metrics (
    run_id text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    name   text NOT NULL,
    subset text NOT NULL DEFAULT '',
    value  double precision NOT NULL,
    PRIMARY KEY (run_id, name, subset)
);
CREATE INDEX metrics_name_idx ON metrics (name, subset, run_id);

-- response_cache: a 2xx endpoint body by cache key (SHA-256 of backend, base URL, model id and
-- the exact request body), so different models never share an entry. endpoint is the SHA-256
-- of the identity alone: a run loads that endpoint's keys once. seq orders entries as they were
-- stored, so a repeated run prefetches bodies in windows instead of one round trip per hit.
CREATE TABLE response_cache (
    cache_key  text PRIMARY KEY,
    endpoint   text NOT NULL,
    model_id   text NOT NULL,
    seq        bigserial NOT NULL,
    body       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX response_cache_endpoint_idx ON response_cache (endpoint, seq);

-- outbox: events to publish, written in the transaction that changes the state they describe.
-- A relay in every worker takes unpublished rows in id order (FOR UPDATE SKIP LOCKED),
-- produces them with the idempotent producer and sets published_at on the delivery report.
-- Consumers dedupe on event_id (the CloudEvents ce_id).
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    event_id     text NOT NULL UNIQUE,
    topic        text NOT NULL,
    msg_key      text,                             -- Kafka key: request_id or run_id
    ce_type      text NOT NULL,                    -- e.g. hret.run.completed.v1
    ce_source    text NOT NULL,
    ce_time      timestamptz NOT NULL DEFAULT now(),
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL;

-- consumed_events: event ids a consumer (bridge, monitor) has applied, so a redelivered event
-- is skipped; written in the transaction that applies the event.
CREATE TABLE consumed_events (
    consumer    text NOT NULL,
    event_id    text NOT NULL,
    consumed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- comparisons: a paired test between two runs on the same items (McNemar exact test, paired
-- bootstrap CI of the difference, Holm-corrected per subset in result).
CREATE TABLE comparisons (
    comparison_id text PRIMARY KEY,
    request_id    text REFERENCES requests (request_id),
    run_a         text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    run_b         text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    metric        text NOT NULL DEFAULT 'accuracy',
    diff          double precision,                -- b - a
    ci_low        double precision,
    ci_high       double precision,
    p_value       double precision,
    significant   boolean,
    result        jsonb NOT NULL DEFAULT '{}',     -- per-subset details
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_a, run_b, metric)
);

-- alerts: raised by `hret monitor`. alert_id is derived from (rule, run) so a replayed result
-- event raises nothing twice; the rule/model/dataset index serves the cooldown lookup.
CREATE TABLE alerts (
    alert_id        text PRIMARY KEY,
    rule            text NOT NULL,
    run_id          text REFERENCES runs (run_id) ON DELETE SET NULL,
    baseline_run_id text REFERENCES runs (run_id) ON DELETE SET NULL,
    model_name      text,
    dataset_name    text,
    metric          text,
    value           double precision,
    threshold       double precision,
    baseline_value  double precision,
    severity        text NOT NULL DEFAULT 'warning'
                    CHECK (severity IN ('info', 'warning', 'critical')),
    message         text NOT NULL,
    details         jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    notified_at     timestamptz                    -- webhooks delivered
);
CREATE INDEX alerts_rule_idx ON alerts (rule, model_name, dataset_name, created_at DESC);

-- bridge_state: per sink and run, the external object a bridge created (MLflow run id, W&B run
-- name) and how far it got (W&B file_stream line offsets per file), so a restarted bridge
-- resumes instead of duplicating.
CREATE TABLE bridge_state (
    sink           text NOT NULL,                  -- mlflow, wandb, tensorboard, webhook:<name>
    run_id         text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    external_id    text,
    state          text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'finished', 'failed')),
    offsets        jsonb NOT NULL DEFAULT '{}',
    last_event_id  text,
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sink, run_id)
);

-- datasets / dataset_items: imported benchmark versions (`hret dataset import`). version is the
-- SHA-256 of the items, so importing identical content again is a no-op and changed content
-- is a new version. kind 'samples' items are rendered by hret's loader (input, reference,
-- options, metadata); kind 'rows' items are raw Hugging Face rows in data.
CREATE TABLE datasets (
    dataset_id bigserial PRIMARY KEY,
    name       text NOT NULL,
    version    text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('samples', 'rows')),
    source     text NOT NULL,                      -- the directory or URL imported
    subsets    jsonb NOT NULL DEFAULT '[]',
    split      text,
    item_count integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);
CREATE INDEX datasets_name_idx ON datasets (name, created_at DESC);

CREATE TABLE dataset_items (
    dataset_id bigint NOT NULL REFERENCES datasets (dataset_id) ON DELETE CASCADE,
    item_idx   integer NOT NULL,
    item_id    text NOT NULL,
    subset     text,
    split      text,
    input      text,
    reference  text,
    options    jsonb,
    data       json,                               -- metadata ('samples') or the row ('rows')
    PRIMARY KEY (dataset_id, item_idx)
);
