import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { AppDeps } from '../app-deps.js';
import { ApiError, type ApiErrorCode } from '../http/errors.js';
import type { AuthorizeReason, EffectiveAccess } from '../access/index.js';
import { idpTokensFor, type Principal } from './service.js';
import { TokenError } from './verify.js';
import { IdpUnavailableError } from './key-cache.js';
import { describeLookups } from './claims.js';

declare module 'fastify' {
  interface FastifyRequest {
    idpPrincipal: Principal | null;
  }
}

const tenantParams = {
  type: 'object',
  required: ['tenantId'],
  properties: { tenantId: { type: 'string', maxLength: 64 } },
} as const;

const identitySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, userName: { type: 'string' }, externalId: { type: ['string', 'null'] },
    displayName: { type: ['string', 'null'] }, status: { type: 'string' }, source: { type: 'string' }, active: { type: 'boolean' },
  },
} as const;
const datasetSchema = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, externalId: { type: ['string', 'null'] } } } as const;
const groupSchema = { type: 'object', properties: { id: { type: 'string' }, displayName: { type: 'string' }, externalId: { type: ['string', 'null'] } } } as const;

const authorizeResponse = {
  type: 'object',
  properties: {
    allowed: { type: 'boolean' },
    reason: { type: 'string', enum: ['granted', 'identity_not_found', 'identity_suspended', 'dataset_not_found', 'not_granted'] },
    message: { type: 'string' },
    dataset: datasetSchema,
    identity: { type: 'object', properties: { id: { type: 'string' }, userName: { type: 'string' }, status: { type: 'string' } } },
  },
} as const;

