import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Database, Transaction } from '../db/types.js';
import { inRequestTransaction } from './ambient.js';
import { isAuditedUrl, ruleFor, WRITE_METHODS, type AuditRule } from './catalogue.js';
import { fieldChanges } from './changes.js';
import type { AuditActor, AuditEntryInput } from './entry.js';
import { recordAudit } from './record.js';
import { RefusalCoalescer, type Pending } from './coalesce.js';
import { signInNote } from '../lib/sign-in-note.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ANONYMOUS: AuditActor = { kind: 'anonymous', id: null, login: null };
const OPERATOR: AuditActor = { kind: 'operator', id: null, login: null };

export interface AuditHttpOptions {
  db: Database;
  /** The actor of a console session cookie (src/console/sessions.ts, given by the app floor). */
  sessionActor(req: FastifyRequest): Promise<SessionActor | undefined>;
  /** The tenant a console login belongs to, for refused sign-ins (undefined when unknown). */
  tenantOfLogin(login: string): Promise<string | undefined>;
  /** Whether a tenant exists: a refused sign-in names the tenant of its body only if it does. */
  tenantExists(tenantId: string): Promise<boolean>;
}

/** A console session's holder, with the tenant it administers (null for the operator). */
export type SessionActor = AuditActor & { tenantId: string | null };

const kBefore = Symbol('idpbridge.auditBefore');
type WithBefore = FastifyRequest & { [kBefore]?: Record<string, unknown> };

/**
 * A PATCH or PUT hands over the values its change replaces, as its own locked write statement
 * returns them (its catalogue rule says `before: 'route'`): the entry then records `{before,
 * after}` of each changed field instead of `after` alone.
 */
export function auditBefore(req: FastifyRequest, before: object | undefined | null): void {
  if (before) (req as WithBefore)[kBefore] = before as Record<string, unknown>;
}

/** Who made the request, as the admin guard has established it (it has run before any handler). */
async function actorOf(req: FastifyRequest, opts: AuditHttpOptions): Promise<SessionActor> {
  if (req.headers.authorization !== undefined) return { ...OPERATOR, tenantId: null };
  return (await opts.sessionActor(req)) ?? { ...ANONYMOUS, tenantId: null };
}

const requestFacts = (req: FastifyRequest) => ({
  clientIp: req.ip ?? null,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
  requestId: String(req.id),
});

const str = (v: unknown): string | null => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);
const field = (o: unknown, k: string): unknown => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined);

/** The entry of one successful write, from the route's rule, its parameters, body and answer. */
function entryOf(req: FastifyRequest, rule: AuditRule, actor: SessionActor, payload: unknown): AuditEntryInput {
  const params = (req.params ?? {}) as Record<string, unknown>;
  const names = Object.keys(params).filter((k) => k !== 'tenantId' && k !== '*');
  const tenantId = str(params.tenantId) ?? (rule.target === 'tenant' ? str(field(payload, 'id')) : null);
  let targetId = names.length ? str(params[names[names.length - 1]!]) : str(field(payload, 'id'));
  if (targetId === null && tenantId !== null) targetId = tenantId; // a tenant's singleton (settings, oidc …)
  let who: AuditActor = actor;
  let tenant = tenantId;
  const sessionApi = req.url.toLowerCase().startsWith('/console/api/');
  if (sessionApi) {
    // Sign-in: the actor is who signed in (the answer's principal); sign-out: the session's holder.
    const p = field(payload, 'principal');
    if (p) {
      const tenantAdmin = field(p, 'kind') === 'tenant_admin';
      who = !tenantAdmin ? OPERATOR
        : field(p, 'setupLink') === true ? { kind: 'setup-link', id: null, login: str(field(p, 'login')) }
          : { kind: 'console-account', id: str(field(p, 'accountId')), login: str(field(p, 'login')) };
      tenant = tenantAdmin ? str(field(p, 'tenantId')) : null;
    } else {
      tenant = actor.tenantId;
    }
    targetId = null;
  }
  return {
    tenantId: tenant,
    action: rule.action!,
    outcome: 'success',
    actor: { kind: who.kind, id: who.id, login: who.login },
    target: rule.target ? { type: rule.target, id: targetId } : null,
    // A sign-in's body is credentials: nothing of it is a change.
    changes: sessionApi ? {} : fieldChanges(req.body, (req as WithBefore)[kBefore]),
    ...requestFacts(req),
  };
}

type Send = FastifyReply['send'];

/** The handler's error, when its transaction can only be rolled back. */
class Aborted extends Error {
  constructor(override readonly cause: unknown) {
    super('aborted');
  }
}

/**
 * Wraps a state-changing route's handler: the handler and its audit entry run in one request-wide
 * transaction (src/audit/ambient.ts). The answer is held back until the transaction has committed,
 * so a client never sees a change that is not stored. As before, statements the handler ran
 * outside its own transactions stay when it then fails (sign-in failure counters, for one); the
 * entry is written only for a success.
 */
