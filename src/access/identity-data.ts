/**
 * What the access model reads out of a stored SCIM User resource (`scim_users.data`):
 * roles, userType, the Metadata string map and the direct-grant values.
 * The checks run inside SCIM writes and admin API writes alike, so a refusal is a SCIM invalidValue
 * error; on the admin API the one error handler answers it as 400 ERR_BAD_REQUEST (docs/errors.md).
 */
import { METADATA_SCHEMA, USER_SCHEMA } from '../scim/schema/index.js';
import { InvalidValueError } from '../scim/errors.js';
import type { TenantSettings } from '../tenants/settings.js';

/** At most this many direct-grant values per identity (after splitting). */
export const MAX_GRANT_VALUES = 1000;
export const MAX_GRANT_VALUE_LENGTH = 500;

type Data = Record<string, unknown>;

/** Value of `key` in `obj`, matching the key case-insensitively (SCIM names are case-insensitive). */
function getCi(obj: Data | undefined, key: string): unknown {
  if (!obj) return undefined;
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

const isObject = (v: unknown): v is Data => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `roles[].value` (also tolerates plain strings). */
export function rolesOf(data: Data): string[] {
  const roles = getCi(data, 'roles');
  if (!Array.isArray(roles)) return [];
  const out: string[] = [];
  for (const r of roles) {
    const v = typeof r === 'string' ? r : isObject(r) ? r.value : undefined;
    if (typeof v === 'string' && v !== '' && !out.includes(v)) out.push(v);
  }
  return out;
}

/** The primary e-mail address (the entry marked primary, else the first), lower-cased; undefined when none. */
export function primaryEmailOf(data: Data): string | undefined {
  const emails = getCi(data, 'emails');
  if (!Array.isArray(emails)) return undefined;
  const entries = emails.filter(isObject);
  const e = entries.find((x) => x.primary === true) ?? entries[0];
  const v = e?.value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim().toLowerCase() : undefined;
}

export function userTypeOf(data: Data): string | undefined {
  const v = getCi(data, 'userType');
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Every attribute under `urn:ietf:params:scim:schemas:extension:2.0:Metadata`, as strings. */
export function metadataOf(data: Data): Record<string, string> {
  const ext = getCi(data, METADATA_SCHEMA);
  const out: Record<string, string> = {};
  if (!isObject(ext)) return out;
  for (const [k, v] of Object.entries(ext)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** The raw value(s) of the tenant's grants attribute (`urn:…:Schema:attr`). */
function rawGrants(data: Data, grantsAttribute: string): unknown {
  const i = grantsAttribute.lastIndexOf(':');
  if (i <= 0) return undefined;
  const urn = grantsAttribute.slice(0, i);
  const name = grantsAttribute.slice(i + 1);
  if (urn.toLowerCase() === USER_SCHEMA.toLowerCase()) return getCi(data, name);
  const ext = getCi(data, urn);
  return isObject(ext) ? getCi(ext, name) : undefined;
}

/**
 * Direct-grant values: multi-valued, and each string is also split at commas (Entra sends
 * `"Folder 1, Folder 2"` as one value when the mapping has no Split()); trimmed, empty
 * values dropped, duplicates removed, order kept.
 */
export function grantValuesOf(data: Data, grantsAttribute: string): string[] {
  const raw = rawGrants(data, grantsAttribute);
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of list) {
    const v = isObject(item) ? item.value : item;
    if (v === undefined || v === null) continue;
    for (const part of String(v).split(',')) {
      const s = part.trim();
      if (s === '' || seen.has(s)) continue;
      if (s.length > MAX_GRANT_VALUE_LENGTH) {
        throw new InvalidValueError(`A value of ${grantsAttribute} is longer than ${MAX_GRANT_VALUE_LENGTH} characters`);
      }
      seen.add(s);
      out.push(s);
    }
  }
  if (out.length > MAX_GRANT_VALUES) {
    throw new InvalidValueError(`${grantsAttribute} has ${out.length} values; at most ${MAX_GRANT_VALUES} are accepted`);
  }
  return out;
}

/** Refuses a userType outside the tenant's allow-list (empty list = any value). */
/**
 * Refuses `roles[].value` outside the tenant's allow-list (exact, case-sensitive) with
 * InvalidValueError naming the allowed values. An empty list allows any role.
 */
export function checkRoles(settings: Pick<TenantSettings, 'roleAllowList'>, data: Data): void {
  const allowed = settings.roleAllowList;
  if (!allowed || allowed.length === 0) return;
  const bad = rolesOf(data).filter((r) => !allowed.includes(r));
  if (bad.length > 0) {
    throw new InvalidValueError(
      `role ${bad.map((b) => JSON.stringify(b)).join(', ')} is not allowed in this tenant; allowed values (exact, case-sensitive): ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
    );
  }
}

export function checkUserType(settings: Pick<TenantSettings, 'userTypeAllowList'>, data: Data): void {
  const allowed = settings.userTypeAllowList;
  if (!allowed || allowed.length === 0) return;
  const v = getCi(data, 'userType');
  if (v === undefined || v === null || v === '') return;
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new InvalidValueError(
      `userType ${JSON.stringify(v)} is not allowed in this tenant; allowed values (exact, case-sensitive): ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
    );
  }
}
