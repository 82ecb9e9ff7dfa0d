import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** A browser-like cookie jar over app.inject: keeps Set-Cookie values and sends them back. */
export class Jar {
  readonly cookies = new Map<string, string>();

  store(res: LightMyRequestResponse): void {
    const raw = res.headers['set-cookie'];
    for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = decodeURIComponent(pair!.slice(eq + 1).trim());
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ');
  }

  csrf(): string {
    return this.cookies.get('idpb_csrf') ?? this.cookies.get('__Host-idpb_csrf') ?? '';
  }
}

export interface Client {
  jar: Jar;
  req(method: string, url: string, payload?: unknown, opts?: { csrf?: string | false; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
}

export function client(app: FastifyInstance, jar = new Jar()): Client {
  return {
    jar,
    async req(method, url, payload, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const cookie = jar.header();
      if (cookie) headers.cookie = cookie;
      if (opts.csrf !== false && method !== 'GET') headers['x-csrf-token'] = opts.csrf ?? jar.csrf();
      const res = await app.inject({ method: method as 'GET', url, headers, payload: payload as object | undefined });
      jar.store(res);
      return res;
    },
  };
}

export async function signInOperator(app: FastifyInstance, token: string): Promise<Client> {
  const c = client(app);
  const r = await c.req('POST', '/console/api/session', { operatorToken: token }, { csrf: false });
  if (r.statusCode !== 200) throw new Error(`operator sign-in failed: ${r.statusCode} ${r.body}`);
  return c;
}

export async function signInAccount(app: FastifyInstance, login: string, password: string): Promise<Client> {
  const c = client(app);
  const r = await c.req('POST', '/console/api/session', { login, password }, { csrf: false });
  if (r.statusCode !== 200) throw new Error(`account sign-in failed: ${r.statusCode} ${r.body}`);
  return c;
}
