-- Console (issue 7): tenant-admin accounts and browser sessions.
-- Accounts are tenant-owned: primary key (tenant_id, id), gone with their tenant.
CREATE TABLE console_accounts (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  login text NOT NULL,
  display_name text,
  -- scrypt (memory-hard), see src/tenants/secrets.ts
  password_hash text NOT NULL,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  disabled_at timestamptz,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX console_accounts_login ON console_accounts (tenant_id, lower(login));

-- Sign-in needs no tenant id, so a login name is unique across tenants. This small lookup table
-- is global (a reference table under Citus); a unique index across tenants on console_accounts
-- itself would break partitioning by tenant_id.
CREATE TABLE console_logins (
  login text PRIMARY KEY, -- lower-cased
  tenant_id uuid NOT NULL,
  account_id uuid NOT NULL,
  FOREIGN KEY (tenant_id, account_id) REFERENCES console_accounts (tenant_id, id) ON DELETE CASCADE
);

-- Sessions are looked up by the SHA-256 of the cookie value (the secret itself is never stored).
-- Operator sessions belong to no tenant (tenant_id NULL); tenant-admin sessions go with their
-- tenant and account. Kept in the database so any idpbridge process can serve any request.
CREATE TABLE console_sessions (
  token_hash text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('operator', 'tenant_admin')),
  tenant_id uuid REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  account_id uuid,
  csrf_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  CHECK ((kind = 'operator') = (tenant_id IS NULL)),
  FOREIGN KEY (tenant_id, account_id) REFERENCES console_accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX console_sessions_account ON console_sessions (tenant_id, account_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
