import { hashPassword } from '../../lib/secrets.js';
import { InvalidValueError } from '../errors.js';

/** Takes `password` (writeOnly) out of a normalized resource and returns its hash. */
export async function extractPassword(data: Record<string, unknown>): Promise<string | undefined> {
  if (!('password' in data)) return undefined;
  const pw = data.password;
  delete data.password;
  if (typeof pw !== 'string' || pw.length === 0) return undefined;
  if (pw.length > 1024) throw new InvalidValueError('password is longer than 1024 characters');
  return hashPassword(pw);
}
