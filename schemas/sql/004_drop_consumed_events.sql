-- consumed_events (001) was meant as a shared dedupe table for the consumers of the results
-- topic, but nothing ever wrote or read it: every consumer dedupes on state of its own, written
-- in the transaction of its effect. The worker: requests by request_id, shards by their status
-- and lease; the bridges: bridge_state (what a sink created for a run or delivery); the monitor:
-- monitor_evaluations (each dedupe key and run evaluated once). Dropped so the schema says what
-- is true.
DROP TABLE IF EXISTS consumed_events;
