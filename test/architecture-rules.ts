// The floor plan of src/ as data: which module a file belongs to and which modules it may import.
// docs/architecture.md explains each row; test/architecture.test.ts enforces both.

export type Module =
  | 'lib' | 'config' | 'db' | 'scim-core' | 'tenants' | 'directory' | 'access' | 'events'
  | 'http' | 'ops' | 'idp-tokens' | 'sso' | 'console' | 'scim' | 'audit' | 'admin' | 'app';

/** Module of a src-relative path; undefined for a file no rule places. */
export function moduleOf(path: string): Module | undefined {
  const p = path.replace(/\\/g, '/');
  if (/^scim\/(schema|filter|patch)\//.test(p) || p === 'scim/errors.ts') return 'scim-core';
  if (['config.ts', 'logger.ts'].includes(p)) return 'config';
  if (['app.ts', 'app-deps.ts', 'main.ts', 'cli.ts'].includes(p)) return 'app';
  const top = p.split('/')[0]!;
  const folders: Record<string, Module> = {
    lib: 'lib', db: 'db', scim: 'scim', tenants: 'tenants', directory: 'directory', access: 'access', events: 'events',
    http: 'http', ops: 'ops', 'idp-tokens': 'idp-tokens', sso: 'sso', console: 'console', audit: 'audit', admin: 'admin',
  };
  return p.includes('/') ? folders[top] : undefined;
}

/** Allowed arrows, lowest floor first. A module not listed may not be imported. */
export const ALLOWED: Record<Module, Module[]> = {
  lib: [],
  config: ['lib'],
  db: ['lib'],
  'scim-core': ['lib'],
  tenants: ['lib', 'db', 'scim-core'],
  directory: ['lib', 'db', 'scim-core', 'tenants'],
  access: ['lib', 'db', 'scim-core', 'tenants', 'directory'],
  events: ['lib', 'config', 'db', 'scim-core', 'tenants', 'directory', 'access'],
  http: ['lib', 'db', 'scim-core'],
  ops: ['lib', 'db'],
  'idp-tokens': ['lib', 'config', 'db', 'tenants', 'directory', 'access', 'http'],
  sso: ['lib', 'config', 'db', 'tenants', 'directory', 'access', 'http', 'idp-tokens'],
  console: ['lib', 'config', 'db', 'tenants', 'http'],
  scim: ['lib', 'config', 'db', 'scim-core', 'tenants', 'directory', 'access', 'events', 'http'],
  audit: ['lib', 'db'],
  admin: ['lib', 'config', 'db', 'scim-core', 'tenants', 'directory', 'access', 'events', 'http', 'idp-tokens', 'sso', 'console', 'scim', 'audit'],
  app: ['lib', 'config', 'db', 'scim-core', 'tenants', 'directory', 'access', 'events', 'http', 'ops', 'idp-tokens', 'sso', 'console', 'scim', 'audit', 'admin'],
};

/**
 * The composition root's contract: route plugins receive AppDeps from buildApp and may name its
 * type (a type-only import, erased at build), never its values.
 */
export const TYPE_ONLY_ROOT_FILES = ['app-deps.ts'];

export interface Edge { from: string; to: string; typeOnly: boolean; line: number }

/** Arrows the plan forbids, each described with its file, line and rule. */
export function forbiddenArrows(edges: Edge[]): string[] {
  const broken: string[] = [];
  for (const e of edges) {
    const a = moduleOf(e.from);
    const b = moduleOf(e.to);
    if (!a || !b || a === b) continue;
    if (ALLOWED[a].includes(b)) continue;
    if (e.typeOnly && TYPE_ONLY_ROOT_FILES.includes(e.to)) continue;
    broken.push(`src/${e.from}:${e.line} imports src/${e.to}: ${a} may not import ${b} (${a} may import: ${ALLOWED[a].join(', ') || 'nothing'})`);
  }
  return broken;
}

/** Import cycles between files (each reported once, as the path that closes it). */
export function findCycles(edges: Pick<Edge, 'from' | 'to'>[]): string[] {
  const graph = new Map<string, string[]>();
  for (const e of edges) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, stack: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...stack.slice(stack.indexOf(f)), f].map((x) => `src/${x}`).join(' → '));
      return;
    }
    state.set(f, 'open');
    for (const t of graph.get(f) ?? []) visit(t, [...stack, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  return cycles;
}
