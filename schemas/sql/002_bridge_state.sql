-- bridge_state rows are per sink and subject: a run id, or a comparison id for the webhook sink
-- (hret.comparison.completed.v1 belongs to no single run), so run_id becomes subject and its
-- foreign key to runs goes. Rows of deleted runs stay behind; they are small and harmless.
ALTER TABLE bridge_state DROP CONSTRAINT bridge_state_run_id_fkey;
ALTER TABLE bridge_state RENAME COLUMN run_id TO subject;
