/**
 * A real OpenID provider (oidc-provider) on 127.0.0.1 with a random port, issuing RS256 JWT access
 * tokens through the client_credentials grant with resource indicators. Each "user" is a client:
 * extraTokenClaims adds the claims registered for it (oid/uid, groups, preferred_username, …).
 * rotate() swaps in a provider whose JWKS carries a new key (signing with it) plus the old one,
 * on the same issuer, without restarting the HTTP server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, exportJWK, type JWK } from 'jose';
import type { KeyObject } from 'node:crypto';
import Provider from 'oidc-provider';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey: privateKey as unknown as KeyObject, publicJwk, privateJwk };
}

export interface TestOp {
  issuer: string;
  discoveryUrl: string;
  jwksUri: string;
  audience: string;
  /** The key new tokens are signed with. */
  current: SigningKey;
  /** Requests served per path (the JWKS refetch cooldown is observed with it). */
  hits: Map<string, number>;
  /** Registers a user: a client whose tokens carry these extra claims. */
  user(clientId: string, claims: Record<string, unknown>): void;
  /** A JWT access token for that user, issued by the provider. */
  token(clientId: string, opts?: { audience?: string; ttlSeconds?: number }): Promise<string>;
  rotate(): Promise<SigningKey>;
  /** Answers every request with this status (simulates an IdP outage) until set back to undefined. */
  failWith: number | undefined;
  close(): Promise<void>;
}

const SECRET = 'test-client-secret-0123456789abcdef0123456789';

export async function startTestOp(opts: { audience?: string } = {}): Promise<TestOp> {
  const audience = opts.audience ?? 'api://idpbridge-test';
  const claims = new Map<string, Record<string, unknown>>();
  const hits = new Map<string, number>();
  let provider: Provider | undefined;
  let handler: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
  const op: Partial<TestOp> & { failWith: number | undefined } = { failWith: undefined };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (op.failWith) {
      res.writeHead(op.failWith, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    handler!(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // TTLs requested per token: the resource server info reads the pending one.
  let nextTtl = 300;
  let keys: SigningKey[] = [await newSigningKey('key-1')];

  const build = () => {
    const p = new Provider(issuer, {
      clients: [],
      findAccount: async () => undefined,
      jwks: { keys: keys.map((k) => k.privateJwk) as never },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resource: string) => ({
            scope: 'read',
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: nextTtl,
            jwt: { sign: { alg: 'RS256', kid: keys[0]!.kid } },
          }),
        },
      },
      scopes: ['openid', 'read'],
      ttl: { ClientCredentials: () => nextTtl },
      extraTokenClaims: async (_ctx: unknown, token: { clientId?: string }) => claims.get(token.clientId ?? '') ?? {},
      // Clients are looked up dynamically from the registered users.
      extraClientMetadata: { properties: [] },
    } as never);
    // Every registered user is a confidential client allowed the client_credentials grant.
    const Client = (p as unknown as { Client: { find: (id: string) => Promise<unknown> } }).Client;
    const origFind = Client.find.bind(Client);
    Client.find = async (id: string) => {
      if (!claims.has(id)) return origFind(id);
      return new (p as unknown as { Client: new (m: object) => unknown }).Client({
        client_id: id,
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
      });
    };
    provider = p;
    handler = p.callback() as unknown as (req: http.IncomingMessage, res: http.ServerResponse) => void;
  };
  build();

  Object.assign(op, {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    jwksUri: `${issuer}/jwks`,
    audience,
    current: keys[0]!,
    hits,
    user(clientId: string, c: Record<string, unknown>) {
      claims.set(clientId, c);
    },
    async token(clientId: string, o: { audience?: string; ttlSeconds?: number } = {}) {
      nextTtl = o.ttlSeconds ?? 300;
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials', client_id: clientId, client_secret: SECRET,
          resource: o.audience ?? audience, scope: 'read',
        }),
      });
      const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!body.access_token) throw new Error(`token request failed: ${res.status} ${body.error} ${body.error_description}`);
      return body.access_token;
    },
    async rotate() {
      const next = await newSigningKey(`key-${keys.length + 1}`);
      keys = [next, ...keys];
      build();
      op.current = next;
      return next;
    },
    async close() {
      void provider;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
  return op as TestOp;
}
