/** PatchOp message validation (RFC 7644 §3.5.2), tolerant of what Entra and Okta send. */
import { InvalidSyntaxError, InvalidValueError } from '../errors.js';
import type { OpName, PatchOperation } from './types.js';
import { findKey, isObj } from './values.js';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const OPS: Record<string, OpName> = { add: 'add', replace: 'replace', remove: 'remove' };

export function parsePatchMessage(body: unknown): PatchOperation[] {
  if (!isObj(body)) {
    throw new InvalidSyntaxError('PATCH body must be a JSON object with an "Operations" array');
  }
  // `schemas` should name PatchOp, but clients that omit it are still understood.
  const opsKey = findKey(body, 'Operations');
  const list = opsKey === undefined ? undefined : body[opsKey];
  if (!Array.isArray(list)) {
    throw new InvalidSyntaxError(
      opsKey === undefined ? 'PATCH body has no "Operations" array' : '"Operations" must be an array',
    );
  }
  return list.map((raw, index) => parseOperation(raw, index));
}

function parseOperation(raw: unknown, index: number): PatchOperation {
  const where = `Operations[${index}]`;
  if (!isObj(raw)) throw new InvalidSyntaxError(`${where} must be an object`);
  const opKey = findKey(raw, 'op');
  const opRaw = opKey === undefined ? undefined : raw[opKey];
  if (typeof opRaw !== 'string') throw new InvalidSyntaxError(`${where} has no "op"`);
  // Entra sends "Add"/"Replace"/"Remove"; RFC 7644 op names are case-insensitive in practice.
  const op = OPS[opRaw.toLowerCase()];
  if (!op) {
    throw new InvalidSyntaxError(`${where}: unsupported op "${opRaw}" (expected add, replace or remove)`);
  }
  const pathKey = findKey(raw, 'path');
  const pathRaw = pathKey === undefined ? undefined : raw[pathKey];
  if (pathRaw !== undefined && pathRaw !== null && typeof pathRaw !== 'string') {
    throw new InvalidSyntaxError(`${where}: "path" must be a string`);
  }
  // "path": null or "" is sent by some clients to mean "no path".
  const path = typeof pathRaw === 'string' && pathRaw.trim() !== '' ? pathRaw.trim() : undefined;
  const valueKey = findKey(raw, 'value');
  const hasValue = valueKey !== undefined && raw[valueKey] !== undefined;
  const value = hasValue ? raw[valueKey!] : undefined;
  if (op !== 'remove' && !hasValue) {
    throw new InvalidValueError(`${where}: "${op}" requires a "value"`);
  }
  return { index, op, path, value, hasValue };
}
