-- The audit append (src/audit/record.ts) as one call that needs no fallback and no per-call
-- planning: audit_append() advances the chain head or, for a chain's first entry, creates it (an
-- INSERT … ON CONFLICT DO UPDATE on audit_chains, which locks the head row until the transaction
-- ends, re-reading its newest version after waiting for a concurrent writer, so writers of one
-- chain serialise), stores the entry, and queues the audit.recorded event when an enabled webhook
-- of the tenant subscribes to audit.* or audit.recorded. PL/pgSQL keeps its statements' plans for
-- the session: PGlite, whose queries are parsed and planned on every call, would otherwise plan
-- the whole append each time (~0.4 ms of its ~0.7 ms).
--
-- The hash is the one the verifier recomputes (src/audit/entry.ts entryHash): sha256 over the
-- entry's canonical JSON, passed cut where its chain position goes (p_pre, previous hash, p_mid,
-- seq, p_post); the genesis hash is 64 zeros and a chain starts at seq 1, as before.
--
-- audit_chains.prev_hash: RETURNING of DO UPDATE sees only the new row, so the head keeps the hash
-- it replaced. Expand only: nullable, and rows written by processes without this code leave it
-- stale, which nothing reads (every append rewrites it from the head's own hash).
ALTER TABLE audit_chains ADD COLUMN prev_hash text;

CREATE FUNCTION audit_append(
  p_chain text, p_pre text, p_mid text, p_post text, p_tenant_id uuid, p_at timestamptz, p_actor_kind text, p_actor_id text,
  p_actor_login text, p_action text, p_outcome text, p_target_type text, p_target_id text, p_changes jsonb, p_client_ip text,
  p_user_agent text, p_request_id text, p_event_id uuid, p_event_type text,
  OUT entry_id bigint, OUT entry_seq bigint, OUT entry_hash text, OUT entry_prev_hash text)
LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO audit_chains AS c (chain, seq, prev_hash, hash)
  VALUES (p_chain, 1, '0000000000000000000000000000000000000000000000000000000000000000',
          encode(sha256(convert_to(p_pre || '0000000000000000000000000000000000000000000000000000000000000000' || p_mid || '1' || p_post, 'UTF8')), 'hex'))
  ON CONFLICT (chain) DO UPDATE
     SET seq = c.seq + 1,
         prev_hash = c.hash,
         hash = encode(sha256(convert_to(p_pre || c.hash || p_mid || (c.seq + 1)::text || p_post, 'UTF8')), 'hex')
  RETURNING c.seq, c.hash, c.prev_hash INTO entry_seq, entry_hash, entry_prev_hash;
  INSERT INTO audit_log (chain, seq, tenant_id, at, actor_kind, actor_id, actor_login, action, outcome, target_type, target_id,
                         changes, client_ip, user_agent, request_id, prev_hash, hash)
  VALUES (p_chain, entry_seq, p_tenant_id, p_at, p_actor_kind, p_actor_id, p_actor_login, p_action, p_outcome, p_target_type, p_target_id,
          p_changes, p_client_ip, p_user_agent, p_request_id, entry_prev_hash, entry_hash)
  RETURNING id INTO entry_id;
  IF p_tenant_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM webhooks w WHERE w.tenant_id = p_tenant_id AND w.enabled
       AND ('audit.*' = ANY (w.event_types) OR 'audit.recorded' = ANY (w.event_types))) THEN
    INSERT INTO events (tenant_id, id, type, data)
    VALUES (p_tenant_id, p_event_id, p_event_type,
            jsonb_build_object('action', p_action, 'outcome', p_outcome,
              'actor', jsonb_build_object('kind', p_actor_kind, 'id', p_actor_id, 'login', p_actor_login),
              'target', CASE WHEN p_target_type IS NULL THEN NULL ELSE jsonb_build_object('type', p_target_type, 'id', p_target_id) END,
              'changes', p_changes, 'at', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'clientIp', p_client_ip, 'requestId', p_request_id, 'chainSeq', entry_seq, 'hash', entry_hash));
  END IF;
END
$fn$;
