/**
 * Compiles a filter AST to a parameterised PostgreSQL boolean expression over
 * scim_users / scim_groups (001_foundation.sql). Same semantics as evaluate.ts
 * (see its header); the property test checks the two agree row for row.
 *
 * Safety: every literal is a bind parameter; table, column and JSON key names
 * come from this file and the schema definitions (and are quoted anyway).
 *
 * Index use: `userName eq` → `lower(a.user_name) = lower($n)` (scim_users_user_name),
 * Group `displayName eq` → `lower(a.display_name) = lower($n)` (scim_groups_display_name_ci),
 * `externalId eq` → `a.external_id = $n`, `id eq` → `a.id = $n::uuid` (primary keys);
 * `userName sw` → `lower(a.user_name) LIKE lower($n) ESCAPE '\'` and userName gt/ge/lt/le →
 * `lower(a.user_name) COLLATE "C" > lower($n)` (scim_users_user_name_c, a C-collation index: the LIKE
 * is a range there only in a plan made for the value; compileUserNameRange gives list-page.ts's counts
 * ranges that hold in any plan);
 * membership filters are EXISTS over scim_group_members' primary key / member index.
 */
import { InvalidFilterError, InvalidPathError, InvalidValueError } from '../errors.js';
import type { AttributeDef, ResourceSchemas } from '../schema/types.js';
import type { CompareOp, FilterNode } from './ast.js';
import { parseAttrPath } from './parse.js';
import { MAX_FILTER_EXISTS } from './cost.js';

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
import { printPath } from './print.js';
import {
  UUID_RE, comparedDef, isOrdering, resolveElementPath, resolveFilterPath, typeLiteral,
  type ResolvedAttribute, type Typed,
} from './semantics.js';

export interface CompileContext {
  rs: ResourceSchemas;
  /** SQL alias of the scim_users / scim_groups row, e.g. "r". */
  alias: string;
  /** Bind parameters so far; literals are appended and referenced as $n. */
  params: unknown[];
  /** meta.location = locationBase + id (e.g. "https://h/scim/v2/<tenant>/Users/"); without it meta.location is not filterable. */
  locationBase?: string;
}

/** A single SQL value: a typed column expression, or a jsonb expression (possibly SQL NULL). */
type Scalar =
  | { kind: 'col'; sql: string; type: 'text' | 'uuid' | 'bool' | 'ts' | 'num'; nullable: boolean }
  | { kind: 'json'; sql: string };

/** The elements of a multi-valued attribute as a correlated row source. */
interface Many {
  from: string;
  where: string[];
  /** Expression of one element's sub-attribute (or, for simple multi-valued, the element itself). */
  elem(def: AttributeDef): Scalar;
  /** ORDER BY for "primary first, then array order" when sorting by this attribute. */
  order: string;
}

type Target = { kind: 'one'; scalar: Scalar } | { kind: 'many'; many: Many };

const SAFE_KEY = /^[A-Za-z0-9_:.$-]+$/;
const SAFE_ALIAS = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SQL_OP: Record<'gt' | 'ge' | 'lt' | 'le', string> = { gt: '>', ge: '>=', lt: '<', le: '<=' };

/** Compiles `node` to a boolean SQL expression; the caller adds `alias.tenant_id = $1`. */
export function compileFilter(node: FilterNode, ctx: CompileContext): string {
  return new Compiler(ctx).node(node);
}

/** A userName filter as an interval of `lower(user_name) COLLATE "C"`, the key of scim_users_user_name_c. */
export interface UserNameRange {
  /** The condition of the rows the filter selects: one index range. */
  inside: string;
  /** Conditions of the tenant's other rows, disjoint, each one index range. */
  outside: string[];
}

