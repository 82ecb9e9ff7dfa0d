import { PreconditionFailedError } from '../errors.js';

/** Weak ETag from the row version (RFC 7644 §3.14). */
export const etagOf = (version: number) => `W/"${version}"`;

/** If-Match: the write proceeds only if one listed tag (or `*`) matches the current version. */
export function checkIfMatch(header: string | undefined, version: number): void {
  if (header === undefined || header.trim() === '') return;
  const current = etagOf(version);
  const tags = header.split(',').map((t) => t.trim());
  const strip = (t: string) => t.replace(/^W\//, '');
  if (tags.includes('*') || tags.some((t) => strip(t) === strip(current))) return;
  throw new PreconditionFailedError(`If-Match ${header} does not match the current version ${current}; fetch the resource again`);
}

/** If-None-Match on GET: true when the client's copy is current (answer 304). */
export function notModified(header: string | undefined, version: number): boolean {
  if (!header) return false;
  const current = etagOf(version).replace(/^W\//, '');
  return header.split(',').map((t) => t.trim()).some((t) => t === '*' || t.replace(/^W\//, '') === current);
}
