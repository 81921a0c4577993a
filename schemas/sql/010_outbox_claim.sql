-- The relay claims a batch of unpublished outbox rows until claimed_until instead of holding
-- their row locks in a transaction while Kafka answers (issue 16 item 6): a relay produces its
-- batch, marks published what the delivery reports confirmed on its later turns and releases
-- what failed; a claim outlives the producer's message timeout, so another relay takes a row
-- only once its first relay has given up on it (or died).
ALTER TABLE outbox ADD COLUMN claimed_until timestamptz;
