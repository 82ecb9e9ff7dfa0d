-- Exact per-tenant counts of Users and Groups, and a list version, for paging big tenants
-- (src/scim/resources/list-page.ts). A list page reads `totalResults` from here instead of a
-- count(*) over the tenant, and remembers where each page ended to seek the next one; the
-- versions say whether a remembered position still holds.
--
-- Statement triggers keep the rows in the same transaction as every insert, update and delete,
-- whatever path writes (SCIM, Bulk, the console, SSO just-in-time users, a tenant's cascade,
-- a bulk INSERT … SELECT), and they keep working while a previous release writes during a
-- rolling deploy. A tenant's count is the sum of its slots: a writer adds to the slot of its
-- database session, so concurrent POSTs from different connections do not queue on one row.
--   n       resources now
--   moves   inserts + deletes ever (positions in the created_at order change only then)
--   changes inserts + deletes + updates ever (a filtered list's membership may change then too)
CREATE TABLE scim_resource_counts (
  tenant_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('User', 'Group')),
  slot smallint NOT NULL,
  n bigint NOT NULL DEFAULT 0,
  moves bigint NOT NULL DEFAULT 0,
  changes bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, kind, slot)
);

CREATE FUNCTION scim_resource_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO scim_resource_counts AS c (tenant_id, kind, slot, n, moves, changes)
  SELECT tenant_id, TG_ARGV[0], pg_backend_pid() % 16, count(*), count(*), count(*) FROM added GROUP BY tenant_id
  ON CONFLICT (tenant_id, kind, slot) DO UPDATE
    SET n = c.n + EXCLUDED.n, moves = c.moves + EXCLUDED.moves, changes = c.changes + EXCLUDED.changes;
  RETURN NULL;
END $$;

CREATE FUNCTION scim_resource_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO scim_resource_counts AS c (tenant_id, kind, slot, n, moves, changes)
  SELECT tenant_id, TG_ARGV[0], pg_backend_pid() % 16, -count(*), count(*), count(*) FROM removed GROUP BY tenant_id
  ON CONFLICT (tenant_id, kind, slot) DO UPDATE
    SET n = c.n + EXCLUDED.n, moves = c.moves + EXCLUDED.moves, changes = c.changes + EXCLUDED.changes;
  RETURN NULL;
END $$;

CREATE FUNCTION scim_resource_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO scim_resource_counts AS c (tenant_id, kind, slot, changes)
  SELECT tenant_id, TG_ARGV[0], pg_backend_pid() % 16, count(*) FROM changed GROUP BY tenant_id
  ON CONFLICT (tenant_id, kind, slot) DO UPDATE SET changes = c.changes + EXCLUDED.changes;
  RETURN NULL;
END $$;

CREATE TRIGGER scim_users_counted_insert AFTER INSERT ON scim_users REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION scim_resource_counts_added('User');
CREATE TRIGGER scim_users_counted_delete AFTER DELETE ON scim_users REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION scim_resource_counts_removed('User');
CREATE TRIGGER scim_users_counted_update AFTER UPDATE ON scim_users REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION scim_resource_counts_changed('User');
CREATE TRIGGER scim_groups_counted_insert AFTER INSERT ON scim_groups REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION scim_resource_counts_added('Group');
CREATE TRIGGER scim_groups_counted_delete AFTER DELETE ON scim_groups REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION scim_resource_counts_removed('Group');
CREATE TRIGGER scim_groups_counted_update AFTER UPDATE ON scim_groups REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION scim_resource_counts_changed('Group');

-- The counts so far. CREATE TRIGGER locks both tables against writes until this transaction
-- commits, so no write falls between these counts and the triggers.
INSERT INTO scim_resource_counts (tenant_id, kind, slot, n)
SELECT tenant_id, 'User', 0, count(*) FROM scim_users GROUP BY tenant_id;
INSERT INTO scim_resource_counts (tenant_id, kind, slot, n)
SELECT tenant_id, 'Group', 0, count(*) FROM scim_groups GROUP BY tenant_id;

