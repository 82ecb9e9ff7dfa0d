-- Retention deletes events older than each tenant's cut-off in one statement
-- (src/events/retention.ts). Events are appended in time order, so a BRIN index on occurred_at
-- finds the old block ranges at a fraction of a B-tree's size and write cost.
CREATE INDEX events_occurred_brin ON events USING brin (occurred_at);
