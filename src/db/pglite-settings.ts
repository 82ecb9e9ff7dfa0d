import { PGlite } from '@electric-sql/pglite';

/**
 * Embedded postgres settings on top of PGlite's own. Its shared memory lives in the process's
 * WebAssembly heap, which never shrinks: the stock 128 MB of shared_buffers (145 MB of shared memory)
 * is most of an idle server's RSS. 16 MB (24 MB in all) holds an embedded deployment's hot pages;
 * the rest come from the OS page cache.
 *
 * Generic plans, as on PostgreSQL (src/db/postgres.ts says why for the schema's tenant-keyed
 * statements): the session keeps its statements prepared (pglite-session.ts), and a generic plan
 * is made once per statement where a custom plan would be made on every run.
 */
export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'plan_cache_mode=force_generic_plan'];
