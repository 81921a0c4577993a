-- The fleet budget of a model (fleet_rpm, fleet_tpm, fleet_max_inflight): each worker that
-- runs the model holds a short lease here, renewed every second while it has demand; the live
-- leases (expires_at in the future) split the budget evenly, so a dead worker's share returns
-- to the others when its lease expires, within seconds. Rows are small and few (workers x
-- models); expired ones are deleted by the next renewal of that model.
CREATE TABLE model_budget_leases (
    model      text NOT NULL,
    holder     text NOT NULL,                      -- worker id: host, pid and a random tag
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (model, holder)
);
