import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../../db/types.js';
import { ExpiredCursorError, InvalidCursorError } from '../errors.js';

/**
 * RFC 9865 cursors: an opaque, signed position in a tenant's list. The position is a keyset
 * (created_at, id) of the row next to which the page starts, so a cursor stays valid while
 * resources come and go (the next page starts after it, wherever it now is) and costs one index
 * seek however deep it points.
 *
 * Wire form: base64url(JSON payload) "." base64url(HMAC-SHA-256(key, payload))[0..22]. The payload
 * binds the tenant, the resource type and the list's shape (filter and order), so a cursor replayed
 * on another tenant, endpoint or filter is refused. The HMAC key is a random value kept in
 * system_settings (created by the first process that needs it): every process of an installation
 * signs and checks with the same key, across restarts.
 */

/** Seconds a cursor stays usable (advertised as ServiceProviderConfig pagination.cursorTimeout). */
export const CURSOR_TIMEOUT_S = 86_400;

export interface CursorPosition {
  /** 'n': the page after the position; 'p': the page before it. */
  dir: 'n' | 'p';
  /** created_at as PostgreSQL's text form (microseconds survive the round trip, unlike a Date). */
  at: string;
  id: string;
}

interface Payload extends CursorPosition {
  v: 1;
  /** tenant id */
  t: string;
  /** resource type and list shape */
  s: string;
  /** issued at, epoch seconds */
  iat: number;
}

const KEY_SETTING = 'scim_cursor_key';
let keyPromise: Promise<Buffer> | undefined;
let keyDb: Queryable | undefined;

/** The installation's cursor key: read once per process (and per database, for tests). */
function cursorKey(db: Queryable): Promise<Buffer> {
  if (!keyPromise || keyDb !== db) {
    keyDb = db;
    keyPromise = loadKey(db).catch((err) => {
      keyPromise = undefined;
      throw err;
    });
  }
  return keyPromise;
}

async function loadKey(db: Queryable): Promise<Buffer> {
  // Two processes may race on the first use: DO NOTHING, then everyone reads the winner's key.
  await db.query(
    `INSERT INTO system_settings (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO NOTHING`,
    [KEY_SETTING, JSON.stringify(randomBytes(32).toString('base64url'))],
  );
  const { rows } = await db.query<{ value: string }>('SELECT value FROM system_settings WHERE key = $1', [KEY_SETTING]);
  return Buffer.from(rows[0]!.value, 'base64url');
}

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest().subarray(0, 16);

export async function encodeCursor(db: Queryable, tenantId: string, shape: string, pos: CursorPosition): Promise<string> {
  const p: Payload = { v: 1, t: tenantId, s: shape, iat: Math.floor(Date.now() / 1000), ...pos };
  const payload = Buffer.from(JSON.stringify(p)).toString('base64url');
  return `${payload}.${mac(await cursorKey(db), payload).toString('base64url')}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// PostgreSQL's timestamptz text output, e.g. "2026-12-06 08:34:27.123456+00".
const TIMESTAMP = /^\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d){0,2}$/;

/** Checks a client's cursor; anything but this tenant's, this list's, unexpired cursor is a 400. */
export async function decodeCursor(db: Queryable, tenantId: string, shape: string, cursor: string): Promise<CursorPosition> {
  const invalid = (why: string) => new InvalidCursorError(`The cursor is not valid for this request: ${why}. Start again with cursor= (empty) for the first page.`);
  const [payload, sig, ...rest] = cursor.split('.');
  if (!payload || !sig || rest.length > 0 || cursor.length > 1024) throw invalid('it is not a cursor this server issued');
  const want = mac(await cursorKey(db), payload);
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw invalid('its signature does not match');
  let p: Partial<Payload>;
  try {
    p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<Payload>;
  } catch {
    throw invalid('it is not a cursor this server issued');
  }
  if (p.v !== 1 || (p.dir !== 'n' && p.dir !== 'p') || typeof p.at !== 'string' || !TIMESTAMP.test(p.at) || typeof p.id !== 'string' || !UUID.test(p.id) || typeof p.iat !== 'number') {
    throw invalid('it is not a cursor this server issued');
  }
  if (p.t !== tenantId) throw invalid('it was issued for another tenant');
  if (p.s !== shape) throw invalid('it was issued for another endpoint, filter or sort order');
  if (Date.now() / 1000 - p.iat > CURSOR_TIMEOUT_S) throw new ExpiredCursorError(`The cursor expired (cursors last ${CURSOR_TIMEOUT_S} s). Start again with cursor= (empty) for the first page.`);
  return { dir: p.dir, at: p.at, id: p.id };
}