/**
 * The rows a filter that is a single userName sw/gt/ge/lt/le comparison selects (exactly those
 * compileFilter's expression selects), as index ranges that hold in a generic plan too (the bounds
 * are expressions of the parameters, evaluated when the scan starts), and the rest of the tenant
 * as ranges as well, so that a count can count whichever side is smaller. `lower(x) LIKE 'p%'`
 * holds iff lower(x) starts with p, iff p ≤ lower(x) < p′ in C (code point) order, where p′ is p
 * with its last code point incremented. user_name is never NULL, so inside and outside partition
 * the tenant. Undefined for any other filter (and for a prefix whose last code point has no
 * successor in text: U+D7FF, U+10FFFF).
 */
export function compileUserNameRange(node: FilterNode, ctx: CompileContext): UserNameRange | undefined {
  if (node.kind !== 'compare' || ctx.rs.resourceType !== 'User' || typeof node.value !== 'string') return undefined;
  const { op, value } = node;
  if (op !== 'sw' && !isOrdering(op)) return undefined;
  if (!SAFE_ALIAS.test(ctx.alias) || UNSTORABLE.test(value)) return undefined;
  let r: ResolvedAttribute;
  try {
    r = resolveFilterPath(ctx.rs, node.path);
  } catch {
    return undefined;
  }
  if (r.schema !== ctx.rs.core || r.attr.name !== 'userName' || r.sub || r.attr.caseExact) return undefined;
  const x = `lower(${ctx.alias}.user_name) COLLATE "C"`;
  ctx.params.push(value);
  const p = `lower($${ctx.params.length})`;
  if (op === 'sw') {
    const last = [...value].at(-1)?.codePointAt(0);
    if (last === undefined || last === 0xd7ff || last === 0x10ffff) return undefined;
    const next = `(left(${p}, -1) || chr(ascii(right(${p}, 1)) + 1))`;
    return { inside: `${x} >= ${p} AND ${x} < ${next}`, outside: [`${x} < ${p}`, `${x} >= ${next}`] };
  }
  const complement = { gt: '<=', ge: '<', lt: '>=', le: '>' } as const;
  return { inside: `${x} ${SQL_OP[op as keyof typeof SQL_OP]} ${p}`, outside: [`${x} ${complement[op as keyof typeof complement]} ${p}`] };
}

/**
 * ORDER BY expression for sortBy (RFC 7644 §3.4.2.3): case-insensitive strings
 * sort by lower(); a multi-valued attribute sorts by its primary (else first) value.
 * The caller appends ASC/DESC (NULLS LAST recommended) and a tie-breaker such as id.
 */
export function compileSort(sortBy: string, ctx: CompileContext): string {
  let path;
  try {
    path = parseAttrPath(sortBy);
  } catch (e) {
    if (e instanceof InvalidPathError) throw new InvalidValueError(`sortBy "${sortBy}" is not a valid attribute path: ${e.message}`);
    throw e;
  }
  const c = new Compiler(ctx);
  let r: ResolvedAttribute;
  try {
    r = resolveFilterPath(ctx.rs, path);
  } catch (e) {
    if (e instanceof InvalidFilterError) throw new InvalidValueError(`sortBy "${sortBy}" names an unknown or unsortable attribute`);
    throw e;
  }
  const label = printPath(path);
  const t = c.target(r, label);
  if (t.kind === 'one') {
    const def = r.sub ?? r.attr;
    if (def.type === 'complex') throw new InvalidValueError(`sortBy "${sortBy}" names a complex attribute; sort by one of its sub-attributes`);
    return c.sortValue(t.scalar, def);
  }
  const def = comparedDef(r, label);
  const m = t.many;
  return `(SELECT ${c.sortValue(m.elem(def), def)} FROM ${m.from}${m.where.length ? ` WHERE ${m.where.join(' AND ')}` : ''} ORDER BY ${m.order} LIMIT 1)`;
}

class Compiler {
  private readonly a: string;
  private readonly rs: ResourceSchemas;
  private readonly params: unknown[];
  private seq = 0;
  private existsCount = 0;

  constructor(private readonly ctx: CompileContext) {
    if (!SAFE_ALIAS.test(ctx.alias)) throw new Error(`invalid SQL alias ${JSON.stringify(ctx.alias)}`);
    this.a = ctx.alias;
    this.rs = ctx.rs;
    this.params = ctx.params;
  }

