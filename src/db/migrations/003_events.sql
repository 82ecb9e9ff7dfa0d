-- Events: transactional outbox, webhooks and their deliveries, invitations, provisioning log.
-- Primary keys start with tenant_id; worker claim queries scan across tenants through small
-- partial indexes, every per-row statement filters by tenant_id.

-- The outbox: one row per event, inserted in the transaction of the change it describes.
CREATE TABLE events (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  -- commit-independent order of insertion; per tenant, deliveries follow it
  seq bigint GENERATED ALWAYS AS IDENTITY,
  type text NOT NULL,
  data jsonb NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  -- set when fanned out to deliveries and invitations (exactly once, in one transaction)
  dispatched_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_tenant_seq ON events (tenant_id, seq);
CREATE INDEX events_undispatched ON events (tenant_id, seq) WHERE dispatched_at IS NULL;

CREATE TABLE webhooks (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id uuid NOT NULL,
  url text NOT NULL,
  -- HMAC key: needed in clear to sign; shown once at creation, only a hint afterwards
  secret text NOT NULL,
  secret_hint text NOT NULL,
  description text,
  -- empty = every event; items are exact types, 'prefix.*' or '*'
  event_types text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  -- the head delivery failed: nothing is attempted before this (ordering + backoff)
  blocked_until timestamptz,
  -- a worker holds this webhook's queue until lease_until (crash-safe: leases expire)
  lease_owner uuid,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
  tenant_id uuid NOT NULL,
  webhook_id uuid NOT NULL,
  event_id uuid NOT NULL,
  event_seq bigint NOT NULL,
  -- pending | delivered | dead
  state text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz,
  last_status integer,
  last_error text,
  delivered_at timestamptz,
  dead_at timestamptz,
  -- start of the retry window (reset by a manual redelivery)
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, webhook_id, event_id),
  FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (tenant_id, webhook_id, event_seq) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (tenant_id, webhook_id, event_seq);
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (tenant_id, dead_at) WHERE state = 'dead';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (tenant_id, event_id);

-- Activation e-mails, one per provisioned user, fanned out from user.created events.
CREATE TABLE invitations (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  user_id uuid NOT NULL,
  event_id uuid NOT NULL,
  email text NOT NULL,
  display_name text,
  -- pending | sending | sent | failed | cancelled
  state text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner uuid,
  lease_until timestamptz,
  message_id text NOT NULL,
  last_error text,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX invitations_due ON invitations (next_attempt_at) WHERE state IN ('pending', 'sending');

-- One row per authenticated SCIM request, written off the response path in batches.
CREATE TABLE provisioning_log (
  tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
  id bigint GENERATED ALWAYS AS IDENTITY,
  at timestamptz NOT NULL,
  method text NOT NULL,
  path text NOT NULL,
  idp text NOT NULL,
  user_agent text,
  credential_id text,
  operation text NOT NULL,
  outcome text NOT NULL,
  status integer NOT NULL,
  resource_type text,
  resource_id text,
  summary jsonb,
  error jsonb,
  duration_ms real,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX provisioning_log_at ON provisioning_log (tenant_id, at, id);
CREATE INDEX provisioning_log_resource ON provisioning_log (tenant_id, resource_id, at) WHERE resource_id IS NOT NULL;
