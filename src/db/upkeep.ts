import type { Database } from './types.js';

/**
 * Table upkeep: the vacuuming and statistics autovacuum would do, where it does not run or not in
 * time.
 *
 * - PGlite runs PostgreSQL as one backend without background workers, so no autovacuum: without
 *   this its tables are never vacuumed (the outbox's delivered rows, updated users stay as dead
 *   rows, indexes grow) nor analysed.
 * - On PostgreSQL autovacuum looks at a table at most once a minute, while an IdP's initial sync
 *   creates thousands of users a second. The pool keeps generic plans (src/db/postgres.ts), and a
 *   plan made while `scim_users` was empty walks the tenant's creation index for every `userName eq`
 *   probe (5,000 rows read per probe at 5k users) until an ANALYZE invalidates it. Here only a
 *   table that has more than doubled since its last statistics is analysed; autovacuum does the
 *   rest — unless the server runs with `autovacuum = off`, which then gets PGlite's rules.
 *
 * One read of `pg_stat_user_tables` decides (`upkeepDue`, pure); it runs every second while tables
 * change and once a minute while nothing does. PGlite runs every statement in one session, so a
 * VACUUM or ANALYZE there stalls every request meanwhile (up to ~200 ms under a POST load): while
 * rows are being written, only a table that has doubled is analysed (a few times in a whole initial
 * sync); the rest waits for the first round that finds no writes since the one before. ANALYZE samples at most 30,000 rows of a table whatever its size. Every command runs with
 * SKIP_LOCKED: a table another process is vacuuming or analysing (several idpbridge processes over
 * one database) is skipped, never waited for. Tables of other schemas are not touched.
 */

/** A table's counters as `pg_stat_user_tables` and `pg_class` give them. */
export interface TableStats {
  table: string;
  /** Estimated rows at the last VACUUM or ANALYZE (-1: never, as PostgreSQL says it). */
  reltuples: number;
  deadRows: number;
  modifiedSinceAnalyze: number;
}

export interface UpkeepStep {
  table: string;
  vacuum: boolean;
  analyze: boolean;
}

// autovacuum's defaults (autovacuum_vacuum_threshold/scale_factor, autovacuum_analyze_…).
const VACUUM_BASE = 50;
const VACUUM_SCALE = 0.2;
const ANALYZE_BASE = 50;
const ANALYZE_SCALE = 0.1;
/** PostgreSQL: changed rows beyond the table's size at its last statistics before analysing early. */
const GROWN_BASE = 1000;

/**
 * Which rules apply: `autovacuum`'s own where nothing else vacuums (PGlite; PostgreSQL with
 * autovacuum off), else only `growth`, the early ANALYZE of a table grown past twice its statistics.
 */
export type UpkeepRules = 'autovacuum' | 'growth';

/**
 * What to do now, from the tables' counters. `quiet`: no rows were written since the previous
 * round; autovacuum's rules wait for such a round and apply only the growth rule before it.
 */
export function upkeepDue(rules: UpkeepRules, tables: readonly TableStats[], quiet = true): UpkeepStep[] {
  const steps: UpkeepStep[] = [];
  const full = rules === 'autovacuum' && quiet;
  for (const t of tables) {
    const rows = Math.max(0, t.reltuples);
    const vacuum = full && t.deadRows > VACUUM_BASE + VACUUM_SCALE * rows;
    const analyze = full
      ? t.modifiedSinceAnalyze > ANALYZE_BASE + ANALYZE_SCALE * rows
      : t.modifiedSinceAnalyze > GROWN_BASE + rows;
    if (vacuum || analyze) steps.push({ table: t.table, vacuum, analyze });
  }
  return steps;
}

/**
 * The schema's tables that this role may vacuum and analyse: its own (or its roles'; a superuser
 * has every role's), or all of them when it owns the database. PostgreSQL skips any other table
 * with a warning, which a round would repeat every second while rows are written.
 */
const STATS_SQL = `SELECT s.relname AS table, c.reltuples::float8 AS reltuples, s.n_dead_tup::float8 AS dead,
       s.n_mod_since_analyze::float8 AS modified, current_setting('autovacuum')::boolean AS autovacuum
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
 WHERE s.schemaname = current_schema()
   AND (pg_has_role(c.relowner, 'USAGE')
        OR pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE'))`;

