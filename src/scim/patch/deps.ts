/**
 * The one seam between the PATCH engine and the filter/schema modules, so the
 * engine's other files never import them directly.
 */
export { parsePatchPath } from '../filter/parse.js';
export { resolveAttribute, resolveSchemaUrn } from '../schema/registry.js';
export { coerceValue, normalizeResource } from '../schema/validate.js';
// TEMPORARY until src/scim/filter/evaluate.ts lands.
export { matchesValueFilter } from './standins.js';
