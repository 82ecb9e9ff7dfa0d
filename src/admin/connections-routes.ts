import type { FastifyInstance, FastifyRequest } from 'fastify';
import { request as undiciRequest } from '../lib/lazy-undici.js';
import type { AppDeps } from '../app-deps.js';
import { badRequest, conflict, notFound, ApiError } from '../http/errors.js';
import { publicBaseUrl } from '../http/base-url.js';
import { createOutboundAgent, isTargetNotAllowed } from '../lib/outbound.js';
import {
  deleteConnection, domainProblem, getConnection, insertConnection, listConnections, updateConnection, OIDC_CONNECTION_SECRET_PURPOSE,
  type Connection, type ConnectionChanges, type ConnectionFields, type IdentityMappingRule, type OidcConnectionSettings,
} from '../sso/connections.js';
import { MetadataError, parseIdpMetadata } from '../sso/saml/metadata.js';
import { spUrls } from '../sso/saml/sp.js';
import { certificateParses, newStoredSpKeyPair } from '../sso/saml/sp-keys.js';
import { ssoCallbackUrl } from '../sso/urls.js';
import { normalizeOidcConfig, OidcConfigError } from '../idp-tokens/oidc-config.js';
import { claimDomain, deleteDomain, domainOf, listDomains, verifyDomain } from '../sso/domain-routing.js';
import { requireTenant } from './access-schemas.js';
import { auditBefore } from '../audit/http.js';

const tags = ['connections'];

const secretKeyRequired = (what: string) =>
  new ApiError('ERR_SECRET_KEY_REQUIRED', `IDPBRIDGE_SECRET_KEY is not set on this server, so ${what} cannot be stored; the operator must set it (docs/operator.md)`);
type P = { tenantId: string };
type PC = P & { connectionId: string };

const uuidParams = (...names: string[]) => ({
  type: 'object',
  required: names,
  properties: Object.fromEntries(names.map((n) => [n, { type: 'string', format: 'uuid' }])),
}) as const;

const mappingSchema = {
  type: 'array',
  maxItems: 10,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['from', 'to'],
    properties: { from: { type: 'string', minLength: 1, maxLength: 500 }, to: { type: 'string', enum: ['userName', 'externalId'] } },
  },
} as const;

const editable = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  domains: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 253 } },
  idpMetadataXml: { type: 'string', maxLength: 500_000, description: 'The IdP\'s SAML metadata, pasted (SAML connections)' },
  idpMetadataUrl: { type: 'string', maxLength: 2000, description: 'Where to fetch the IdP\'s SAML metadata (https; fetched now, through the outbound-address guard)' },
  allowIdpInitiated: { type: 'boolean', description: 'Accept unsolicited (IdP-initiated) SAML responses; off by default' },
  jitProvisioning: { type: 'boolean', description: 'SAML: the first sign-in of someone with no identity creates one (source manual) from the assertion, later sign-ins update it; off by default' },
  identityMapping: { ...mappingSchema, description: 'Which SAML value finds the identity: from "nameID" or an attribute Name, to userName or externalId; tried in order' },
  clockSkewSeconds: { type: 'integer', minimum: 0, maximum: 600 },
  signAuthnRequests: { type: 'boolean', description: 'SAML: sign AuthnRequests (Redirect binding, RSA-SHA256) with the connection\'s SP signing key; its certificate is in the SP metadata' },
  jitGroupsAttribute: {
    type: ['string', 'null'], minLength: 1, maxLength: 500,
    description: 'SAML JIT: the attribute whose values are the user\'s group names (null: Entra\'s http://schemas.microsoft.com/ws/2008/06/identity/claims/groups, then Okta\'s groups)',
  },
  oidc: {
    type: 'object',
    additionalProperties: false,
    required: ['issuer', 'clientId'],
    description: 'OIDC: the connection\'s own client (further OIDC connections); left out on create, the connection stands for the tenant\'s OIDC configuration (PUT …/oidc)',
    properties: {
      issuer: { type: 'string', minLength: 1, maxLength: 2000 },
      discoveryUrl: { type: ['string', 'null'], maxLength: 2000 },
      clientId: { type: 'string', minLength: 1, maxLength: 500 },
      clientSecret: { type: ['string', 'null'], minLength: 1, maxLength: 2000, writeOnly: true, description: 'Write-only; left out keeps the stored one (forgotten when the issuer or discovery URL changes), null removes it' },
      identityClaims: {
        type: ['array', 'null'], minItems: 1, maxItems: 10,
        items: {
          type: 'object', additionalProperties: false, required: ['claim', 'attribute'],
          properties: { claim: { type: 'string', minLength: 1, maxLength: 200 }, attribute: { type: 'string', enum: ['externalId', 'userName', 'id'] } },
        },
      },
    },
  },
} as const;

const connectionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    type: { type: 'string', enum: ['oidc', 'saml'] },
    name: { type: 'string' },
    domains: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    oidc: {
      type: 'object',
      properties: {
        configUrl: { type: ['string', 'null'], description: 'The tenant\'s OIDC configuration this connection stands for (null: the connection has its own client)' },
        callbackUrl: { type: 'string' },
        loginUrl: { type: 'string' },
        issuer: { type: ['string', 'null'] },
        discoveryUrl: { type: ['string', 'null'] },
        clientId: { type: ['string', 'null'] },
        clientSecretSet: { type: 'boolean' },
        identityClaims: { type: ['array', 'null'], items: { type: 'object', properties: { claim: { type: 'string' }, attribute: { type: 'string' } } } },
      },
    },
    saml: {
      type: 'object',
      properties: {
        spEntityId: { type: 'string' },
        acsUrl: { type: 'string' },
        metadataUrl: { type: 'string' },
        loginUrl: { type: 'string' },
        idpEntityId: { type: ['string', 'null'] },
        idpSsoUrl: { type: ['string', 'null'] },
        idpCertificates: { type: 'integer', description: 'How many IdP signing certificates are trusted' },
        idpMetadataUrl: { type: ['string', 'null'] },
        allowIdpInitiated: { type: 'boolean' },
        jitProvisioning: { type: 'boolean' },
        identityMapping: mappingSchema,
        clockSkewSeconds: { type: 'integer' },
        signAuthnRequests: { type: 'boolean' },
        jitGroupsAttribute: { type: ['string', 'null'] },
        spSigningCertificate: { type: ['string', 'null'], description: 'PEM; in the SP metadata when AuthnRequests are signed' },
        spEncryptionCertificate: { type: ['string', 'null'], description: 'PEM; the IdP encrypts assertions to it (in the SP metadata)' },
        ready: { type: 'boolean' },
      },
    },
  },
} as const;

/**
 * A connection's values under the names of the PATCH body (the audit entry's `before`; its `after`
 * is the body). The IdP metadata XML is in both (a public document; the entry keeps its first
 * 2,000 characters); secrets are in neither.
 */
const editableOf = (c: Connection) => ({
  name: c.name, domains: c.domains, idpMetadataXml: c.idpMetadataXml, idpMetadataUrl: c.idpMetadataUrl, allowIdpInitiated: c.allowIdpInitiated,
  jitProvisioning: c.jitProvisioning, identityMapping: c.identityMapping, clockSkewSeconds: c.clockSkewSeconds,
  signAuthnRequests: c.signAuthnRequests, jitGroupsAttribute: c.jitGroupsAttribute,
  oidc: c.oidc && { issuer: c.oidc.issuer, discoveryUrl: c.oidc.discoveryUrl, clientId: c.oidc.clientId, identityClaims: c.oidc.identityClaims },
});

/** A new connection's fields before the body's. */
const defaults = (type: 'oidc' | 'saml'): ConnectionFields => ({
  name: type === 'oidc' ? 'OIDC' : 'SAML', domains: [], idpEntityId: null, idpSsoUrl: null, idpCerts: [], idpMetadataXml: null,
  idpMetadataUrl: null, allowIdpInitiated: false, jitProvisioning: false, identityMapping: null, clockSkewSeconds: 120,
  signAuthnRequests: false, jitGroupsAttribute: null, spSigningCert: null, spSigningKey: null, spEncryptionCert: null,
  spEncryptionKey: null, oidc: null, oidcClientSecret: null,
});

