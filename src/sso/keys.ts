import { randomUUID } from 'node:crypto';
import type { CryptoKey, JWK, JWTPayload, KeyObject } from 'jose';
import { loadJose } from '../lib/lazy-jose.js';
import type { Queryable } from '../db/types.js';
import { isEncrypted, type SecretBox } from '../lib/secret-box.js';

export type SigningAlg = 'ES256' | 'RS256';

export interface SigningKeysOptions {
  alg: SigningAlg;
  /** A new key signs every period; the next one is published a whole period before it signs. */
  rotationMs: number;
  /** Encrypts the private keys at rest (IDPBRIDGE_SECRET_KEY); without a key they are stored as JWK. */
  secrets: SecretBox;
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
  private_jwk: unknown;
  public_jwk: JWK | string;
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

/**
 * Purpose (authenticated data) of an encrypted private key: bound to its kid, so a ciphertext
 * copied onto another key's row does not decrypt.
 */
const purposeOf = (kid: string) => `sso.signing_key:${kid}`;

/**
 * The private_jwk column as stored: a JWK object (written before encryption at rest, or without an
 * installation key) or a JSON string holding `enc:v1:…`. Drivers hand jsonb back parsed, a string
 * scalar as a JS string; a driver returning the raw JSON text is handled too.
 */
function storedPrivateJwk(v: unknown): JWK | string {
  if (typeof v !== 'string') return v as JWK;
  if (isEncrypted(v)) return v;
  return storedPrivateJwk(JSON.parse(v));
}

/** The value to store in private_jwk (jsonb): the JWK encrypted when a key is configured. */
export function sealPrivateJwk(jwk: JWK, kid: string, secrets: SecretBox): string {
  return JSON.stringify(secrets.enabled ? secrets.encrypt(JSON.stringify(jwk), purposeOf(kid)) : jwk);
}

/** The private JWK of a stored row, in either form (plaintext rows are read during the rollout). */
export function openPrivateJwk(stored: unknown, kid: string, secrets: SecretBox): JWK {
  const v = storedPrivateJwk(stored);
  return typeof v === 'string' ? (JSON.parse(secrets.decrypt(v, purposeOf(kid))) as JWK) : v;
}

/**
 * The start-up pass over the signing keys (like reencryptWebhookSecrets): plaintext keys and keys
 * under a previous installation key are re-encrypted under the current one; idempotent and
 * compare-and-set, so processes starting together agree. Without an installation key, plaintext
 * keys stay as they are (sign-in keeps working; the start log warns), but an encrypted key is an error.
 */
export async function reencryptSigningKeys(db: Queryable, secrets: SecretBox): Promise<number> {
  const { rows } = await db.query<{ generation: string | number; kid: string; private_jwk: unknown }>(
    `SELECT generation, kid, private_jwk FROM sso_signing_keys
      WHERE jsonb_typeof(private_jwk) <> 'string' OR NOT starts_with(private_jwk #>> '{}', $1)`,
    [`enc:v1:${secrets.currentKid ?? ''}:`],
  );
  if (!secrets.enabled) {
    if (rows.some((r) => typeof storedPrivateJwk(r.private_jwk) === 'string')) {
      throw new Error('IDPBRIDGE_SECRET_KEY is not set, but the database holds encrypted sign-in signing keys (see docs/operator.md)');
    }
    return 0;
  }
  let n = 0;
  for (const r of rows) {
    const sealed = sealPrivateJwk(openPrivateJwk(r.private_jwk, r.kid, secrets), r.kid, secrets);
    const res = await db.query(
      'UPDATE sso_signing_keys SET private_jwk = $3::jsonb WHERE generation = $1 AND private_jwk = $2::jsonb',
      [r.generation, JSON.stringify(storedPrivateJwk(r.private_jwk)), sealed],
    );
    n += res.rowCount;
  }
  return n;
}

/** How many signing keys are stored in plaintext (the start log warns when there is no key to encrypt them). */
export async function countPlaintextSigningKeys(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>("SELECT count(*) AS n FROM sso_signing_keys WHERE jsonb_typeof(private_jwk) = 'object'");
  return Number(rows[0]?.n ?? 0);
}

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
    const priv = openPrivateJwk(r.private_jwk, r.kid, this.opts.secrets);
    return {
      generation: Number(r.generation),
      kid: r.kid,
      alg: r.alg,
      publicJwk: json<JWK>(r.public_jwk),
      privateKey: await (await loadJose()).importJWK(priv, r.alg),
    };
  }

  private async load(generation: number, create: boolean): Promise<LoadedKey | undefined> {
    const hit = this.loaded.get(generation);
    if (hit) return hit;
    const select = () => this.db.query<Row>('SELECT generation, kid, alg, private_jwk, public_jwk FROM sso_signing_keys WHERE generation = $1', [generation]);
    let { rows } = await select();
    if (!rows[0] && create) {
      const alg = this.opts.alg;
      const { exportJWK, generateKeyPair } = await loadJose();
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `idpb-${generation}-${randomUUID().slice(0, 8)}`;
      const meta = { kid, alg, use: 'sig' };
      await this.db.query(
        `INSERT INTO sso_signing_keys (generation, kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)
         ON CONFLICT (generation) DO NOTHING`,
        [generation, kid, alg, sealPrivateJwk({ ...(await exportJWK(privateKey)), ...meta }, kid, this.opts.secrets), JSON.stringify({ ...(await exportJWK(publicKey)), ...meta })],
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
    const { SignJWT } = await loadJose();
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
