import type { FieldChange } from './entry.js';
import { storable } from './entry.js';

/**
 * Field names whose values are secrets: an entry records only that they changed. Matched anywhere
 * in the name and at every depth (clientSecret, operatorToken, privateKey, scim password …).
 */
const SECRET_NAME = /secret|password|passwd|token|private|credential|api_?key|signing_?key|assertion/i;

/** Values that look like credentials whatever their field is called (our own prefixes, PEM keys, JWTs). */
const SECRET_VALUE = /^(idpb_|idpbridge_)|-----BEGIN [A-Z ]*PRIVATE KEY-----|^eyJ[\w-]{8,}\.[\w-]{8,}\./;

export const isSecretField = (name: string): boolean => SECRET_NAME.test(name);

/** A value with every secret-named field (at any depth) and every secret-looking string replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return SECRET_VALUE.test(value) ? '[redacted]' : value;
  if (value === null || typeof value !== 'object' || value instanceof Date || depth > 6) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => [k, isSecretField(k) ? '[redacted]' : redact(v, depth + 1)]));
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The field → change map of an entry. `after` is what the request set (its body); `before`, when
 * the route knows it, the values those fields had. Secret fields give `{changed: true}` only;
 * fields whose value did not change are left out when `before` is known.
 */
export function fieldChanges(after: unknown, before?: Record<string, unknown>): Record<string, FieldChange> {
  if (after === null || typeof after !== 'object' || Array.isArray(after)) return {};
  const out: Record<string, FieldChange> = {};
  for (const [field, value] of Object.entries(after as Record<string, unknown>)) {
    if (isSecretField(field)) {
      out[field] = { changed: true };
      continue;
    }
    if (before && Object.hasOwn(before, field)) {
      if (sameValue(before[field], value)) continue;
      out[field] = { before: storable(redact(before[field])), after: storable(redact(value)) };
    } else {
      out[field] = { after: storable(redact(value)) };
    }
  }
  return out;
}
