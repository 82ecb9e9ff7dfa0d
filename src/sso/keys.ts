import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload, type KeyObject } from 'jose';
import type { Queryable } from '../db/types.js';

export type SigningAlg = 'ES256' | 'RS256';

export interface SigningKeysOptions {
  alg: SigningAlg;
  /** A new key signs every period; the next one is published a whole period before it signs. */
  rotationMs: number;
  /** Clock (tests). */
  now?: () => number;
}

interface LoadedKey {
  generation: number;
  kid: string;
  alg: string;
  publicJwk: JWK;
  privateKey: CryptoKey | KeyObject | Uint8Array;
}

interface Row {
  generation: string | number;
  kid: string;
  alg: string;
  private_jwk: JWK | string;
  public_jwk: JWK | string;
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

/**
 * idpbridge's own token signing keys, one per installation and rotation period ("generation"
 * = floor(now / rotation)). The key of the current generation signs; the previous one stays
 * published (tokens it signed are still in flight) and the next one is published ahead, so
 * verifiers that cache the JWKS already know it when it starts signing. Keys are stored in the
 * database, so every process signs with the same key; the unique generation makes two processes
 * creating the same key at once agree (the loser's insert does nothing, both read the winner's).
 */
export class SigningKeys {
  private readonly loaded = new Map<number, LoadedKey>();
  private jwksCache: { generation: number; at: number; keys: JWK[] } | undefined;

  constructor(private readonly db: Queryable, private readonly opts: SigningKeysOptions) {}

  generationAt(ms: number): number {
    return Math.floor(ms / this.opts.rotationMs);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private async fromRow(r: Row): Promise<LoadedKey> {
    const priv = json<JWK>(r.private_jwk);
    return {
      generation: Number(r.generation),
      kid: r.kid,
      alg: r.alg,
      publicJwk: json<JWK>(r.public_jwk),
      privateKey: await importJWK(priv, r.alg),
    };
  }

  private async load(generation: number, create: boolean): Promise<LoadedKey | undefined> {
    const hit = this.loaded.get(generation);
    if (hit) return hit;
    const select = () => this.db.query<Row>('SELECT generation, kid, alg, private_jwk, public_jwk FROM sso_signing_keys WHERE generation = $1', [generation]);
    let { rows } = await select();
    if (!rows[0] && create) {
      const alg = this.opts.alg;
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `idpb-${generation}-${randomUUID().slice(0, 8)}`;
      const meta = { kid, alg, use: 'sig' };
      await this.db.query(
        `INSERT INTO sso_signing_keys (generation, kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)
         ON CONFLICT (generation) DO NOTHING`,
        [generation, kid, alg, JSON.stringify({ ...(await exportJWK(privateKey)), ...meta }), JSON.stringify({ ...(await exportJWK(publicKey)), ...meta })],
      );
      ({ rows } = await select());
    }
    if (!rows[0]) return undefined;
    const key = await this.fromRow(rows[0]);
    this.loaded.set(generation, key);
    if (this.loaded.size > 16) for (const g of this.loaded.keys()) if (g < generation - 2) this.loaded.delete(g);
    return key;
  }

  /** The key that signs now (created with its successor when missing). */
  async current(): Promise<LoadedKey> {
    const g = this.generationAt(this.now());
    const [key] = await Promise.all([this.load(g, true), this.load(g + 1, true)]);
    return key!;
  }

  /** Public keys to publish: previous (if any), current and next generation. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const now = this.now();
    const g = this.generationAt(now);
    if (this.jwksCache && this.jwksCache.generation === g && now - this.jwksCache.at < 60_000) return { keys: this.jwksCache.keys };
    const [prev, cur, next] = await Promise.all([this.load(g - 1, false), this.load(g, true), this.load(g + 1, true)]);
    const keys = [cur, next, prev].filter((k): k is LoadedKey => !!k).map((k) => k.publicJwk);
    this.jwksCache = { generation: g, at: now, keys };
    return { keys };
  }

  async sign(payload: JWTPayload, opts: { issuer: string; audience: string; subject: string; ttlSeconds: number; jti: string }): Promise<{ token: string; expiresAt: number }> {
    const key = await this.current();
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + opts.ttlSeconds;
    const token = await new SignJWT(payload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(opts.issuer)
      .setAudience(opts.audience)
      .setSubject(opts.subject)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(opts.jti)
      .sign(key.privateKey);
    return { token, expiresAt: exp * 1000 };
  }
}