  private param(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }

  private alias(prefix: string): string {
    return `${prefix}${++this.seq}`;
  }

  node(node: FilterNode): string {
    switch (node.kind) {
      case 'and':
      case 'or':
        return this.chain(node, (n) => this.node(n));
      case 'not':
        // NULL (unknown) inside must not turn into "not unknown" = unknown: treat it as false first.
        return `NOT COALESCE(${this.node(node.filter)}, false)`;
      case 'valuePath': {
        const r = resolveFilterPath(this.rs, node.path);
        const label = printPath(node.path);
        if (r.attr.type !== 'complex' && !r.attr.multiValued) {
          throw new InvalidFilterError(`"${label}[…]" needs a multi-valued or complex attribute`);
        }
        const many = this.many(r, label);
        const inner = this.element(node.filter, r.attr, many);
        return this.exists(many, [inner]);
      }
      case 'present':
      case 'compare': {
        const r = resolveFilterPath(this.rs, node.path);
        const label = printPath(node.path);
        const t = this.target(r, label);
        if (t.kind === 'one') return this.onScalar(node, t.scalar, r.sub ?? r.attr, label);
        const m = t.many;
        if (node.kind === 'present' && !r.sub) return this.exists(m, []);
        if (node.kind === 'compare' && node.value === null) {
          nullOp(node.op, label);
          const cond = r.sub ? [present(m.elem(r.sub))] : [];
          return node.op === 'eq' ? `NOT ${this.exists(m, cond)}` : this.exists(m, cond);
        }
        const def = comparedDef(r, label);
        const s = m.elem(def);
        if (node.kind === 'present') return this.exists(m, [present(s)]);
        const lit = typeLiteral(def, node.op, node.value!, label);
        if (node.op === 'ne') return `NOT ${this.exists(m, [this.compare(s, def, 'eq', lit)])}`;
        return this.exists(m, [this.compare(s, def, node.op, lit)]);
      }
    }
  }

  /** A value filter's condition on one element of `parent` (row source `many`). */
  private element(node: FilterNode, parent: AttributeDef, many: Many): string {
    switch (node.kind) {
      case 'and':
      case 'or':
        return this.chain(node, (n) => this.element(n, parent, many));
      case 'not':
        return `NOT COALESCE(${this.element(node.filter, parent, many)}, false)`;
      case 'valuePath':
        throw new InvalidFilterError(`value path "${printPath(node.path)}[…]" is not allowed inside ${parent.name}[…]`);
      case 'present':
      case 'compare': {
        const def = resolveElementPath(parent, node.path);
        return this.onScalar(node, many.elem(def), def, `${parent.name}.${def.name}`);
      }
    }
  }

  /** Flattens a left-deep and/or chain so long filters do not nest parentheses deeply. */
  private chain(node: Extract<FilterNode, { kind: 'and' | 'or' }>, f: (n: FilterNode) => string): string {
    const parts: string[] = [];
    const walk = (n: FilterNode): void => {
      if (n.kind === node.kind) {
        walk(n.left);
        walk(n.right);
      } else parts.push(f(n));
    };
    walk(node);
    return `(${parts.join(node.kind === 'and' ? ' AND ' : ' OR ')})`;
  }

  private exists(m: Many, conds: string[]): string {
    if (++this.existsCount > MAX_FILTER_EXISTS) {
      throw new InvalidFilterError(`filter needs more than ${MAX_FILTER_EXISTS} subqueries over multi-valued attributes (value paths, comparisons on emails, members, …); at most ${MAX_FILTER_EXISTS} are allowed`);
    }
    const where = [...m.where, ...conds];
    return `EXISTS (SELECT 1 FROM ${m.from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''})`;
  }

