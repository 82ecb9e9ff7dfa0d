-- access.granted / access.revoked events (src/access/access-changes.ts, src/events/access-events.ts).
-- A write that may change someone's effective datasets records one compact access_changes row in
-- its own transaction (the cause and the affected scope, never the fan-out); the outbox worker
-- expands it in chunks of identities. Each chunk compares the identities' effective datasets now
-- with what was last announced to them (access_announced), emits one event per difference and
-- moves access_announced and the change's cursor in the same transaction: exactly once, and a
-- second route to the same dataset announces nothing.
CREATE TABLE access_changes (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  -- what happened, copied into every event it produces
  cause jsonb NOT NULL,
  -- {identities?, groups?, accessGroups?, datasets?: uuid[], all?: boolean}
  scope jsonb NOT NULL,
  -- the last identity id expanded (identities are expanded in id order)
  cursor uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, seq)
);

-- What each identity was last told it has: one row per (identity, dataset). No foreign key to the
-- identity or the dataset: a deleted one's rows stay until the worker has announced the revocation.
CREATE TABLE access_announced (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  identity_id uuid NOT NULL,
  dataset_id uuid NOT NULL,
  external_id text,
  name text,
  -- the routes it came through: [{type:'accessGroup', id, name} | {type:'grant', value}]
  via jsonb NOT NULL,
  PRIMARY KEY (tenant_id, identity_id, dataset_id)
);
CREATE INDEX access_announced_dataset ON access_announced (tenant_id, dataset_id);

-- Baseline: access that exists at upgrade time counts as announced (no burst of access.granted).
INSERT INTO access_announced (tenant_id, identity_id, dataset_id, external_id, name, via)
WITH RECURSIVE grp(tenant_id, identity_id, group_id) AS (
  SELECT gm.tenant_id, gm.member_id, gm.group_id FROM scim_group_members gm WHERE gm.member_type <> 'Group'
  UNION
  SELECT grp.tenant_id, grp.identity_id, gm.group_id
    FROM grp JOIN scim_group_members gm ON gm.tenant_id = grp.tenant_id AND gm.member_id = grp.group_id
    JOIN tenants t ON t.tenant_id = grp.tenant_id
   WHERE gm.member_type = 'Group' AND COALESCE((t.settings->>'nestedGroupsGrant')::boolean, false)
),
ag(tenant_id, identity_id, id, name) AS (
  SELECT grp.tenant_id, grp.identity_id, a.id, a.name
    FROM grp JOIN scim_groups sg ON sg.tenant_id = grp.tenant_id AND sg.id = grp.group_id
    JOIN access_groups a ON a.tenant_id = grp.tenant_id AND a.name = sg.display_name
  UNION
  SELECT m.tenant_id, m.identity_id, a.id, a.name
    FROM access_group_members m JOIN access_groups a ON a.tenant_id = m.tenant_id AND a.id = m.access_group_id
),
routes(tenant_id, identity_id, dataset_id, external_id, name, via) AS (
  SELECT ag.tenant_id, ag.identity_id, d.id, d.external_id, d.name,
         jsonb_build_object('type', 'accessGroup', 'id', ag.id, 'name', ag.name)
    FROM ag JOIN access_group_datasets x ON x.tenant_id = ag.tenant_id AND x.access_group_id = ag.id
    JOIN datasets d ON d.tenant_id = ag.tenant_id AND d.id = x.dataset_id
  UNION ALL
  SELECT gr.tenant_id, gr.identity_id, d.id, d.external_id, d.name, jsonb_build_object('type', 'grant', 'value', gr.value)
    FROM identity_grants gr JOIN datasets d ON d.tenant_id = gr.tenant_id AND (d.id = gr.value_id OR d.external_id = gr.value)
)
SELECT r.tenant_id, r.identity_id, r.dataset_id, min(r.external_id), min(r.name), jsonb_agg(DISTINCT r.via)
  FROM routes r JOIN scim_users u ON u.tenant_id = r.tenant_id AND u.id = r.identity_id
 WHERE u.active AND u.status <> 'suspended'
 GROUP BY r.tenant_id, r.identity_id, r.dataset_id;