function auditedHandler(handler: RouteHandlerMethod, rule: AuditRule, opts: AuditHttpOptions): RouteHandlerMethod {
  return async function (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
    const actor = await actorOf(req, opts);
    // The transaction's last statement: it commits with the append (src/db/types.ts, queryAndCommit).
    const record = async (tx: Transaction, payload: unknown) => {
      if (reply.statusCode < 400) await recordAudit(tx, entryOf(req, rule, actor, payload), { last: true });
    };
    if (rule.transactional === false) {
      let sent: { payload: unknown } | undefined;
      const held = holdSend(reply, (p) => { sent = { payload: p }; });
      let result: unknown;
      try {
        result = await handler.call(this, req, reply);
      } finally {
        held.release();
      }
      const payload = sent ? sent.payload : result;
      await opts.db.transaction((tx) => record(tx, payload));
      return sent ? reply.send(sent.payload) : result;
    }
    let sent: { payload: unknown } | undefined;
    const held = holdSend(reply, (p) => { sent = { payload: p }; });
    let outcome: { result: unknown; error?: unknown };
    try {
      outcome = await inRequestTransaction(opts.db, async (tx) => {
        let result: unknown;
        try {
          result = await handler.call(this, req, reply);
        } catch (error) {
          // A failed statement has aborted the transaction: nothing of it can be kept.
          if (await tx.query('SELECT 1').then(() => false, () => true)) throw new Aborted(error);
          return { result: undefined, error };
        }
        // No change without its entry: a failure here rolls both back.
        await record(tx, sent ? sent.payload : result);
        return { result };
      });
    } catch (err) {
      throw err instanceof Aborted ? err.cause : err;
    } finally {
      held.release();
    }
    if ('error' in outcome) throw outcome.error;
    return sent ? reply.send(sent.payload) : outcome.result;
  };
}

/**
 * Replaces reply.send until release(): the payload is kept, nothing goes out yet. It returns
 * undefined, not the reply: a reply is thenable (it settles once the answer is out), so a handler
 * ending in `return reply.code(201).send(x)` would otherwise never settle while the answer is held.
 */
function holdSend(reply: FastifyReply, keep: (payload: unknown) => void): { release(): void } {
  const r = reply as FastifyReply & { send: Send };
  r.send = ((payload?: unknown) => {
    keep(payload);
    return undefined;
  }) as unknown as Send;
  return { release: () => { delete (r as Partial<FastifyReply>).send; } };
}

/**
 * GET routes that sign in to the console (the IdP's answer arrives as a redirect): the handler
 * notes its outcome (src/lib/sign-in-note.ts); a sign-in is recorded in the transaction that
 * stores its session, a refusal after the answer like every refusal.
 */
const SIGN_IN_CALLBACKS = new Set(['GET /console/api/sso/callback']);

/** A refusal entry and the key it is coalesced under. */
interface Refusal { key: string; entry: AuditEntryInput }

/** The refusal the sign-in callback noted (outcome refused), else undefined. */
function noteRefusal(req: FastifyRequest): Refusal | undefined {
  const note = signInNote(req);
  if (note?.outcome !== 'refused') return undefined;
  const entry: AuditEntryInput = {
    tenantId: note.tenantId, action: 'console.sign_in_refused', outcome: 'refused',
    actor: { kind: 'console-account', id: null, login: note.login === null ? null : note.login.slice(0, 320) },
    target: { type: 'console_session', id: null }, changes: { reason: { after: note.reason }, via: { after: 'idp' } }, ...requestFacts(req),
  };
  return { key: refusalKey(entry), entry };
}

/**
 * Refusals are coalesced by client address, action and tenant: a flood from one address writes
 * one entry a minute. An admin 403 of an established actor (a console session) is keyed by that
 * actor too, so that who tried is never merged into someone else's entry.
 */
function refusalKey(e: AuditEntryInput, establishedActor?: AuditActor): string {
  const who = establishedActor && establishedActor.kind !== 'anonymous' ? `${establishedActor.kind}:${establishedActor.id ?? ''}:${establishedActor.login ?? ''}` : '';
  return JSON.stringify([e.clientIp, e.action, e.tenantId, who]);
}

