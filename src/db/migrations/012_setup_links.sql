-- Set-up links (src/console/setup-links.ts): a time-limited, revocable link the operator (or the host
-- product) hands a customer's IT admin. Its secret is stored hashed; opening the link starts a console
-- session scoped to the link's tenant (console_sessions.setup_link_id), which ends when the link is
-- revoked or expires. Expand only: processes without this code refuse such sessions (no account).
CREATE TABLE setup_links (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  secret_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_used_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);

ALTER TABLE console_sessions ADD COLUMN setup_link_id uuid;
CREATE INDEX console_sessions_setup_link ON console_sessions (tenant_id, setup_link_id) WHERE setup_link_id IS NOT NULL;
