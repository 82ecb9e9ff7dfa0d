import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { badRequest } from '../http/errors.js';
import { csvLine, CSV_COLUMNS, entryView, listAudit, type AuditFilter } from '../audit/store.js';
import { purgeAudit } from '../audit/retention.js';
import type { Queryable } from '../db/types.js';
import { tenantIdParams } from './tenants-routes.js';

interface Query {
  actor?: string;
  actorKind?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  outcome?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
  format?: 'json' | 'jsonl' | 'csv';
  tenantId?: string;
}

const querySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    actor: { type: 'string', maxLength: 320, description: 'Actor id or login' },
    actorKind: { type: 'string', enum: ['operator', 'console-account', 'setup-link', 'api-caller', 'anonymous'] },
    action: { type: 'string', maxLength: 100, description: 'An action, or a prefix such as `scim_token.*`' },
    targetType: { type: 'string', maxLength: 100 },
    targetId: { type: 'string', maxLength: 300 },
    outcome: { type: 'string', enum: ['success', 'refused'] },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    cursor: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'nextCursor of the previous page' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    format: { type: 'string', enum: ['json', 'jsonl', 'csv'], default: 'json', description: 'jsonl and csv stream every matching entry (no paging)' },
  },
} as const;

const EXPORT_PAGE = 500;

/** Every matching entry, page by page, newest first, as lines of the export format. */
async function* exportLines(db: Queryable, filter: AuditFilter, format: 'jsonl' | 'csv'): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let before = filter.before;
  for (;;) {
    const page = await listAudit(db, { ...filter, before }, EXPORT_PAGE);
    for (const e of page) yield format === 'csv' ? csvLine(e) : `${JSON.stringify(entryView(e))}\n`;
    if (page.length < EXPORT_PAGE) return;
    before = page[page.length - 1]!.id;
  }
}

export async function auditLogRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const answer = async (reply: FastifyReply, q: Query, tenantId: string | null | undefined) => {
    const filter: AuditFilter = {
      tenantId, actor: q.actor, actorKind: q.actorKind, action: q.action, targetType: q.targetType, targetId: q.targetId,
      outcome: q.outcome, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, before: q.cursor,
    };
    if (q.format === 'jsonl' || q.format === 'csv') {
      const name = `audit-log-${tenantId ?? 'all'}-${new Date().toISOString().slice(0, 10)}.${q.format}`;
      reply.header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'no-store');
      reply.type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
      return reply.send(Readable.from(exportLines(deps.db, filter, q.format)));
    }
    const limit = q.limit ?? 100;
    const entries = await listAudit(deps.db, filter, limit);
    return { entries: entries.map(entryView), nextCursor: entries.length === limit ? entries[entries.length - 1]!.id : null };
  };

  app.get<{ Params: { tenantId: string }; Querystring: Query }>('/tenants/:tenantId/audit-log', {
    schema: { tags: ['audit'], summary: 'The tenant\'s audit trail, newest first (filters, cursor paging; jsonl and csv exports)', params: tenantIdParams, querystring: querySchema },
  }, async (req, reply) => answer(reply, req.query, req.params.tenantId));

  app.get<{ Querystring: Query }>('/audit-log', {
    schema: {
      tags: ['audit'],
      summary: 'Every audit entry (all tenants and operator-wide ones), newest first; `tenantId=operator` for operator-wide entries only',
      querystring: { ...querySchema, properties: { ...querySchema.properties, tenantId: { type: 'string', pattern: '^(operator|[0-9a-fA-F-]{36})$' } } },
    },
  }, async (req, reply) => answer(reply, req.query, req.query.tenantId === 'operator' ? null : req.query.tenantId));

  // The operator's explicit purge (itself recorded in the operator chain as audit.purged).
  app.post<{ Body: { tenantId?: string; before?: string } }>('/audit-log/purge', {
    schema: {
      tags: ['audit'],
      summary: 'Delete audit entries now: one tenant\'s (e.g. a deleted tenant\'s) and/or every entry older than `before`',
      body: {
        type: 'object', additionalProperties: false,
        properties: { tenantId: { type: 'string', format: 'uuid' }, before: { type: 'string', format: 'date-time' } },
      },
      response: { 200: { type: 'object', properties: { removed: { type: 'integer' } } } },
    },
  }, async (req) => {
    if (!req.body.tenantId && !req.body.before) throw badRequest('Give tenantId, before, or both');
    return { removed: await purgeAudit(deps.db, { tenantId: req.body.tenantId, before: req.body.before ? new Date(req.body.before) : undefined }) };
  });
}
