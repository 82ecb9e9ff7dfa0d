/**
 * The one seam between the PATCH engine and the filter/schema modules, so the
 * engine's other files never import them directly.
 */
export { parsePatchPath } from '../filter/parse.js';
export { matchesValueFilter } from '../filter/evaluate.js';
export { resolveAttribute, resolveSchemaUrn } from '../schema/registry.js';
export { coerceValue, normalizeResource } from '../schema/validate.js';
