-- Sign-in connections, round two (issue 20): SAML service-provider keys, signed AuthnRequests, JIT
-- groups, and any number of OIDC connections per tenant.

-- SAML: the SP's own key pairs, generated per connection. The private keys are stored encrypted
-- under IDPBRIDGE_SECRET_KEY (src/lib/secret-box.ts); the certificates (PEM) are published in the
-- SP metadata: the encryption certificate for encrypted assertions, the signing certificate when
-- AuthnRequests are signed.
ALTER TABLE sso_connections ADD COLUMN sp_signing_key text;
ALTER TABLE sso_connections ADD COLUMN sp_signing_cert text;
ALTER TABLE sso_connections ADD COLUMN sp_encryption_key text;
ALTER TABLE sso_connections ADD COLUMN sp_encryption_cert text;
ALTER TABLE sso_connections ADD COLUMN sign_authn_requests boolean NOT NULL DEFAULT false;
-- SAML JIT: the attribute carrying the user's group names (null: Entra's and Okta's usual names).
ALTER TABLE sso_connections ADD COLUMN jit_groups_attribute text;

-- OIDC: a connection with its own OpenID Connect client ({issuer, discoveryUrl, clientId,
-- identityClaims}); null for the connection that stands for the tenant's OIDC configuration
-- (idp_oidc_configs, PUT …/oidc). Its client secret is stored encrypted.
ALTER TABLE sso_connections ADD COLUMN oidc_settings jsonb;
ALTER TABLE sso_connections ADD COLUMN oidc_client_secret text;

-- Several OIDC connections per tenant: only the one standing for the tenant's configuration stays
-- unique. A process of the previous release inserts that one only (without oidc_settings), so the
-- narrower index still refuses its duplicates.
DROP INDEX sso_connections_one_oidc;
CREATE UNIQUE INDEX sso_connections_tenant_oidc ON sso_connections (tenant_id) WHERE type = 'oidc' AND oidc_settings IS NULL;

-- An OIDC sign-in in flight remembers its connection (null: the tenant's OIDC configuration, as
-- every sign-in a process of the previous release starts).
ALTER TABLE sso_states ADD COLUMN connection_id uuid;
