-- Per-identity and per-access-group overrides of the tenant's provisioning defaults
-- (newUserStatus, automaticInvitation); NULL = inherit. Resolution: identity > access groups >
-- tenant (access/provisioning-overrides.ts, docs/access-model.md). Expand-only: new nullable
-- columns and a new table; code that does not know them keeps working.
ALTER TABLE access_groups ADD COLUMN new_user_status text CHECK (new_user_status IN ('staged', 'active'));
ALTER TABLE access_groups ADD COLUMN automatic_invitation boolean;

CREATE TABLE identity_provisioning_overrides (
  tenant_id uuid NOT NULL,
  identity_id uuid NOT NULL,
  new_user_status text CHECK (new_user_status IN ('staged', 'active')),
  automatic_invitation boolean,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, identity_id),
  FOREIGN KEY (tenant_id, identity_id) REFERENCES scim_users (tenant_id, id) ON DELETE CASCADE
);
