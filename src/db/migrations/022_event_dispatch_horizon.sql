-- Dispatch passes that cost what the new events cost, not what the number of tenants costs
-- (src/events/dispatch.ts). Finding the tenants with events past their cursor by probing every
-- tenant's cursor is one index probe per tenant per pass, with or without new events. Instead a
-- pass reads the events written since a global horizon — every event with a txid below it has
-- been fanned out — through an index on txid, and moves the horizon up once it has fanned out
-- everything it found.
CREATE INDEX events_txid ON events (txid) INCLUDE (tenant_id, seq) WHERE txid IS NOT NULL;

CREATE TABLE event_dispatch_horizon (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- events with txid below this are at or before their tenant's cursor
  txid xid8 NOT NULL
);

-- The first pending event of any tenant, else the oldest transaction that may still write one.
INSERT INTO event_dispatch_horizon (txid)
SELECT COALESCE(
  (SELECT min(p.txid) FROM tenants t LEFT JOIN event_cursors cur ON cur.tenant_id = t.tenant_id
     CROSS JOIN LATERAL (
       SELECT e.txid FROM events e
        WHERE e.tenant_id = t.tenant_id AND e.txid IS NOT NULL
          AND (e.txid, e.seq) > (COALESCE(cur.txid, '0'::xid8), COALESCE(cur.seq, 0))
        ORDER BY e.txid, e.seq LIMIT 1) p),
  pg_snapshot_xmin(pg_current_snapshot()));
