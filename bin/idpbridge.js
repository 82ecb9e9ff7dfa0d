#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) or `npm run build`.
// `serve` restarts in place with its memory settings first (dist/main.js#withMemorySettings).
if (process.argv[2] === 'serve') (await import('../dist/main.js')).withMemorySettings();
import('../dist/cli.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code ?? 0; },
  (err) => { console.error(err?.message ?? err); process.exitCode = 1; },
);
