import type { FastifyRequest } from 'fastify';
import type { Database } from '../db/types.js';
import type { AuditHttpOptions, SessionActor } from '../audit/http.js';
import { lookupSession, sessionCookie } from '../console/sessions.js';

/** The audit trail's view of console sessions and logins (the audit floor sits below the console). */
export function auditHttpOptions(db: Database): AuditHttpOptions {
  return {
    db,
    async sessionActor(req: FastifyRequest): Promise<SessionActor | undefined> {
      const cookie = sessionCookie(req);
      const s = cookie ? await lookupSession(db, cookie) : undefined;
      if (!s) return undefined;
      const p = s.principal;
      if (p.kind === 'operator') return { kind: 'operator', id: null, login: null, tenantId: null };
      if (p.setupLinkId !== undefined) return { kind: 'setup-link', id: p.setupLinkId, login: p.login, tenantId: p.tenantId };
      return { kind: 'console-account', id: p.accountId, login: p.login, tenantId: p.tenantId };
    },
    async tenantOfLogin(login: string): Promise<string | undefined> {
      const { rows } = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM console_logins WHERE login = lower($1)', [login]);
      return rows[0]?.tenant_id;
    },
    async tenantExists(tenantId: string): Promise<boolean> {
      const { rows } = await db.query('SELECT 1 FROM tenants WHERE tenant_id = $1', [tenantId]);
      return rows.length > 0;
    },
  };
}
