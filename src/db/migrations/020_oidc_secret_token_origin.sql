-- Issue 17 item 7: the origin of the token endpoint the stored OIDC client secret was first sent
-- to (pinned at first use). When the IdP's discovery document later names a token endpoint on
-- another origin, the secret is forgotten instead of being sent there. NULL: not used yet.
-- Expand-only: the previous release neither reads nor writes it.
ALTER TABLE idp_oidc_configs ADD COLUMN client_secret_token_origin text;
