import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Encryption at rest for secrets idpbridge must be able to read back (webhook signing secrets,
 * IdP client secrets, sign-in signing keys): AES-256-GCM under the installation key
 * (IDPBRIDGE_SECRET_KEY). A stored value reads
 *
 *     enc:v1:<kid>:<iv>:<tag>:<ciphertext>        (each part base64url)
 *
 * where kid names the key (derived from it, so operators never manage ids) and the purpose of the
 * value ("webhook.secret", …) is authenticated data: a ciphertext copied into another column does
 * not decrypt. Rotation: the new key becomes IDPBRIDGE_SECRET_KEY, the old one goes to
 * IDPBRIDGE_SECRET_KEY_PREVIOUS; the start-up pass re-encrypts every value under the current key,
 * after which the previous key can be dropped (docs/operator.md).
 */

const PREFIX = 'enc:v1:';

export class SecretKeyError extends Error {
  readonly code = 'ERR_SECRET_KEY';
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

interface Key {
  kid: string;
  bytes: Buffer;
}

/** A 32-byte key given as 64 hex characters or base64/base64url; never echoed in errors. */
export function parseSecretKey(value: string, name = 'IDPBRIDGE_SECRET_KEY'): Buffer {
  const v = value.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(v)) bytes = Buffer.from(v, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) bytes = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!bytes || bytes.length !== 32) {
    throw new SecretKeyError(`${name} must be 32 random bytes, as 64 hex characters or 44 base64 characters (e.g. \`openssl rand -base64 32\`)`);
  }
  return bytes;
}

/** The key id: a short digest of the key (not reversible, stable, the same in every process). */
export function keyId(bytes: Buffer): string {
  return createHash('sha256').update('idpbridge secret key id\0').update(bytes).digest('base64url').slice(0, 8);
}

/** A fresh key in the format IDPBRIDGE_SECRET_KEY accepts (base64). */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * The key file of an embedded (PGlite) installation without IDPBRIDGE_SECRET_KEY: read, or created
 * with mode 0600 on first start. Returns the key text and whether it was created now.
 */
export function loadOrCreateKeyFile(path: string): { key: string; created: boolean } {
  try {
    const key = readFileSync(path, 'utf8').trim();
    parseSecretKey(key, path);
    return { key, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true });
  const key = generateSecretKey();
  // wx: two starters never overwrite each other's key.
  try {
    writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKeyFile(path);
    throw err;
  }
  chmodSync(path, 0o600);
  return { key, created: true };
}

export const isEncrypted = (stored: string): boolean => stored.startsWith(PREFIX);

export class SecretBox {
  private readonly current: Key | undefined;
  private readonly byKid = new Map<string, Key>();

  /**
   * `current`: the key new values are encrypted with (undefined: none configured, so secrets can
   * be neither stored nor read); `previous`: older keys accepted for decryption.
   */
  constructor(current: string | Buffer | undefined, previous: readonly (string | Buffer)[] = []) {
    const toKey = (k: string | Buffer, name: string): Key => {
      const bytes = typeof k === 'string' ? parseSecretKey(k, name) : k;
      if (bytes.length !== 32) throw new SecretKeyError(`${name} must be 32 bytes`);
      return { kid: keyId(bytes), bytes };
    };
    if (current !== undefined) {
      this.current = toKey(current, 'IDPBRIDGE_SECRET_KEY');
      this.byKid.set(this.current.kid, this.current);
    }
    for (const p of previous) {
      const k = toKey(p, 'IDPBRIDGE_SECRET_KEY_PREVIOUS');
      if (!this.byKid.has(k.kid)) this.byKid.set(k.kid, k);
    }
  }

  /** True when a current key is configured. */
  get enabled(): boolean {
    return this.current !== undefined;
  }

  /** Id of the current key (undefined without one). */
  get currentKid(): string | undefined {
    return this.current?.kid;
  }

  encrypt(plaintext: string, purpose: string): string {
    if (!this.current) {
      throw new SecretKeyError('IDPBRIDGE_SECRET_KEY is not set: secrets cannot be stored encrypted (see docs/operator.md)');
    }
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.current.bytes, iv);
    c.setAAD(Buffer.from(purpose, 'utf8'));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    const b = (x: Buffer) => x.toString('base64url');
    return `${PREFIX}${this.current.kid}:${b(iv)}:${b(c.getAuthTag())}:${b(ct)}`;
  }

  /**
   * The plaintext of a stored value. A value without the `enc:v1:` prefix is a legacy plaintext
   * row (the start-up pass encrypts those) and is returned as it is.
   */
  decrypt(stored: string, purpose: string): string {
    if (!isEncrypted(stored)) return stored;
    const parts = stored.slice(PREFIX.length).split(':');
    if (parts.length !== 4) throw new SecretKeyError('an encrypted secret is malformed');
    const [kid, iv, tag, ct] = parts as [string, string, string, string];
    const key = this.byKid.get(kid);
    if (!key) {
      throw new SecretKeyError(
        `a secret is encrypted with key ${kid}, which is neither IDPBRIDGE_SECRET_KEY (${this.current?.kid ?? 'not set'}) nor in IDPBRIDGE_SECRET_KEY_PREVIOUS`,
      );
    }
    try {
      const d = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(purpose, 'utf8'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError(`a secret encrypted with key ${kid} does not decrypt (corrupted, or stored for another purpose than ${purpose})`);
    }
  }

  /** True when a stored value is plaintext or under another key than the current one. */
  needsReencrypt(stored: string): boolean {
    if (!this.current) return false;
    if (!isEncrypted(stored)) return true;
    return stored.slice(PREFIX.length).split(':', 1)[0] !== this.current.kid;
  }

  /** The stored value re-encrypted under the current key (throws when it cannot be decrypted). */
  reencrypt(stored: string, purpose: string): string {
    return this.encrypt(this.decrypt(stored, purpose), purpose);
  }
}

export interface OpenSecretBoxOptions {
  /** IDPBRIDGE_SECRET_KEY. */
  key: string | undefined;
  /** IDPBRIDGE_SECRET_KEY_PREVIOUS. */
  previous: readonly string[];
  /**
   * Without a configured key: `file` = the key file of an embedded data directory (created on
   * first start, mode 0600; when a key is configured it still decrypts, so moving to
   * IDPBRIDGE_SECRET_KEY is a rotation); `ephemeral` = a random key for this process (an in-memory
   * database); `none` = no key (PostgreSQL: secrets can then be neither stored nor read).
   */
  fallback: { kind: 'file'; path: string } | { kind: 'ephemeral' } | { kind: 'none' };
}

/** The installation's SecretBox, and where its current key came from. */
export function openSecretBox(opts: OpenSecretBoxOptions): { box: SecretBox; source: 'env' | 'file' | 'generated-file' | 'ephemeral' | 'none' } {
  const fb = opts.fallback;
  if (opts.key) {
    const previous = [...opts.previous];
    if (fb.kind === 'file') {
      try {
        previous.push(readFileSync(fb.path, 'utf8').trim());
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return { box: new SecretBox(opts.key, previous), source: 'env' };
  }
  if (fb.kind === 'file') {
    const { key, created } = loadOrCreateKeyFile(fb.path);
    return { box: new SecretBox(key, opts.previous), source: created ? 'generated-file' : 'file' };
  }
  if (fb.kind === 'ephemeral') return { box: new SecretBox(randomBytes(32), opts.previous), source: 'ephemeral' };
  return { box: new SecretBox(undefined, opts.previous), source: 'none' };
}
