-- Sign-in connections (issue 20): a tenant signs in through any number of connections, OIDC or
-- SAML 2.0, each with an id, a name and the e-mail domains it serves.

-- The OIDC connection stands for the tenant's OIDC configuration (idp_oidc_configs, one per
-- tenant, so at most one OIDC connection). A SAML connection carries its IdP's settings here.
CREATE TABLE sso_connections (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  type text NOT NULL CHECK (type IN ('oidc', 'saml')),
  name text NOT NULL,
  -- lower-case e-mail domains this connection serves (routing uses only verified ones)
  domains text[] NOT NULL DEFAULT '{}',
  -- SAML: the IdP (from its metadata), up to two signing certificates (PEM bodies) during rotation
  idp_entity_id text,
  idp_sso_url text,
  idp_certs text[] NOT NULL DEFAULT '{}',
  idp_metadata_xml text,
  idp_metadata_url text,
  -- SAML: unsolicited (IdP-initiated) responses are refused unless this is set
  allow_idp_initiated boolean NOT NULL DEFAULT false,
  -- create / update the identity from the assertion at sign-in (customers without SCIM)
  jit_provisioning boolean NOT NULL DEFAULT false,
  -- SAML: [{ "from": "nameID" | <attribute name>, "to": "userName" | "externalId" }], tried in order
  identity_mapping jsonb,
  clock_skew_seconds integer NOT NULL DEFAULT 120,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX sso_connections_one_oidc ON sso_connections (tenant_id) WHERE type = 'oidc';

-- The existing OIDC configurations become their tenants' first connection.
INSERT INTO sso_connections (tenant_id, id, type, name, created_at, updated_at)
SELECT tenant_id, gen_random_uuid(), 'oidc', 'OIDC', created_at, created_at FROM idp_oidc_configs
ON CONFLICT DO NOTHING;

-- SP-initiated SAML sign-ins in flight, keyed by the SHA-256 of the RelayState: the AuthnRequest
-- ID the response must answer (InResponseTo) and the browser that started it. Consumed once with
-- DELETE … RETURNING, so any process can finish a sign-in another started.
CREATE TABLE sso_saml_requests (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  relay_hash text NOT NULL,
  connection_id uuid NOT NULL,
  request_id text NOT NULL,
  browser_hash text NOT NULL,
  redirect_uri text NOT NULL,
  client_state text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, relay_hash)
);
CREATE INDEX sso_saml_requests_expires ON sso_saml_requests (expires_at);

-- Assertion IDs already used, kept until the assertion's NotOnOrAfter (replay refusal).
CREATE TABLE sso_saml_assertions_used (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  connection_id uuid NOT NULL,
  assertion_id text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, connection_id, assertion_id)
);
CREATE INDEX sso_saml_assertions_used_expires ON sso_saml_assertions_used (expires_at);