  private onScalar(
    node: Extract<FilterNode, { kind: 'compare' | 'present' }>,
    s: Scalar,
    def: AttributeDef,
    label: string,
  ): string {
    if (node.kind === 'present') return present(s);
    if (node.value === null) {
      nullOp(node.op, label);
      return node.op === 'eq' ? `NOT ${present(s)}` : present(s);
    }
    return this.compare(s, def, node.op, typeLiteral(def, node.op, node.value, label));
  }

  /** One comparison; may yield NULL when the value is absent or of the wrong type (callers treat NULL as false). */
  private compare(s: Scalar, def: AttributeDef, op: CompareOp, lit: Typed): string {
    const cmp = (x: string, p: string): string => {
      if (op === 'eq') return `${x} = ${p}`;
      if (op === 'ne') return `${x} IS DISTINCT FROM ${p}`;
      return `${x} ${SQL_OP[op as keyof typeof SQL_OP]} ${p}`;
    };
    switch (lit.t) {
      case 'string': {
        // PostgreSQL cannot take U+0000 (nor an unpaired surrogate) as a text parameter; no stored value holds one.
        if (UNSTORABLE.test(lit.v)) throw new InvalidFilterError('a filter value contains U+0000 or an unpaired surrogate (\\uD800–\\uDFFF), which no stored value can hold');
        if (s.kind === 'col' && s.type === 'uuid' && (op === 'eq' || op === 'ne')) {
          // Not a UUID: cannot equal any id (and would make the ::uuid cast fail).
          if (!UUID_RE.test(lit.v)) return op === 'eq' ? 'FALSE' : 'TRUE';
          return cmp(s.sql, `${this.param(lit.v.toLowerCase())}::uuid`);
        }
        // Case folding is PostgreSQL's lower() on both sides, as the unique indexes fold (JavaScript's
        // toLowerCase differs: "İ" (U+0130) becomes "i̇" there, so a probe would miss what POST conflicts with).
        const fold = !def.caseExact;
        const raw = textExpr(s);
        const x = fold ? `lower(${raw})` : raw;
        const value = (v: string) => (fold ? `lower(${this.param(v)})` : this.param(v));
        if (op === 'co' || op === 'sw' || op === 'ew') {
          const esc = lit.v.replace(/[\\%_]/g, (ch) => `\\${ch}`);
          const pat = op === 'co' ? `%${esc}%` : op === 'sw' ? `${esc}%` : `%${esc}`;
          return `${x} LIKE ${value(pat)} ESCAPE '\\'`;
        }
        // Byte order (C collation) = code point order, the order the evaluator and JS use.
        if (isOrdering(op)) return cmp(`${x} COLLATE "C"`, value(lit.v));
        return cmp(x, value(lit.v));
      }
      case 'boolean':
        return cmp(boolExpr(s), `${this.param(lit.v)}::boolean`);
      case 'number':
        return cmp(numExpr(s), `${this.param(String(lit.v))}::numeric`);
      case 'dateTime':
        return cmp(tsExpr(s), `${this.param(lit.iso)}::timestamptz`);
    }
  }

  /** Sort key for one value: typed, lower() for case-insensitive strings. */
  sortValue(s: Scalar, def: AttributeDef): string {
    switch (def.type) {
      case 'boolean': return boolExpr(s);
      case 'integer':
      case 'decimal': return numExpr(s);
      case 'dateTime': return s.kind === 'col' ? s.sql : tsExpr(s);
      default: return def.caseExact ? textExpr(s) : `lower(${textExpr(s)})`;
    }
  }

  // ---------- mapping from schema attributes to SQL ----------

