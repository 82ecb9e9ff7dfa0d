-- userName prefix filters (`userName sw "…"`, and gt/ge/lt/le): compile-sql.ts emits
-- `lower(r.user_name) LIKE lower($n) ESCAPE '\'` and `lower(r.user_name) COLLATE "C" > lower($n)`.
-- A btree serves a LIKE prefix as a range only under the C collation, which the database's default
-- collation (C.UTF-8 and most others) is not; this index is, so a prefix is a range scan. user_name as
-- INCLUDE makes the count of a filtered list's total an index-only scan (the planner wants the
-- column itself to be in the index, not only lower() of it). A plain CREATE INDEX: migrations run in
-- a transaction (CONCURRENTLY cannot), and PGlite builds it the same way; it holds writes to
-- scim_users for the build, about 1.5 s per million users.
CREATE INDEX scim_users_user_name_c ON scim_users (tenant_id, (lower(user_name) COLLATE "C")) INCLUDE (user_name);

-- The count triggers (018) lock one scim_resource_counts row per (tenant, kind, slot). Two
-- transactions whose sessions share a slot and that write a User and a Group in opposite orders
-- (SCIM Bulk, the console) would each hold one row and wait for the other's: a deadlock. Every
-- trigger first takes a transaction-scoped advisory lock on (tenant, slot), so such writers queue
-- on that lock before either holds a row. Several tenants in one statement are locked in order.
CREATE FUNCTION scim_resource_counts_lock(tenants uuid[]) RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtext('idpbridge.counts'), hashtext(t::text || ':' || (pg_backend_pid() % 16)))
    FROM (SELECT t FROM unnest(tenants) AS t ORDER BY 1) x;
$$;

CREATE OR REPLACE FUNCTION scim_resource_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM scim_resource_counts_lock(array(SELECT DISTINCT tenant_id FROM added));
  INSERT INTO scim_resource_counts AS c (tenant_id, kind, slot, n, moves, changes)
  SELECT tenant_id, TG_ARGV[0], pg_backend_pid() % 16, count(*), count(*), count(*) FROM added GROUP BY tenant_id
  ON CONFLICT (tenant_id, kind, slot) DO UPDATE
    SET n = c.n + EXCLUDED.n, moves = c.moves + EXCLUDED.moves, changes = c.changes + EXCLUDED.changes;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION scim_resource_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM scim_resource_counts_lock(array(SELECT DISTINCT tenant_id FROM removed));
  INSERT INTO scim_resource_counts AS c (tenant_id, kind, slot, n, moves, changes)
  SELECT tenant_id, TG_ARGV[0], pg_backend_pid() % 16, -count(*), count(*), count(*) FROM removed GROUP BY tenant_id
  ON CONFLICT (tenant_id, kind, slot) DO UPDATE
    SET n = c.n + EXCLUDED.n, moves = c.moves + EXCLUDED.moves, changes = c.changes + EXCLUDED.changes;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION scim_resource_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM scim_resource_counts_lock(array(SELECT DISTINCT tenant_id FROM changed));
  INSERT INTO scim_resource_counts AS c (tenant_id, kind, slot, changes)
  SELECT tenant_id, TG_ARGV[0], pg_backend_pid() % 16, count(*) FROM changed GROUP BY tenant_id
  ON CONFLICT (tenant_id, kind, slot) DO UPDATE SET changes = c.changes + EXCLUDED.changes;
  RETURN NULL;
END $$;
