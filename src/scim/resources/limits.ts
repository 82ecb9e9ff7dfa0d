import { InvalidValueError } from '../errors.js';

/**
 * Attributes stored in indexed columns (userName, externalId, Group displayName): a B-tree entry
 * holds at most ~2.7 kB, so longer values are refused with a 400 rather than failing in the database.
 */
export const MAX_INDEXED_BYTES = 2048;

export function checkIndexedLength(attribute: string, value: string | null | undefined): void {
  if (typeof value === 'string' && value.length > MAX_INDEXED_BYTES / 4 && Buffer.byteLength(value, 'utf8') > MAX_INDEXED_BYTES) {
    throw new InvalidValueError(`Attribute "${attribute}" is ${Buffer.byteLength(value, 'utf8')} bytes long; at most ${MAX_INDEXED_BYTES} bytes (UTF-8) are accepted`);
  }
}