  target(r: ResolvedAttribute, label: string): Target {
    const a = this.a;
    const rt = this.rs.resourceType;
    if (r.schema === this.rs.core) {
      const name = r.attr.name;
      if (rt === 'User' && name === 'groups') return { kind: 'many', many: this.userGroups(label) };
      if (rt === 'Group' && name === 'members') return { kind: 'many', many: this.groupMembers(label) };
      const col = (sql: string, type: 'text' | 'uuid' | 'bool' | 'ts' | 'num', nullable: boolean): Target =>
        ({ kind: 'one', scalar: { kind: 'col', sql, type, nullable } });
      switch (name) {
        case 'id': return col(`${a}.id`, 'uuid', false);
        case 'externalId': return col(`${a}.external_id`, 'text', true);
        case 'displayName': return col(`${a}.display_name`, 'text', rt === 'User');
        case 'userName': if (rt === 'User') return col(`${a}.user_name`, 'text', false); break;
        case 'active': if (rt === 'User') return col(`${a}.active`, 'bool', false); break;
        case 'meta':
          switch (r.sub?.name) {
            case undefined: return col('TRUE', 'bool', false); // always present; comparisons are rejected as complex
            case 'created': return col(`${a}.created_at`, 'ts', false);
            case 'lastModified': return col(`${a}.updated_at`, 'ts', false);
            case 'resourceType': return col(rt === 'User' ? `'User'::text` : `'Group'::text`, 'text', false);
            case 'version': return col(`('W/"' || ${a}.version::text || '"')`, 'text', false);
            case 'location':
              if (this.ctx.locationBase === undefined) throw new InvalidFilterError(`"${label}" is not filterable here`);
              return col(`(${this.param(this.ctx.locationBase)}::text || ${a}.id::text)`, 'text', false);
          }
          throw new InvalidFilterError(`"${label}" is not filterable`);
      }
    }
    // Everything else lives in the data jsonb: core at top level, extensions under their schema URN.
    const container = r.isExtension ? `${a}.data->${key(r.schema.id)}` : `${a}.data`;
    const attrKey = r.schema.open ? `${this.param(r.attr.name)}::text` : key(r.attr.name);
    const j = `${container}->${attrKey}`;
    if (r.attr.multiValued) return { kind: 'many', many: this.jsonMany(j, r.attr) };
    return { kind: 'one', scalar: { kind: 'json', sql: r.sub ? `${j}->${key(r.sub.name)}` : j } };
  }

  /** Row source over a multi-valued (or, in value paths, single complex) attribute; a lone value is one element. */
  many(r: ResolvedAttribute, label: string): Many {
    const t = this.target(r, label);
    if (t.kind === 'many') return t.many;
    if (t.scalar.kind !== 'json') throw new InvalidFilterError(`"${label}[…]" is not supported`);
    return this.jsonMany(t.scalar.sql, r.attr);
  }

  private jsonMany(j: string, attr: AttributeDef): Many {
    const e = this.alias('e');
    const arr =
      `CASE WHEN jsonb_typeof(${j}) = 'array' THEN ${j} ` +
      `WHEN jsonb_typeof(${j}) IN ('object', 'string', 'number', 'boolean') THEN jsonb_build_array(${j}) ` +
      `ELSE '[]'::jsonb END`;
    return {
      from: `jsonb_array_elements(${arr}) WITH ORDINALITY AS ${e}(v, i)`,
      where: [],
      elem: (def) => ({ kind: 'json', sql: attr.type === 'complex' ? `${e}.v->${key(def.name)}` : `${e}.v` }),
      order: `COALESCE((${e}.v->'primary') = 'true'::jsonb, false) DESC, ${e}.i`,
    };
  }

  /** Group.members = rows of scim_group_members (display from the member's own row). */
  private groupMembers(label: string): Many {
    const gm = this.alias('gm');
    const a = this.a;
    return {
      from: `scim_group_members ${gm}`,
      where: [`${gm}.tenant_id = ${a}.tenant_id`, `${gm}.group_id = ${a}.id`],
      elem: (def) => {
        switch (def.name) {
          case 'value': return { kind: 'col', sql: `${gm}.member_id`, type: 'uuid', nullable: false };
          case 'type': return { kind: 'col', sql: `${gm}.member_type`, type: 'text', nullable: false };
          case 'display':
            return {
              kind: 'col',
              type: 'text',
              nullable: true,
              // As rendered (groups-store membersOfGroups): the IdP's display text for the member, else
              // user displayName, else userName, else group displayName.
              sql:
                `COALESCE(${gm}.display, (SELECT COALESCE(mu.display_name, mu.user_name) FROM scim_users mu WHERE mu.tenant_id = ${gm}.tenant_id AND mu.id = ${gm}.member_id), ` +
                `(SELECT mg.display_name FROM scim_groups mg WHERE mg.tenant_id = ${gm}.tenant_id AND mg.id = ${gm}.member_id))`,
            };
        }
        throw new InvalidFilterError(`"${label}.${def.name}" is not filterable`);
      },
      order: `${gm}.member_id`,
    };
  }

