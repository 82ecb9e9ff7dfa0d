-- Access model: access groups, datasets, grants, manual memberships, identity API keys.
-- Identities are the rows of scim_users (source 'scim' | 'manual', status 'staged' | 'active' | 'suspended').
-- Links are derived at query time, never copied:
--   * an access group is linked to the SCIM group whose display_name equals its name exactly
--     (joined through scim_groups_display_name (tenant_id, display_name));
--   * a direct grant value resolves to the dataset whose id or external_id equals it, whenever that
--     dataset exists (so unknown values start granting as soon as the dataset is created).
-- Every primary key starts with tenant_id (partitionable / distributable by tenant).

CREATE TABLE access_groups (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  name text NOT NULL,
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- exact (case-sensitive) name: the link key to scim_groups.display_name
CREATE UNIQUE INDEX access_groups_name ON access_groups (tenant_id, name);

CREATE TABLE datasets (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  name text NOT NULL,
  external_id text,
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX datasets_name ON datasets (tenant_id, name);
CREATE UNIQUE INDEX datasets_external_id ON datasets (tenant_id, external_id) WHERE external_id IS NOT NULL;

-- access group -> dataset
CREATE TABLE access_group_datasets (
  tenant_id uuid NOT NULL,
  access_group_id uuid NOT NULL,
  dataset_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, access_group_id, dataset_id),
  FOREIGN KEY (tenant_id, access_group_id) REFERENCES access_groups (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, dataset_id) REFERENCES datasets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX access_group_datasets_dataset ON access_group_datasets (tenant_id, dataset_id);

-- identities added to an access group by hand (the IdP-linked members are derived, not stored)
CREATE TABLE access_group_members (
  tenant_id uuid NOT NULL,
  access_group_id uuid NOT NULL,
  identity_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, access_group_id, identity_id),
  FOREIGN KEY (tenant_id, access_group_id) REFERENCES access_groups (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, identity_id) REFERENCES scim_users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX access_group_members_identity ON access_group_members (tenant_id, identity_id);

-- direct grants: the raw values of the identity's grants attribute (split, trimmed, deduplicated);
-- value_id is the value read as a uuid when it has that shape (matches datasets.id).
CREATE TABLE identity_grants (
  tenant_id uuid NOT NULL,
  identity_id uuid NOT NULL,
  value text NOT NULL,
  value_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, identity_id, value),
  FOREIGN KEY (tenant_id, identity_id) REFERENCES scim_users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX identity_grants_value ON identity_grants (tenant_id, value);
CREATE INDEX identity_grants_value_id ON identity_grants (tenant_id, value_id) WHERE value_id IS NOT NULL;

-- API keys of identities: SHA-256 of the secret at rest; `auto` keys follow their identity
-- (named after its userName). A key is usable when not disabled and its identity is not suspended.
CREATE TABLE identity_api_keys (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  identity_id uuid NOT NULL,
  name text NOT NULL,
  key_hash text NOT NULL,
  key_hint text NOT NULL,
  auto boolean NOT NULL DEFAULT false,
  disabled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, identity_id) REFERENCES scim_users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX identity_api_keys_hash ON identity_api_keys (tenant_id, key_hash);
CREATE INDEX identity_api_keys_identity ON identity_api_keys (tenant_id, identity_id);
