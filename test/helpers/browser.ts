import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from './process.js';

/** Debian's chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/**
 * The `skip` option for a browser suite: skipped with a reason when chromium is absent — except
 * under CI, where a missing browser is an error (the suite must run).
 */
export function browserSkip(what: string): string | false {
  if (haveChromium) return false;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: under CI ${what} must run (apt-get install chromium)`);
  return `chromium not found at ${CHROMIUM}: install it (apt-get install chromium) to run ${what}`;
}

// This machine has no network beyond the package registries: keep Chromium from reaching out.
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

function newest(dir: string): number {
  let m = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    m = Math.max(m, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return m;
}

/** Builds the console when dist/web is missing or older than web/ (so tests check the current source). */
export function ensureConsoleBuilt(): void {
  const index = join(ROOT, 'dist/web/index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newest(join(ROOT, 'web'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
}