type Body = {
  type?: 'oidc' | 'saml';
  name?: string;
  domains?: string[];
  idpMetadataXml?: string;
  idpMetadataUrl?: string;
  allowIdpInitiated?: boolean;
  jitProvisioning?: boolean;
  identityMapping?: IdentityMappingRule[];
  clockSkewSeconds?: number;
  signAuthnRequests?: boolean;
  jitGroupsAttribute?: string | null;
  oidc?: OidcConnectionSettings & { clientSecret?: string | null };
};

/** Sign-in connections of a tenant (OIDC and SAML 2.0): list, create, read, change, delete. */
export async function connectionsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;

  const view = (req: FastifyRequest, c: Connection) => {
    const base = publicBaseUrl(req, deps.config.publicUrl);
    const common = { id: c.id, type: c.type, name: c.name, domains: c.domains, createdAt: c.createdAt, updatedAt: c.updatedAt };
    if (c.type === 'oidc') {
      const callbackUrl = ssoCallbackUrl(base, c.tenantId);
      if (!c.oidc) return { ...common, oidc: { configUrl: `/admin/v1/tenants/${c.tenantId}/oidc`, callbackUrl, loginUrl: `${base}/sso/${c.tenantId}/login` } };
      return {
        ...common,
        oidc: {
          configUrl: null, callbackUrl, loginUrl: `${base}/sso/${c.tenantId}/login?connection=${c.id}`,
          issuer: c.oidc.issuer, discoveryUrl: c.oidc.discoveryUrl, clientId: c.oidc.clientId, clientSecretSet: c.oidcClientSecret !== null,
          identityClaims: c.oidc.identityClaims,
        },
      };
    }
    const u = spUrls(base, c.tenantId, c.id);
    return {
      ...common,
      saml: {
        spEntityId: u.entityId, acsUrl: u.acsUrl, metadataUrl: u.metadataUrl, loginUrl: u.loginUrl,
        idpEntityId: c.idpEntityId, idpSsoUrl: c.idpSsoUrl, idpCertificates: c.idpCerts.length, idpMetadataUrl: c.idpMetadataUrl,
        allowIdpInitiated: c.allowIdpInitiated, jitProvisioning: c.jitProvisioning, identityMapping: c.identityMapping, clockSkewSeconds: c.clockSkewSeconds,
        signAuthnRequests: c.signAuthnRequests, jitGroupsAttribute: c.jitGroupsAttribute,
        spSigningCertificate: c.spSigningCert, spEncryptionCertificate: c.spEncryptionCert,
        ready: !!(c.idpEntityId && c.idpSsoUrl && c.idpCerts.length > 0),
      },
    };
  };

  const fetchMetadata = async (url: string): Promise<string> => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw badRequest(`idpMetadataUrl "${url}" is not an absolute URL`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw badRequest('idpMetadataUrl must be an http(s) URL');
    const agent = createOutboundAgent(deps.targets, { connectTimeoutMs: 10_000, headersTimeout: 10_000, bodyTimeout: 10_000 });
    try {
      const res = await undiciRequest(u, { dispatcher: agent, headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml', 'user-agent': 'idpbridge' } });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw badRequest(`the IdP metadata URL answered HTTP ${res.statusCode}`);
      }
      let size = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > 500_000) throw badRequest('the IdP metadata is larger than 500 kB');
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (isTargetNotAllowed(err)) throw new ApiError('ERR_TARGET_NOT_ALLOWED', `idpMetadataUrl: ${(err as Error).message}`);
      throw badRequest(`the IdP metadata could not be fetched from ${u.href}: ${(err as Error).message}`);
    } finally {
      await agent.close();
    }
  };

  /**
   * An OIDC connection's own client from the body, validated like the tenant's OIDC configuration;
   * a new secret stored encrypted. No `oidcClientSecret` when the body leaves the secret out: the
   * write keeps the stored one if the issuer and discovery URL stay the same (ConnectionChanges).
   */
  const oidcClient = (o: NonNullable<Body['oidc']>): Pick<ConnectionChanges, 'oidc' | 'oidcClientSecret'> => {
    let n: ReturnType<typeof normalizeOidcConfig>;
    try {
      n = normalizeOidcConfig({
        provider: 'generic', issuer: o.issuer, discoveryUrl: o.discoveryUrl ?? null, audience: o.clientId, clientId: o.clientId,
        ...(o.identityClaims ? { identityClaims: o.identityClaims } : {}),
      });
    } catch (err) {
      if (err instanceof OidcConfigError) throw badRequest(`oidc: ${err.message}`);
      throw err;
    }
    const oidc: OidcConnectionSettings = { issuer: n.issuer, discoveryUrl: o.discoveryUrl ? n.discoveryUrl : null, clientId: n.clientId!, identityClaims: o.identityClaims ?? null };
    if (typeof o.clientSecret === 'string' && !deps.secrets.enabled) throw secretKeyRequired('a client secret');
    if (typeof o.clientSecret === 'string') return { oidc, oidcClientSecret: deps.secrets.encrypt(o.clientSecret, OIDC_CONNECTION_SECRET_PURPOSE) };
    return o.clientSecret === null ? { oidc, oidcClientSecret: null } : { oidc };
  };

  /**
   * The fields the body sets, validated (IdP metadata by URL fetched now). `prev` is a PATCH's
   * connection, read without a lock before the fetch: it decides only what no write changes (its
   * type, whether an OIDC connection has its own client) or what the write merges safely (SP key
   * pairs made here are stored only where the row still has none). The write itself merges the
   * fields into the row under its lock (updateConnection), so a concurrent PATCH keeps its own.
   */
  const changesOf = async (type: 'oidc' | 'saml', b: Body, prev?: Connection): Promise<ConnectionChanges> => {
    const ch: ConnectionChanges = {};
    if (b.name !== undefined) ch.name = b.name;
    if (b.domains) {
      ch.domains = [...new Set(b.domains.map((d) => d.trim().toLowerCase()))];
      for (const d of ch.domains) {
        const problem = domainProblem(d);
        if (problem) throw badRequest(problem);
      }
    }
    if (b.allowIdpInitiated !== undefined) ch.allowIdpInitiated = b.allowIdpInitiated;
    if (b.jitProvisioning !== undefined) ch.jitProvisioning = b.jitProvisioning;
    if (b.identityMapping !== undefined) ch.identityMapping = b.identityMapping;
    if (b.clockSkewSeconds !== undefined) ch.clockSkewSeconds = b.clockSkewSeconds;
    if (b.signAuthnRequests !== undefined) ch.signAuthnRequests = b.signAuthnRequests;
    if (b.jitGroupsAttribute !== undefined) ch.jitGroupsAttribute = b.jitGroupsAttribute;
    if (type === 'oidc') {
      if (b.idpMetadataXml !== undefined || b.idpMetadataUrl !== undefined || b.allowIdpInitiated !== undefined || b.identityMapping !== undefined
        || b.jitProvisioning !== undefined || b.signAuthnRequests !== undefined || b.jitGroupsAttribute !== undefined) {
        throw badRequest('SAML settings do not apply to an OIDC connection');
      }
      if (b.oidc !== undefined) {
        if (prev && !prev.oidc) throw badRequest('this OIDC connection stands for the tenant\'s OIDC configuration: change it with PUT …/oidc');
        Object.assign(ch, oidcClient(b.oidc));
      }
      return ch;
    }
    if (b.oidc !== undefined) throw badRequest('oidc applies to OIDC connections only');
    if ((b.signAuthnRequests ?? prev?.signAuthnRequests) && !deps.secrets.enabled) throw secretKeyRequired('the SP signing key for signed AuthnRequests');
    if (b.idpMetadataXml !== undefined && b.idpMetadataUrl !== undefined) throw badRequest('give idpMetadataXml or idpMetadataUrl, not both');
    // The SP's key pairs: generated once per connection (a connection saved before they existed, or whose
    // certificate does not parse, gets them now); without an installation key they cannot be stored, so the
    // connection works unsigned and unencrypted.
    if (deps.secrets.enabled) {
      const cn = `idpbridge SAML SP ${b.name ?? prev?.name ?? 'SAML'}`;
      const broken = (cert: string | null | undefined) => cert && !certificateParses(cert) ? cert : undefined;
      const replaced = { encryption: broken(prev?.spEncryptionCert), signing: broken(prev?.spSigningCert) };
      if (!prev?.spEncryptionKey || replaced.encryption) ({ key: ch.spEncryptionKey, cert: ch.spEncryptionCert } = await newStoredSpKeyPair(deps.secrets, 'encryption', cn));
      if (!prev?.spSigningKey || replaced.signing) ({ key: ch.spSigningKey, cert: ch.spSigningCert } = await newStoredSpKeyPair(deps.secrets, 'signing', cn));
      if (replaced.encryption || replaced.signing) ch.spCertsReplaced = replaced;
    }
    const xml = b.idpMetadataXml ?? (b.idpMetadataUrl !== undefined ? await fetchMetadata(b.idpMetadataUrl) : undefined);
    if (xml !== undefined) {
      try {
        const md = parseIdpMetadata(xml);
        // Two certificates at once is a rotation; more is a mistake (or someone else's metadata).
        if (md.certs.length > 2) throw new MetadataError(`the metadata names ${md.certs.length} signing certificates; at most two (current and next) are accepted`);
        Object.assign(ch, { idpEntityId: md.entityId, idpSsoUrl: md.ssoUrl, idpCerts: md.certs, idpMetadataXml: xml, idpMetadataUrl: b.idpMetadataUrl ?? null });
      } catch (err) {
        if (err instanceof MetadataError) throw badRequest(`IdP metadata: ${err.message}`);
        throw err;
      }
    }
    return ch;
  };

  app.get<{ Params: P }>('/tenants/:tenantId/connections', {
    schema: { tags, summary: 'List the tenant\'s sign-in connections (OIDC and SAML)', params: uuidParams('tenantId'), response: { 200: { type: 'array', items: connectionSchema } } },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    return (await listConnections(db, req.params.tenantId)).map((c) => view(req, c));
  });

  app.post<{ Params: P; Body: Body }>('/tenants/:tenantId/connections', {
    schema: {
      tags,
      summary: 'Create a connection: SAML (with the IdP\'s metadata, pasted or by URL), OIDC with its own client (`oidc`), or the OIDC one standing for the tenant\'s configuration (PUT …/oidc)',
      params: uuidParams('tenantId'),
      body: { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { type: 'string', enum: ['oidc', 'saml'] }, ...editable } },
      response: { 201: connectionSchema },
    },
  }, async (req, reply) => {
    const { tenantId } = req.params;
    await requireTenant(db, tenantId);
    const created = await insertConnection(db, tenantId, req.body.type!, { ...defaults(req.body.type!), ...await changesOf(req.body.type!, req.body) });
    if (!created) throw conflict('the tenant already has the OIDC connection standing for its OIDC configuration; give `oidc` (issuer, clientId, clientSecret) to add another OIDC connection');
    req.log.info({ tenantId, connectionId: created.id, type: created.type }, 'sign-in connection created');
    return reply.code(201).send(view(req, created));
  });

  app.get<{ Params: PC }>('/tenants/:tenantId/connections/:connectionId', {
    schema: { tags, summary: 'Get a connection', params: uuidParams('tenantId', 'connectionId'), response: { 200: connectionSchema } },
  }, async (req) => {
    const c = await getConnection(db, req.params.tenantId, req.params.connectionId);
    if (!c) {
      await requireTenant(db, req.params.tenantId);
      throw notFound('connection');
    }
    return view(req, c);
  });

  app.patch<{ Params: PC; Body: Body }>('/tenants/:tenantId/connections/:connectionId', {
    schema: {
      tags,
      summary: 'Change a connection (fields given are replaced; new IdP metadata replaces the IdP settings and certificates)',
      params: uuidParams('tenantId', 'connectionId'),
      body: { type: 'object', additionalProperties: false, properties: editable },
      response: { 200: connectionSchema },
    },
  }, async (req) => {
    const { tenantId, connectionId } = req.params;
    const prev = await getConnection(db, tenantId, connectionId);
    if (!prev) {
      await requireTenant(db, tenantId);
      throw notFound('connection');
    }
    const changes = await changesOf(prev.type, req.body, prev);
    // The metadata fetch (in changesOf) is done and no lock was held across it: the write is one
    // statement that locks the row and sets only the fields given, and answers the values it
    // replaced (not `prev`, which a concurrent PATCH may have changed since).
    const saved = await updateConnection(db, tenantId, connectionId, changes);
    if (!saved) throw notFound('connection');
    auditBefore(req, editableOf(saved.replaced));
    req.log.info({ tenantId, connectionId }, 'sign-in connection changed');
    return view(req, saved);
  });

  app.delete<{ Params: PC }>('/tenants/:tenantId/connections/:connectionId', {
    schema: { tags, summary: 'Delete a connection (the OIDC one takes the tenant\'s OIDC configuration with it)', params: uuidParams('tenantId', 'connectionId') },
  }, async (req, reply) => {
    const { tenantId, connectionId } = req.params;
    const type = await db.transaction((tx) => deleteConnection(tx, tenantId, connectionId));
    if (!type) {
      await requireTenant(db, tenantId);
      throw notFound('connection');
    }
    if (type === 'oidc') deps.idpTokens.invalidateTenant(tenantId);
    req.log.info({ tenantId, connectionId, type }, 'sign-in connection deleted');
    return reply.code(204).send();
  });

  // ---- e-mail domains for sign-in routing (GET /sso/login?email=…) ----

  const domainSchema = {
    type: 'object',
    properties: {
      domain: { type: 'string' },
      verified: { type: 'boolean' },
      verifiedAt: { type: ['string', 'null'], format: 'date-time' },
      txtRecordName: { type: 'string', description: 'Publish a TXT record under this name…' },
      txtRecordValue: { type: 'string', description: '…with this value, then call …/verify' },
      createdAt: { type: 'string', format: 'date-time' },
    },
  } as const;
  const domainParams = {
    type: 'object',
    required: ['tenantId', 'domain'],
    properties: { tenantId: { type: 'string', format: 'uuid' }, domain: { type: 'string', maxLength: 253 } },
  } as const;
  const normalDomain = (d: string) => {
    const n = domainOf(d);
    if (!n || n !== d.trim().toLowerCase()) throw badRequest(`"${d}" is not a domain name (e.g. example.com)`);
    return n;
  };

  app.get<{ Params: P }>('/tenants/:tenantId/domains', {
    schema: { tags, summary: 'The tenant\'s e-mail domains for sign-in routing, with their DNS TXT records', params: uuidParams('tenantId'), response: { 200: { type: 'array', items: domainSchema } } },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    return listDomains(db, req.params.tenantId);
  });

  app.post<{ Params: P; Body: { domain: string } }>('/tenants/:tenantId/domains', {
    schema: {
      tags,
      summary: 'Claim an e-mail domain: answers the TXT record to publish (verify it with …/verify)',
      params: uuidParams('tenantId'),
      body: { type: 'object', additionalProperties: false, required: ['domain'], properties: { domain: { type: 'string', minLength: 1, maxLength: 253 } } },
      response: { 200: domainSchema, 201: domainSchema },
    },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    const { created, domain } = await claimDomain(db, req.params.tenantId, normalDomain(req.body.domain));
    return reply.code(created ? 201 : 200).send(domain);
  });

  app.post<{ Params: P & { domain: string } }>('/tenants/:tenantId/domains/:domain/verify', {
    schema: { tags, summary: 'Look the TXT record up now; the domain is verified when it is there (and no other tenant holds it)', params: domainParams, response: { 200: domainSchema } },
  }, async (req) => {
    const { tenantId } = req.params;
    const domain = normalDomain(req.params.domain);
    const result = await verifyDomain(db, deps.config.sso.dnsResolvers, tenantId, domain);
    if (!result) {
      await requireTenant(db, tenantId);
      throw notFound('domain');
    }
    if (result === 'held_by_another_tenant') throw conflict(`${domain} is already verified by another tenant`);
    const list = await listDomains(db, tenantId);
    const d = list.find((x) => x.domain === domain)!;
    if (result === 'record_not_found') throw badRequest(`no TXT record "${d.txtRecordValue}" found at ${d.txtRecordName} (DNS changes can take a while to appear)`);
    req.log.info({ tenantId, domain }, 'sign-in domain verified');
    return d;
  });

  app.delete<{ Params: P & { domain: string } }>('/tenants/:tenantId/domains/:domain', {
    schema: { tags, summary: 'Release a domain (sign-in stops routing it here)', params: domainParams },
  }, async (req, reply) => {
    const { tenantId } = req.params;
    if (!(await deleteDomain(db, tenantId, normalDomain(req.params.domain)))) {
      await requireTenant(db, tenantId);
      throw notFound('domain');
    }
    return reply.code(204).send();
  });
}
