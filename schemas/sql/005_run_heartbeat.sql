-- hret run's heartbeat: the process refreshes heartbeat_at on its run row while it runs, so a
-- row left `running` by a process that died (or whose final write failed) is told apart: a
-- running row whose heartbeat is older than two minutes is shown as `abandoned`. Rows written
-- by the fleet keep it NULL (their shards have leases instead) and are never shown abandoned.
ALTER TABLE runs ADD COLUMN heartbeat_at timestamptz;
