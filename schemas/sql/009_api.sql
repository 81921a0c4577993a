-- hret api (issue 22). Forward-only, like every migration.

-- api_requests: a request accepted over HTTP, written in the transaction that adds its outbox
-- row, so an accepted request is answered (GET /v1/requests/{id}: status "accepted") and
-- published even while Kafka is down. The worker's own `requests` row appears once a worker has
-- consumed it. token_name is the name of the bearer token that submitted it (never the token).
-- (token_name, idempotency_key) makes a retried POST with the same Idempotency-Key name the
-- same request; body_hash tells a retry from a different body under a reused key.
CREATE TABLE api_requests (
    request_id      text PRIMARY KEY,
    token_name      text NOT NULL,
    idempotency_key text,
    body_hash       text NOT NULL,                 -- SHA-256 hex of the normalised request
    spec            jsonb NOT NULL,                -- the normalised request as published
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (token_name, idempotency_key)
);

-- The SSE stream of a request reads its result events from the outbox by request id.
CREATE INDEX outbox_request_idx ON outbox ((payload->>'request_id'), id);
