/**
 * A real OpenID provider (oidc-provider) on 127.0.0.1 for the sign-in broker: users (accounts)
 * with passwords and claims, a tiny login page at /interaction/:uid (consent is pre-granted),
 * authorization code + PKCE for a confidential web client, the client_credentials grant (service
 * clients whose tokens carry registered claims, as in test/idp-tokens/helpers/op.ts) and the
 * resource-owner password grant Okta offers (registered as a custom grant type: oidc-provider
 * does not ship it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { newSigningKey } from '../../idp-tokens/helpers/op.js';

export const WEB_CLIENT_ID = 'idpbridge-web';
export const WEB_CLIENT_SECRET = 'web-client-secret-0123456789abcdef0123456789';
export const NATIVE_CLIENT_ID = 'native-app';
export const NATIVE_CLIENT_SECRET = 'native-client-secret-0123456789abcdef012345';

export interface SsoTestOp {
  issuer: string;
  discoveryUrl: string;
  tokenUrl: string;
  audience: string;
  /** An end user who signs in at the login page (and with the password grant). */
  account(login: string, password: string, claims: Record<string, unknown>): void;
  /** A service client (client_credentials) whose tokens carry these claims. */
  service(clientId: string, secret: string, claims: Record<string, unknown>): void;
  /** Redirect URIs the web client accepts (exact). */
  allowRedirect(uri: string): void;
  close(): Promise<void>;
}

interface ProviderInternals {
  Client: { find(id: string): Promise<unknown> } & (new (m: object) => unknown);
  Grant: new (m: object) => { addOIDCScope(s: string): void; addResourceScope(r: string, s: string): void; save(): Promise<string> };
  AccessToken: new (m: object) => { resourceServer: unknown; expiration: number; scope?: string; save(): Promise<string> };
  ResourceServer: new (id: string, data: object) => unknown;
  registerGrantType(name: string, handler: (ctx: GrantCtx) => Promise<void>, params: string[]): void;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<{ uid: string; prompt: { name: string } }>;
  interactionFinished(req: http.IncomingMessage, res: http.ServerResponse, result: object, opts: object): Promise<void>;
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
}
interface GrantCtx {
  oidc: { params: Record<string, string | undefined>; client: { clientId: string } };
  status: number;
  body: unknown;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, error?: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Test IdP sign-in</title></head><body>
<h1>Test IdP</h1>${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="login">Username</label><input id="login" name="login" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in</button></form></body></html>`;
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startSsoTestOp(opts: { audience?: string } = {}): Promise<SsoTestOp> {
  const audience = opts.audience ?? 'api://idpbridge-test';
  const accounts = new Map<string, { password: string; claims: Record<string, unknown> }>();
  const services = new Map<string, { secret: string; claims: Record<string, unknown> }>();
  const redirects = new Set<string>();
  const key = await newSigningKey('sso-key-1');

  let handler: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  let provider: ProviderInternals;
  const server = http.createServer((req, res) => {
    void (async () => {
      const m = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url ?? '');
      if (m) {
        try {
          const details = await provider.interactionDetails(req, res);
          if (req.method === 'POST' && m[2]) {
            const form = await readForm(req);
            const acct = accounts.get(form.get('login') ?? '');
            if (!acct || acct.password !== form.get('password')) {
              res.writeHead(200, { 'content-type': 'text/html' }).end(loginPage(details.uid, 'Wrong username or password'));
              return;
            }
            await provider.interactionFinished(req, res, { login: { accountId: form.get('login') } }, { mergeWithLastSubmission: false });
            return;
          }
          res.writeHead(200, { 'content-type': 'text/html' }).end(loginPage(details.uid));
        } catch (err) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(`interaction failed: ${(err as Error).message}`);
        }
        return;
      }
      handler!(req, res);
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const resourceInfo = { scope: 'read', audience, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256', kid: key.kid } } };
  const p = new Provider(issuer, {
    clients: [],
    jwks: { keys: [key.privateJwk] },
    cookies: { keys: ['sso-test-cookie-key-0123456789'] },
    findAccount: async (_ctx: unknown, id: string) => {
      const a = accounts.get(id);
      return a ? { accountId: id, claims: async () => ({ sub: id, ...a.claims }) } : undefined;
    },
    // Every claim in the ID token (not only via userinfo): the broker reads the ID token.
    conformIdTokenClaims: false,
    claims: { openid: ['sub', 'oid', 'uid', 'groups', 'preferred_username', 'email', 'name'], profile: ['name'], email: ['email'] },
    scopes: ['openid', 'profile', 'email', 'read'],
    interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
    // Consent is pre-granted (the test IdP's admin consented for the organisation).
    loadExistingGrant: async (ctx: { oidc: { client: { clientId: string }; session: { accountId: string; grantIdFor(id: string): string | undefined }; provider: ProviderInternals & { Grant: { find(id: string): Promise<unknown> } } } }) => {
      const existing = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile email');
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // The web client gets an opaque (userinfo) access token; API clients a JWT for the audience.
        defaultResource: (_ctx: unknown, client: { clientId: string }) => (client.clientId === WEB_CLIENT_ID ? undefined : audience),
        useGrantedResource: () => true,
        getResourceServerInfo: () => resourceInfo,
      },
    },
    pkce: { required: () => true },
    extraTokenClaims: async (_ctx: unknown, token: { clientId?: string; accountId?: string; kind?: string }) => {
      if (token.accountId) return accounts.get(token.accountId)?.claims ?? {};
      return services.get(token.clientId ?? '')?.claims ?? {};
    },
  } as never) as unknown as ProviderInternals;
  provider = p;

  // Okta's resource-owner password grant (grant_type=password&username&password&scope).
  p.registerGrantType('password', async (ctx) => {
    const { username = '', password = '' } = ctx.oidc.params;
    const a = accounts.get(username);
    if (!a || a.password !== password) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_grant', error_description: 'The credentials provided were invalid.' };
      return;
    }
    const grant = new p.Grant({ clientId: ctx.oidc.client.clientId, accountId: username });
    grant.addOIDCScope('openid');
    grant.addResourceScope(audience, 'read');
    const grantId = await grant.save();
    const at = new p.AccessToken({ accountId: username, client: ctx.oidc.client, grantId, scope: 'read', gty: 'password' });
    at.resourceServer = new p.ResourceServer(audience, resourceInfo);
    const value = await at.save();
    ctx.body = { access_token: value, token_type: 'Bearer', expires_in: at.expiration, scope: 'read' };
  }, ['username', 'password', 'scope']);

  const origFind = p.Client.find.bind(p.Client);
  p.Client.find = async (id: string) => {
    if (id === WEB_CLIENT_ID) {
      return new p.Client({
        client_id: id, client_secret: WEB_CLIENT_SECRET, grant_types: ['authorization_code'], response_types: ['code'],
        redirect_uris: [...redirects], token_endpoint_auth_method: 'client_secret_basic',
      });
    }
    if (id === NATIVE_CLIENT_ID) {
      return new p.Client({
        client_id: id, client_secret: NATIVE_CLIENT_SECRET, grant_types: ['password', 'client_credentials'], response_types: [],
        redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic',
      });
    }
    const s = services.get(id);
    if (s) {
      return new p.Client({
        client_id: id, client_secret: s.secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
      });
    }
    return origFind(id);
  };
  handler = p.callback();

  return {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    tokenUrl: `${issuer}/token`,
    audience,
    account(login, password, claims) {
      accounts.set(login, { password, claims });
    },
    service(clientId, secret, claims) {
      services.set(clientId, { secret, claims });
    },
    allowRedirect(uri) {
      redirects.add(uri);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
