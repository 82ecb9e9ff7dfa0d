import { PGlite } from '@electric-sql/pglite';

/**
 * Embedded postgres settings on top of PGlite's own. Its shared memory lives in the process's
 * WebAssembly heap, which never shrinks, and is resident from the start (the WebAssembly build's
 * mmap zero-fills what it hands out): the stock 128 MB of shared_buffers (145 MB of shared memory)
 * is most of an idle server's RSS. 8 MB (12 MB of shared memory in all) holds an embedded
 * deployment's hot pages; the rest come from the OS page cache, a read of a few microseconds.
 * PGlite runs one backend: room for 100 connections' locks, snapshots and activity (~2 MB) and for
 * 10 WAL senders would be unused.
 *
 * Generic plans, as on PostgreSQL (src/db/postgres.ts says why for the schema's tenant-keyed
 * statements): the session keeps its statements prepared (pglite-session.ts), and a generic plan
 * is made once per statement where a custom plan would be made on every run.
 */
export const PGLITE_START_PARAMS = [
  ...PGlite.defaultStartParams,
  '-c', 'shared_buffers=8MB',
  '-c', 'max_connections=8',
  '-c', 'max_wal_senders=0',
  '-c', 'plan_cache_mode=force_generic_plan',
];