/** The tables' counters and the rules that apply to them. */
export async function readTableStats(db: Database): Promise<{ rules: UpkeepRules; tables: TableStats[] }> {
  const { rows } = await db.query<{ table: string; reltuples: number; dead: number; modified: number; autovacuum: boolean }>(STATS_SQL);
  // PGlite says autovacuum is on, but runs no launcher.
  const rules: UpkeepRules = db.kind === 'pglite' || rows.some((r) => !r.autovacuum) ? 'autovacuum' : 'growth';
  return { rules, tables: rows.map((r) => ({ table: r.table, reltuples: Number(r.reltuples), deadRows: Number(r.dead), modifiedSinceAnalyze: Number(r.modified) })) };
}

/** The command of one step. VACUUM cannot run in a transaction block, so neither runs in one. */
export function upkeepCommand(s: UpkeepStep): string {
  const table = `"${s.table.replace(/"/g, '""')}"`;
  return s.vacuum ? `VACUUM (SKIP_LOCKED${s.analyze ? ', ANALYZE' : ''}) ${table}` : `ANALYZE (SKIP_LOCKED) ${table}`;
}

/**
 * One round: reads the counters and runs what is due. Returns the steps taken (a table another
 * session held locked is skipped by its command) and the sum of the counters read: when it differs
 * from `previous` (the last round's), rows were written in between. Without `previous` (a one-off
 * round) everything due runs.
 */
export async function runUpkeep(db: Database, previous?: number): Promise<{ steps: UpkeepStep[]; counters: number }> {
  const { rules, tables } = await readTableStats(db);
  const counters = tables.reduce((n, t) => n + t.modifiedSinceAnalyze + t.deadRows, 0);
  const steps = upkeepDue(rules, tables, previous === undefined || previous === counters);
  for (const s of steps) await db.exec(upkeepCommand(s));
  return { steps, counters };
}

export interface UpkeepSchedule {
  /** Between rounds while tables change (ms). */
  busyMs: number;
  /** Between rounds while nothing changes (ms): writes nudge the schedule (below). */
  idleMs: number;
}

export const DEFAULT_UPKEEP: UpkeepSchedule = { busyMs: 1_000, idleMs: 60_000 };

export interface UpkeepScheduler {
  /** Rows may have been written (a request finished): a round comes within busyMs. */
  nudge(): void;
  /** Stops the schedule; waits for a running round. */
  stop(): Promise<void>;
}

/**
 * Runs `runUpkeep` on an unref'd timer: `busyMs` after a round that saw rows written since the one
 * before or took a step, `idleMs` otherwise; a nudge brings an idle round forward, so a sync that
 * starts after an idle hour is looked at within a second, not a minute.
 */
export function scheduleUpkeep(db: Database, log: { warn(o: object, m: string): void; info(o: object, m: string): void }, schedule: UpkeepSchedule = DEFAULT_UPKEEP): UpkeepScheduler {
  let wait = schedule.busyMs;
  let previous = -1;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = 0;
  let running: Promise<void> | undefined;
  let stopped = false;
  const round = async () => {
    try {
      const { steps, counters } = await runUpkeep(db, previous);
      if (steps.length > 0) log.info({ steps }, 'table upkeep');
      // Counters that stay put (rows changed but not yet due) do not keep the schedule busy.
      wait = steps.length > 0 || counters !== previous ? schedule.busyMs : schedule.idleMs;
      previous = counters;
    } catch (err) {
      log.warn({ err }, 'table upkeep failed');
      wait = schedule.idleMs;
    }
  };
  const arm = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timerAt = Date.now() + ms;
    timer = setTimeout(() => {
      timer = undefined;
      running = round().finally(() => { running = undefined; arm(wait); });
    }, ms);
    timer.unref();
  };
  arm(wait);
  return {
    nudge() {
      // A running round re-arms itself; a timer already due soon stays.
      if (!timer || timerAt <= Date.now() + schedule.busyMs) return;
      wait = schedule.busyMs;
      arm(schedule.busyMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
