import type pg from 'pg';
import type { Tenant } from './db.js';

export interface Sizes {
  smallUsers: number;
  bigUsers: number;
  bigGroups: number;
  bigPerUser: number;
  groupSizes: number[];
  listUsers: number;
  syncUsers: number;
  syncGroups: number;
  syncMemberships: number;
  syncWorkers: number;
  syncBatch: number;
  warmupS: number;
  durationS: number;
  connections: number;
  patchIterations: number;
  listSamplePages: number;
  listFirstPages: number;
}

export interface Row {
  name: string;
  rps?: number;
  p50?: number;
  p99?: number;
  rssMaxMb?: number;
  /** server process CPU ms per request (user+system, warm-up included) */
  cpuMsPerReq?: number;
  /** 1-minute load average when the run started */
  loadAvg?: number;
  /** anything else worth printing, e.g. "users/s 812" */
  detail?: string;
  errors?: number;
  non2xx?: number;
}

export interface Verdict {
  /** what is compared, e.g. "idpbridge / F-write" */
  label: string;
  value: number;
  /** e.g. "≥ 0.50" */
  target: string;
  pass: boolean | null;
}

export interface ScenarioResult {
  id: string;
  title: string;
  rows: Row[];
  verdicts: Verdict[];
  notes: string[];
  seconds?: number;
}

export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  databaseUrl: string;
  db: pg.Pool;
  /** tenants seeded up front: small (smallUsers), big (bigUsers, groups, memberships), list (listUsers) */
  tenants: { small: Tenant; big: Tenant; list: Tenant | undefined };
  log(msg: string): void;
}
