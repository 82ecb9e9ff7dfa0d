/** Turns a PATCH path (or a path-less value key) into a schema-resolved target. */
import type { ResourceSchemas } from '../schema/types.js';
import type { AttrPath, FilterNode } from '../filter/ast.js';
import { InvalidPathError } from '../errors.js';
import { parsePatchPath, resolveAttribute, resolveSchemaUrn } from './deps.js';
import type { AttrTarget, Target } from './types.js';
import { eqName } from './values.js';

export function resolvePatchPath(rs: ResourceSchemas, text: string): Target {
  // A whole schema URN is not an attribute path; check it before parsing.
  const schema = resolveSchemaUrn(rs, text);
  if (schema) return { kind: 'schema', text, schema, isExtension: schema.id !== rs.core.id };
  const parsed = parsePatchPath(text);
  return resolveParsed(rs, parsed.path, parsed.filter, parsed.sub ?? parsed.path.sub, text);
}

function resolveParsed(
  rs: ResourceSchemas,
  path: AttrPath,
  filter: FilterNode | undefined,
  subName: string | undefined,
  text: string,
): AttrTarget {
  // Unqualified names fall back to extensions (Entra's tutorial sends "path":"manager").
  const hit = resolveAttribute(rs, path.urn !== undefined ? { urn: path.urn, attr: path.attr } : { attr: path.attr });
  if (!hit) throw new InvalidPathError(`Unknown attribute path "${text}"`);
  const { schema, attr, isExtension } = hit;
  const target: AttrTarget = { kind: 'attr', text, schema, isExtension, attr };
  if (filter) {
    if (!attr.multiValued) {
      throw new InvalidPathError(`"${text}": a value filter needs a multi-valued attribute, and "${attr.name}" is single-valued`);
    }
    target.filter = filter;
  }
  if (subName !== undefined) {
    if (attr.type !== 'complex') {
      throw new InvalidPathError(`"${text}": "${attr.name}" is not complex, so it has no sub-attribute "${subName}"`);
    }
    const sub = attr.subAttributes?.find((s) => eqName(s.name, subName));
    if (!sub) throw new InvalidPathError(`"${text}": "${attr.name}" has no sub-attribute "${subName}"`);
    target.sub = sub;
  }
  return target;
}