  /** User.groups (readOnly, computed) = the groups whose scim_group_members rows name this user. */
  private userGroups(label: string): Many {
    const gm = this.alias('gm');
    const g = this.alias('g');
    const a = this.a;
    return {
      from: `scim_group_members ${gm} JOIN scim_groups ${g} ON ${g}.tenant_id = ${gm}.tenant_id AND ${g}.id = ${gm}.group_id`,
      where: [`${gm}.tenant_id = ${a}.tenant_id`, `${gm}.member_id = ${a}.id`],
      elem: (def) => {
        switch (def.name) {
          case 'value': return { kind: 'col', sql: `${gm}.group_id`, type: 'uuid', nullable: false };
          case 'display': return { kind: 'col', sql: `${g}.display_name`, type: 'text', nullable: false };
          case 'type': return { kind: 'col', sql: `'direct'::text`, type: 'text', nullable: false };
        }
        throw new InvalidFilterError(`"${label}.${def.name}" is not filterable`);
      },
      order: `${g}.display_name, ${gm}.group_id`,
    };
  }
}

function nullOp(op: CompareOp, label: string): void {
  if (op !== 'eq' && op !== 'ne') throw new InvalidFilterError(`"${label} ${op} null": null can only be compared with eq or ne`);
}

/** A JSON object key as an SQL literal; names come from schema definitions, checked and quoted regardless. */
function key(name: string): string {
  if (!SAFE_KEY.test(name)) throw new InvalidFilterError(`attribute name ${JSON.stringify(name)} cannot be filtered`);
  return `'${name.replace(/'/g, "''")}'`;
}

/** pr: present and not empty (null, "", [] and {} are absent). */
function present(s: Scalar): string {
  if (s.kind === 'col') {
    if (s.type === 'text') return s.nullable ? `(${s.sql} IS NOT NULL AND ${s.sql} <> '')` : `${s.sql} <> ''`;
    return s.nullable ? `${s.sql} IS NOT NULL` : 'TRUE';
  }
  return `(${s.sql} IS NOT NULL AND ${s.sql} NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb))`;
}

// Typed extraction from jsonb yields NULL for values of another JSON type, as the evaluator ignores them.
function textExpr(s: Scalar): string {
  if (s.kind === 'col') return s.type === 'text' ? s.sql : `${s.sql}::text`;
  return `(CASE WHEN jsonb_typeof(${s.sql}) = 'string' THEN ${s.sql} #>> '{}' END)`;
}
function boolExpr(s: Scalar): string {
  if (s.kind === 'col') return s.sql;
  return `(CASE WHEN jsonb_typeof(${s.sql}) = 'boolean' THEN (${s.sql})::boolean END)`;
}
function numExpr(s: Scalar): string {
  if (s.kind === 'col') return s.sql;
  return `(CASE WHEN jsonb_typeof(${s.sql}) = 'number' THEN (${s.sql})::numeric END)`;
}
function tsExpr(s: Scalar): string {
  // Columns hold microseconds but meta.created/lastModified render (and the evaluator compares) milliseconds.
  if (s.kind === 'col') return `date_trunc('milliseconds', ${s.sql})`;
  return (
    `(CASE WHEN jsonb_typeof(${s.sql}) = 'string' AND (${s.sql} #>> '{}') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' ` +
    `THEN (${s.sql} #>> '{}')::timestamptz END)`
  );
}
