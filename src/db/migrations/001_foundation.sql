-- Foundation: tenants, credentials, SCIM users and groups.
-- Every tenant-owned table's primary key starts with tenant_id so the schema can be
-- partitioned (or distributed with Citus) by tenant without change.

CREATE TABLE system_settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenants (
  tenant_id uuid PRIMARY KEY,
  name text NOT NULL,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE scim_tokens (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  name text NOT NULL,
  token_hash text NOT NULL,
  token_hint text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX scim_tokens_hash ON scim_tokens (tenant_id, token_hash);

CREATE TABLE scim_basic_credentials (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  username text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);

CREATE TABLE scim_users (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  user_name text NOT NULL,
  external_id text,
  display_name text,
  active boolean NOT NULL DEFAULT true,
  -- the SCIM resource as stored (core + extensions), without id, meta, groups, password
  data jsonb NOT NULL,
  password_hash text,
  source text NOT NULL DEFAULT 'scim',
  status text NOT NULL DEFAULT 'active',
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- userName is unique per tenant, case-insensitively (RFC 7643 caseExact=false, uniqueness=server)
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (tenant_id, lower(user_name));
CREATE INDEX scim_users_external_id ON scim_users (tenant_id, external_id);
CREATE INDEX scim_users_created ON scim_users (tenant_id, created_at, id);

CREATE TABLE scim_groups (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  display_name text NOT NULL,
  external_id text,
  data jsonb NOT NULL,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- exact name: access groups link by exact displayName; lower(): SCIM filters (caseExact=false)
CREATE INDEX scim_groups_display_name ON scim_groups (tenant_id, display_name);
CREATE UNIQUE INDEX scim_groups_display_name_ci ON scim_groups (tenant_id, lower(display_name));
CREATE INDEX scim_groups_external_id ON scim_groups (tenant_id, external_id);
CREATE INDEX scim_groups_created ON scim_groups (tenant_id, created_at, id);

-- Membership rows: add = one INSERT .. ON CONFLICT DO NOTHING, remove = one DELETE by id list,
-- both O(batch) whatever the group size.
CREATE TABLE scim_group_members (
  tenant_id uuid NOT NULL,
  group_id uuid NOT NULL,
  member_id uuid NOT NULL,
  member_type text NOT NULL DEFAULT 'User',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, group_id, member_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES scim_groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_group_members_member ON scim_group_members (tenant_id, member_id);
