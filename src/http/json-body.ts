/**
 * Checks a parsed JSON request body for what the database cannot store or the code should not
 * walk: U+0000 and unpaired surrogates (PostgreSQL text and jsonb refuse both) and nesting
 * deeper than any SCIM or admin document needs (recursive code would exhaust the stack).
 * Used by the SCIM and admin JSON body parsers; the walk is iterative.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';
import { InvalidFilterError, InvalidValueError } from '../scim/errors.js';

export const MAX_JSON_DEPTH = 32;

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Only bodies whose text has a \u0000 or \uD8xx–\uDFxx escape can hold such characters.
const SUSPECT = /\\u(?:0000|d[89a-f])/i;

/** A query-string value PostgreSQL cannot take as a parameter (U+0000, unpaired surrogates), if any. */
export function queryProblem(query: unknown): string | undefined {
  if (!query || typeof query !== 'object') return undefined;
  for (const [k, v] of Object.entries(query)) {
    for (const s of Array.isArray(v) ? v : [v]) {
      if (typeof s === 'string' && UNSTORABLE.test(s)) return `Query parameter "${k}" contains U+0000 or an unpaired surrogate`;
    }
    if (UNSTORABLE.test(k)) return 'A query parameter name contains U+0000 or an unpaired surrogate';
  }
  return undefined;
}

/**
 * After schema validation: ajv coerces "1e309" or "Infinity" to ±Infinity for an integer parameter and
 * then skips minimum/maximum, so a non-finite number here got past the schema.
 */
export function nonFiniteParameter(query: unknown): string | undefined {
  if (!query || typeof query !== 'object') return undefined;
  for (const [k, v] of Object.entries(query)) {
    if (typeof v === 'number' && !Number.isFinite(v)) return `Query parameter "${k}" must be a finite number`;
  }
  return undefined;
}

/**
 * Whether the text could hold a problem at all: the walk below allocates a path per key. One pass,
 * linear in the text (a regular expression like /\d{309}/ restarts at every digit of a long run:
 * 0.4 s of CPU on a crafted 1 MB body). A JSON number parses to ±Infinity only with a 3-digit
 * exponent or over 308 digits; depth needs as many brackets (counting those inside strings too).
 */
function mayHaveProblem(text: string): boolean {
  if (SUSPECT.test(text)) return true;
  let brackets = 0;
  let digits = 0; // length of the current run of digits
  let expDigits = -1; // digits after an e/E (and optional sign); -1 outside an exponent
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits >= 309) return true;
      if (expDigits >= 0 && ++expDigits >= 3) return true;
      continue;
    }
    digits = 0;
    if (c === 101 || c === 69) { // e E
      expDigits = 0;
      continue;
    }
    if ((c === 43 || c === 45) && expDigits === 0 && (text.charCodeAt(i - 1) === 101 || text.charCodeAt(i - 1) === 69)) continue; // + - right after e
    expDigits = -1;
    if ((c === 123 || c === 91) && ++brackets >= MAX_JSON_DEPTH) return true;
  }
  return false;
}

/** A description of the first problem, or undefined when the body is fine. */
export function bodyProblem(text: string, value: unknown): string | undefined {
  return mayHaveProblem(text) ? walkForProblem(text, value) : undefined;
}

/** The walk itself (exported for the test that holds the text pre-check to it). */
export function walkForProblem(text: string, value: unknown): string | undefined {
  const checkText = SUSPECT.test(text);
  const stack: Array<[unknown, number, string]> = [[value, 1, '']];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (checkText && UNSTORABLE.test(v)) return `${path ? `"${path}"` : 'A value'} contains U+0000 or an unpaired surrogate (\\uD800–\\uDFFF), which cannot be stored`;
      continue;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return `${path ? `"${path}"` : 'A number'} is out of range (${String(v)})`;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return `The JSON document is nested more than ${MAX_JSON_DEPTH} levels deep`;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], depth + 1, path]);
    } else {
      for (const [k, x] of Object.entries(v)) {
        if (checkText && UNSTORABLE.test(k)) return `An attribute name contains U+0000 or an unpaired surrogate, which cannot be stored`;
        stack.push([x, depth + 1, path ? `${path}.${k}` : k]);
      }
    }
  }
  return undefined;
}

/** The root JSON parser (admin API, /v1; SCIM registers its own with the same checks) and the query-string guards. */
export function installInputGuards(app: FastifyInstance): void {
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => defaultJson(req, body as string, (err, value) => {
    if (err) return done(err);
    const problem = bodyProblem(body as string, value);
    return problem ? done(new ApiError('ERR_VALIDATION', problem)) : done(null, value);
  }));
  // e.g. ?name=%00 would reach SQL as a parameter PostgreSQL refuses.
  // Callback hooks: every request passes both, and a synchronous check needs no promise.
  app.addHook('preValidation', (req, _reply, done) => {
    const problem = queryProblem(req.query);
    if (!problem) return done();
    if (!/^\/scim\//i.test(req.url)) return done(new ApiError('ERR_VALIDATION', problem));
    done(problem.includes('"filter"') ? new InvalidFilterError(problem) : new InvalidValueError(problem));
  });
  app.addHook('preHandler', (req, _reply, done) => {
    const problem = nonFiniteParameter(req.query);
    done(problem ? new ApiError('ERR_VALIDATION', problem) : undefined);
  });
}
