-- E-mail domains a tenant claims for sign-in routing (GET /sso/login?email=…), each proved by a DNS
-- TXT record idpbridge shows. Only verified domains route; no two tenants can hold the same
-- verified domain (the partial unique index), though several may claim it while unverified.
CREATE TABLE sso_domains (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  domain text NOT NULL,
  verification_token text NOT NULL,
  verified_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, domain)
);
CREATE UNIQUE INDEX sso_domains_verified ON sso_domains (domain) WHERE verified_at IS NOT NULL;
