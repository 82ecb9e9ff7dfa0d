-- Provisioning health (GET …/provisioning-health) shows the last request of each IdP a tenant has
-- seen. With this index that is one short probe per IdP (a loose index scan over the few distinct
-- idp values) instead of a scan of the tenant's whole log. Expand-only: an index, nothing removed.
CREATE INDEX provisioning_log_idp_at ON provisioning_log (tenant_id, idp, at);
