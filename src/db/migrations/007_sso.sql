-- Sign-in broker (issue 10): OIDC authorization code + PKCE against the tenant's IdP, built-in
-- passwords for guests, and idpbridge-signed tokens for the host product.

-- The OIDC client idpbridge signs in with (the tenant's IdP application). The secret must be usable
-- at the token endpoint, so it is stored as entered; the admin API never returns it.
ALTER TABLE idp_oidc_configs ADD COLUMN client_id text;
ALTER TABLE idp_oidc_configs ADD COLUMN client_secret text;

-- Where the host product may be sent back to, per tenant: exact match, nothing else.
CREATE TABLE sso_redirect_uris (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  uri text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX sso_redirect_uris_uri ON sso_redirect_uris (tenant_id, uri);

-- Pending sign-ins, keyed by the SHA-256 of the `state` sent to the IdP. Consumed by the callback
-- with DELETE … RETURNING (single use, whichever process serves it); expired rows are swept.
CREATE TABLE sso_states (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  state_hash text NOT NULL,
  -- SHA-256 of the browser-binding cookie set by /login (login CSRF)
  browser_hash text NOT NULL,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  redirect_uri text NOT NULL,
  client_state text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, state_hash)
);
CREATE INDEX sso_states_expires ON sso_states (expires_at);

-- Per-identity login method: no row = 'idp' (the default). 'password' = built-in scrypt password
-- for guests who are not in the IdP. Gone with the identity.
CREATE TABLE sso_login_methods (
  tenant_id uuid NOT NULL,
  identity_id uuid NOT NULL,
  method text NOT NULL CHECK (method IN ('idp', 'password')),
  password_hash text,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  last_login_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, identity_id),
  FOREIGN KEY (tenant_id, identity_id) REFERENCES scim_users (tenant_id, id) ON DELETE CASCADE,
  CHECK (method = 'idp' OR password_hash IS NOT NULL)
);

-- Installation-wide token signing keys (not tenant data, like console_logins: a reference table
-- under Citus). One key per rotation period ("generation"): the unique generation makes concurrent
-- processes agree on a single key per period without a lock.
CREATE TABLE sso_signing_keys (
  generation bigint PRIMARY KEY,
  kid text NOT NULL UNIQUE,
  alg text NOT NULL,
  private_jwk jsonb NOT NULL,
  public_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
