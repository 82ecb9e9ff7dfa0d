-- Audit trail (src/audit, docs/audit.md): who changed what, when and from where. Entries form one
-- hash chain per tenant and one for operator-wide entries ('operator'); `audit_chains` holds each
-- chain's head (last seq and hash), locked by the writer so concurrent writers of one chain
-- serialise. No foreign key to tenants: a deleted tenant's entries stay until retention ends or
-- the operator purges them. Expand only: processes without this code never read these tables.
CREATE TABLE audit_chains (
  chain text PRIMARY KEY,
  seq bigint NOT NULL,
  hash text NOT NULL
);

CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY,
  chain text NOT NULL,
  seq bigint NOT NULL,
  tenant_id uuid,
  at timestamptz NOT NULL,
  actor_kind text NOT NULL,
  actor_id text,
  actor_login text,
  action text NOT NULL,
  outcome text NOT NULL,
  target_type text,
  target_id text,
  changes jsonb NOT NULL DEFAULT '{}'::jsonb,
  client_ip text,
  user_agent text,
  request_id text,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (chain, seq),
  UNIQUE (id)
);

CREATE INDEX audit_log_tenant_id ON audit_log (tenant_id, id);
CREATE INDEX audit_log_at ON audit_log (at);
