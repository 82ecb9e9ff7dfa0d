-- IdP tokens: per-tenant OpenID Connect configuration (issue 5).
-- Discovery documents and JWKS are cached in memory by each process (short-lived, refetched on
-- unknown kid); only what the tenant admin entered is stored. Derived values (accepted issuers,
-- provider defaults) are recomputed on read.

CREATE TABLE idp_oidc_configs (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  provider text NOT NULL CHECK (provider IN ('entra', 'okta', 'generic')),
  issuer text NOT NULL,
  additional_issuers jsonb NOT NULL DEFAULT '[]'::jsonb,
  discovery_url text,
  jwks_uri text,
  audiences jsonb NOT NULL,
  algorithms jsonb NOT NULL,
  identity_claims jsonb NOT NULL,
  groups_claim text NOT NULL DEFAULT 'groups',
  groups_match text NOT NULL DEFAULT 'displayName' CHECK (groups_match IN ('externalId', 'displayName')),
  clock_tolerance_seconds integer NOT NULL DEFAULT 60,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);
