-- hret monitor: what it needs beyond the alerts table of 001.
--
-- monitor_state: one row per dedupe key (rule, model, dataset): the alert that is open (raised
-- and not resolved yet) and when the key last raised, for the cooldown. Rows are locked FOR
-- UPDATE while a run is evaluated, so two monitors never raise the same key twice.
CREATE TABLE monitor_state (
    dedupe_key     text PRIMARY KEY,
    rule           text NOT NULL,
    model_name     text,
    dataset_name   text,
    open_alert_id  text,                           -- NULL: healthy
    last_raised_at timestamptz,
    suppressed     integer NOT NULL DEFAULT 0,     -- firings swallowed by the cooldown
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- monitor_evaluations: each (dedupe key, run) evaluated once, so a redelivered result event
-- (at-least-once Kafka, a restarted monitor) decides nothing twice.
CREATE TABLE monitor_evaluations (
    dedupe_key text NOT NULL,
    run_id     text NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('ok', 'raised', 'suppressed', 'resolved',
                                                'firing', 'unknown')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dedupe_key, run_id)
);

ALTER TABLE alerts ADD COLUMN dedupe_key text;
ALTER TABLE alerts ADD COLUMN resolved_at timestamptz;
ALTER TABLE alerts ADD COLUMN resolved_by_run text;

-- alert_deliveries: one notice (an alert's trigger or its resolve) to one configured channel,
-- written in the transaction that raised or resolved the alert and marked once the channel
-- accepted it. The monitor acknowledges a result event only when its notices are delivered (or
-- refused for good), so a restart neither loses nor repeats a notification.
CREATE TABLE alert_deliveries (
    notice_id    text NOT NULL,                    -- alert_id, or alert_id || ':resolved'
    channel      text NOT NULL,                    -- monitor.channels[].name
    alert_id     text NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
    action       text NOT NULL CHECK (action IN ('trigger', 'resolve')),
    payload      jsonb NOT NULL,                   -- the alert (or resolve) event data
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    delivered_at timestamptz,
    gave_up_at   timestamptz,                      -- refused for good (a 4xx): not retried
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notice_id, channel)
);
CREATE INDEX alert_deliveries_pending_idx ON alert_deliveries (created_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;
