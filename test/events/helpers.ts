import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ADMIN_TOKEN } from '../helpers/app.js';
import type { Config } from '../../src/config.js';

/** Worker settings that make a test fast: short polls, backoff in milliseconds. */
export const FAST_WORKER: Partial<Config> = {
  worker: true,
  workerPollMs: 20,
  workerLeaseMs: 3_000,
  webhookTimeoutMs: 2_000,
  webhookBackoffBaseMs: 20,
  webhookBackoffMaxMs: 150,
  webhookRetryWindowMs: 60_000,
};

export interface Received {
  id: string;
  type: string;
  tenantId: string;
  sequence: number;
  data: Record<string, unknown>;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A real webhook receiver on 127.0.0.1 that can be taken down and brought back on the same port. */
export class Receiver {
  readonly received: Received[] = [];
  /** Status to answer with (e.g. 500 while "broken"). */
  status = 200;
  delayMs = 0;
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly tenantFilter?: () => string[]) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Connection refused from now on (port kept for start()). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = () => {
        let ev: Received | undefined;
        try {
          const j = JSON.parse(body) as Omit<Received, 'body' | 'headers'>;
          ev = { ...j, body, headers: req.headers };
        } catch {
          /* not ours */
        }
        const mine = !ev || !this.tenantFilter || this.tenantFilter().includes(ev.tenantId);
        if (mine && this.status >= 200 && this.status < 300 && ev) this.received.push(ev);
        res.statusCode = mine ? this.status : 200;
        res.end(mine && this.status >= 300 ? 'receiver unavailable' : 'ok');
      };
      if (this.delayMs > 0) setTimeout(answer, this.delayMs);
      else answer();
    });
  }

  ids(): string[] {
    return this.received.map((r) => r.id);
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };

export async function admin(app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  const res = await app.inject({ method, url: `/admin/v1${url}`, headers: adminHeaders, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as any) : undefined };
}

export function scim(app: FastifyInstance, token: string, base: string) {
  return async (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.inject({
      method,
      url: `${base}${path}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', ...headers },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as any) : undefined, headers: res.headers };
  };
}

export const userBody = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  active: true,
  ...extra,
});

/** Every event of a tenant in sequence order, via the admin API. */
export async function allEvents(app: FastifyInstance, tenantId: string): Promise<{ id: string; type: string; sequence: number; data: any }[]> {
  const out: { id: string; type: string; sequence: number; data: any }[] = [];
  let after = 0;
  for (;;) {
    const r = await admin(app, 'GET', `/tenants/${tenantId}/events?limit=1000&after=${after}`);
    if (r.status !== 200) throw new Error(`events: ${r.status}`);
    out.push(...r.body.events);
    if (!r.body.nextAfter) return out;
    after = r.body.nextAfter;
  }
}