/** Refusals worth an entry: 401/403 on the admin API, refused console sign-ins. */
async function refusalOf(req: FastifyRequest, reply: FastifyReply, opts: AuditHttpOptions): Promise<Refusal | undefined> {
  const noted = noteRefusal(req);
  if (noted) return noted;
  const status = reply.statusCode;
  const url = req.routeOptions.url ?? req.url.split('?')[0]!;
  const route = { type: 'route', id: `${req.method} ${url}` };
  if (/^\/admin\/v1\//i.test(req.url) && (status === 401 || status === 403)) {
    const { tenantId: _, ...actor } = status === 403 ? await actorOf(req, opts) : { ...ANONYMOUS, tenantId: null };
    const credential = req.headers.authorization !== undefined ? 'bearer' : req.headers.cookie ? 'session' : 'none';
    const entry: AuditEntryInput = {
      tenantId: null, action: 'admin.auth_refused', outcome: 'refused', actor, target: route,
      changes: { credential: { after: credential }, status: { after: status } }, ...requestFacts(req),
    };
    return { key: refusalKey(entry, status === 403 ? actor : undefined), entry };
  }
  const signIn = req.method === 'POST' && /^\/console\/api\/(setup-)?session$/i.test(url);
  // 400 (malformed form) and 429 (rate limited) are not attempts at a credential.
  if (signIn && status >= 401 && status !== 429 && status < 500) {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const login = typeof body.login === 'string' ? body.login.slice(0, 320) : null;
    // A tenant id from the body is the caller's word: taken only for a tenant that exists, so that
    // made-up ids neither open chains of their own nor split a flood into uncoalesced entries.
    const claimed = typeof body.tenantId === 'string' && UUID.test(body.tenantId) ? body.tenantId.toLowerCase() : null;
    const tenantId = claimed !== null ? ((await opts.tenantExists(claimed)) ? claimed : null)
      : login ? (await opts.tenantOfLogin(login)) ?? null : null;
    const actor: AuditActor = body.operatorToken !== undefined ? { kind: 'operator', id: null, login: null }
      : url.endsWith('setup-session') ? { kind: 'setup-link', id: null, login: null } : { kind: 'console-account', id: null, login };
    const entry: AuditEntryInput = {
      tenantId,
      action: 'console.sign_in_refused', outcome: 'refused', actor, target: { type: 'console_session', id: null },
      changes: { status: { after: status } }, ...requestFacts(req),
    };
    return { key: refusalKey(entry), entry };
  }
  return undefined;
}

/** Writes refusal entries, each in its own transaction, carrying the number of refusals it stands for. */
async function writeRefusals(db: Database, pending: Pending<AuditEntryInput>[]): Promise<void> {
  for (const { item, count } of pending) {
    await db.transaction((tx) => recordAudit(tx, { ...item, changes: { ...item.changes, count: { after: count } } }, { last: true }));
  }
}

/**
 * Wraps a sign-in callback (a GET): its handler runs in a request-wide transaction, and the
 * sign-in it notes is recorded in it, so the session and its entry commit together. Refusals
 * are left to the onResponse hook.
 */
function signInHandler(handler: RouteHandlerMethod, db: Database): RouteHandlerMethod {
  return async function (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
    let sent: { payload: unknown } | undefined;
    const held = holdSend(reply, (p) => { sent = { payload: p }; });
    let result: unknown;
    try {
      result = await inRequestTransaction(db, async (tx) => {
        const r = await handler.call(this, req, reply);
        const note = signInNote(req);
        if (note?.outcome === 'signed-in') {
          await recordAudit(tx, {
            tenantId: note.tenantId, action: 'console.signed_in', outcome: 'success',
            actor: { kind: 'console-account', id: note.accountId, login: note.login },
            target: { type: 'console_session', id: null }, changes: { via: { after: 'idp' } }, ...requestFacts(req),
          }, { last: true });
        }
        return r;
      });
    } finally {
      held.release();
    }
    return sent ? reply.send(sent.payload) : result;
  };
}

/**
 * Installs the audit trail on an app, before its route plugins register: every state-changing
 * route under /admin/v1 and /console/api gets its handler wrapped (rule from the catalogue), and
 * refusals are recorded after their answer. A write route missing from the catalogue is recorded as
 * `unknown.<method>` (and test/audit/route-table.test.ts fails).
 */
export function installAudit(app: FastifyInstance, opts: AuditHttpOptions): void {
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat().map((m) => String(m).toUpperCase());
    if (!isAuditedUrl(route.url)) return;
    if (methods.includes('GET') && SIGN_IN_CALLBACKS.has(`GET ${route.url}`)) route.handler = signInHandler(route.handler as RouteHandlerMethod, opts.db);
    const write = methods.find((m) => WRITE_METHODS.has(m));
    if (!write) return;
    const rule = ruleFor(write, route.url) ?? { action: `unknown.${write.toLowerCase()}`, target: 'route' };
    if (rule.action === null) return;
    route.handler = auditedHandler(route.handler as RouteHandlerMethod, rule, opts);
  });
  // Per app (so per process): counts of refusals not yet written live here until their key's next
  // entry, an eviction or the close.
  const refusals = new RefusalCoalescer<AuditEntryInput>();
  app.addHook('onResponse', async (req, reply) => {
    if (!isAuditedUrl(req.url) || (reply.statusCode < 401 && signInNote(req)?.outcome !== 'refused')) return;
    try {
      const refusal = await refusalOf(req, reply, opts);
      if (!refusal) return;
      const { count, flush } = refusals.admit(refusal.key, refusal.entry);
      await writeRefusals(opts.db, count === undefined ? flush : [{ item: refusal.entry, count }, ...flush]);
    } catch (err) {
      req.log.error({ err }, 'could not record the refusal in the audit log');
    }
  });
  // preClose: before the database's onClose hook closes it.
  app.addHook('preClose', async () => {
    try {
      await writeRefusals(opts.db, refusals.drain());
    } catch (err) {
      app.log.error({ err }, 'could not record the counted refusals in the audit log');
    }
  });
}
