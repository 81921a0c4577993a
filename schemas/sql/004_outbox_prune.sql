-- The workers prune published outbox rows older than outbox.retention_s (hret_worker_prune); this
-- index finds them without reading the whole table.
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