const meResponse = {
  type: 'object',
  properties: {
    tenantId: { type: 'string' },
    identity: identitySchema,
    groups: { type: 'array', items: groupSchema },
    accessGroups: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } },
    datasets: { type: 'array', items: datasetSchema },
    roles: { type: 'array', items: { type: 'string' } },
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    userType: { type: 'string' },
    credential: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['jwt', 'api_key'] },
        keyId: { type: 'string' },
        issuer: { type: 'string' },
        subject: { type: ['string', 'null'] },
        audience: { type: 'array', items: { type: 'string' } },
        expiresAt: { type: 'string', format: 'date-time' },
        matchedBy: { type: 'object', properties: { claim: { type: 'string' }, attribute: { type: 'string' }, value: { type: 'string' } } },
        groups: {
          type: 'object',
          properties: {
            source: { type: 'string', enum: ['claim', 'overage', 'absent'] },
            values: { type: 'array', items: { type: 'string' } },
            matched: { type: 'array', items: groupSchema },
            notProvisioned: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

/** RFC 6750 error_description: printable ASCII without quotes or backslashes. */
const rfc6750 = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'").slice(0, 300);

function unauthorized(reply: FastifyReply, code: string, message: string): ApiError {
  reply.header('www-authenticate', `Bearer realm="idpbridge", error="invalid_token", error_description="${rfc6750(message)}"`);
  return new ApiError(`ERR_${code.toUpperCase()}` as ApiErrorCode, message); // TODO(error family): TokenError carries its ApiErrorCode
}

/**
 * Access decisions with an IdP token or an identity API key, under /v1/:tenantId.
 * 401 for a missing, malformed, unverifiable or foreign token; 503 when the IdP's keys cannot be
 * fetched and none are cached; a valid token of an unknown or suspended identity gets a clear
 * answer (authorize: allowed false with a reason; me: 403), never a 500.
 */
export async function v1Api(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const svc = idpTokensFor(deps, app.log);
  await svc.start();
  app.addHook('onClose', async () => svc.close());
  app.decorateRequest('idpPrincipal', null);

  if (deps.config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: deps.config.rateLimitPerMinute,
      timeWindow: 60_000,
      // Per tenant: one customer's traffic must not starve another's.
      keyGenerator: (req) => `v1:${(req.params as { tenantId?: string }).tenantId ?? req.ip}`,
      errorResponseBuilder: (_req, ctx) =>
        new ApiError('ERR_RATE_LIMITED', `Rate limit of ${ctx.max} requests per minute for this tenant exceeded; retry after ${Math.ceil(ctx.ttl / 1000)} s`),
    });
  }

  // preValidation, not onRequest: the per-tenant rate limit (a route-level onRequest hook) must count
  // refused requests too; authentication still comes before body validation.
  app.addHook('preValidation', async (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    const tenantId = (req.params as { tenantId?: string }).tenantId ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) throw unauthorized(reply, 'missing_token', 'Authorization: Bearer <IdP access token or idpbridge API key> is required');
    try {
      req.idpPrincipal = await svc.authenticate(tenantId, m[1]);
    } catch (err) {
      if (err instanceof TokenError) {
        req.log.info({ tenantId, reason: err.code }, 'v1 token refused');
        throw unauthorized(reply, err.code, err.message);
      }
      if (err instanceof IdpUnavailableError) {
        req.log.warn({ tenantId, err: err.message }, 'IdP keys unavailable');
        reply.header('retry-after', '5');
        throw new ApiError('ERR_IDP_UNAVAILABLE', `The IdP's signing keys could not be fetched: ${err.message}`);
      }
      throw err;
    }
  });

  const notProvisioned = (p: Principal) =>
    p.kind === 'jwt'
      ? `The token is valid but no provisioned identity matches it (${describeLookups(p.tried ?? [])}). Provision the user through SCIM (assign it to the enterprise application) first.`
      : 'The API key no longer belongs to an identity';

  app.post<{ Params: { tenantId: string }; Body: { dataset: string } }>('/:tenantId/authorize', {
    schema: {
      // Untagged on purpose: the OpenAPI document describes the operator-token admin API; /v1 is in docs/idp-tokens.md.
      summary: 'May the token\'s user use this dataset (id, name or externalId)?',
      params: tenantParams,
      body: {
        type: 'object',
        required: ['dataset'],
        properties: { dataset: { type: 'string', minLength: 1, maxLength: 500 } },
      },
      response: { 200: authorizeResponse },
    },
  }, async (req) => {
    const p = req.idpPrincipal!;
    const decide = (reason: AuthorizeReason, message: string, extra: Record<string, unknown> = {}) =>
      ({ allowed: reason === 'granted', reason, message, ...extra });
    if (!p.identityId) return decide('identity_not_found', notProvisioned(p));
    // Independent lookups: one round trip of latency, not two.
    const [access, dataset] = await Promise.all([svc.accessOf(p.tenantId, p.identityId), svc.dataset(p.tenantId, req.body.dataset)]);
    if (!access) return decide('identity_not_found', notProvisioned(p));
    const ident = access.identity;
    const identity = { id: ident.id, userName: ident.userName, status: ident.status };
    if (ident.status === 'suspended' || !ident.active) {
      return decide('identity_suspended', `${ident.userName} is suspended (deactivated in the IdP); access is refused`, { identity });
    }
    if (!dataset) return decide('dataset_not_found', `No dataset has the id, externalId or name ${JSON.stringify(req.body.dataset)}`, { identity });
    if (!access.datasets.some((d) => d.id === dataset.id)) {
      const via = access.accessGroups.length ? `access groups: ${access.accessGroups.map((g) => g.name).join(', ')}` : 'no access groups';
      return decide('not_granted', `${ident.userName} has no grant for dataset ${dataset.name} (${via})`, { identity, dataset });
    }
    if (ident.status === 'staged') {
      await svc.activate(p.tenantId, ident.id);
      identity.status = 'active';
    }
    return decide('granted', `${ident.userName} may use dataset ${dataset.name}`, { identity, dataset });
  });

  app.get<{ Params: { tenantId: string } }>('/:tenantId/me', {
    schema: { summary: 'The token\'s identity, groups, access groups, datasets and roles', params: tenantParams, response: { 200: meResponse } },
  }, async (req) => {
    const p = req.idpPrincipal!;
    if (!p.identityId) throw new ApiError('ERR_IDENTITY_NOT_FOUND', notProvisioned(p));
    let access: EffectiveAccess | undefined = await svc.accessOf(p.tenantId, p.identityId);
    if (!access) throw new ApiError('ERR_IDENTITY_NOT_FOUND', notProvisioned(p));
    if (access.identity.status === 'suspended' || !access.identity.active) {
      throw new ApiError('ERR_IDENTITY_SUSPENDED', `${access.identity.userName} is suspended (deactivated in the IdP)`);
    }
    if (access.identity.status === 'staged' && p.kind === 'jwt') {
      await svc.activate(p.tenantId, p.identityId);
      access = { ...access, identity: { ...access.identity, status: 'active' } };
    }
    let credential: Record<string, unknown>;
    if (p.kind === 'jwt' && p.jwt && p.tokenGroups) {
      const g = p.tokenGroups;
      // Overage (Entra left the groups out): the provisioned memberships answer instead.
      const cfg = await svc.config(p.tenantId);
      const matched = g.source === 'overage' ? access.groups : await svc.groupsNamedBy(p.tenantId, cfg, g.values);
      const key = cfg?.groupsMatch === 'externalId' ? 'externalId' : 'displayName';
      const known = new Set(matched.map((x) => x[key]));
      credential = {
        type: 'jwt',
        issuer: p.jwt.issuer,
        subject: p.jwt.subject,
        audience: p.jwt.audience,
        expiresAt: new Date(p.jwt.expiresAt).toISOString(),
        ...(p.matchedBy ? { matchedBy: p.matchedBy } : {}),
        groups: { source: g.source, values: g.values, matched, notProvisioned: g.values.filter((v) => !known.has(v)) },
      };
    } else {
      credential = { type: 'api_key', keyId: p.keyId };
    }
    return { tenantId: p.tenantId, ...access, credential };
  });
}
