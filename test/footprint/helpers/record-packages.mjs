// Preloaded into a server process (NODE_OPTIONS=--import): records every npm package the process
// resolves and, when it exits, writes their names to <IDPB_TEST_PACKAGES_DIR>/<pid>.json.
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.IDPB_TEST_PACKAGES_DIR;
const packages = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    const names = [...r.url.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    if (names.length > 0) packages.add(names.at(-1)[1]);
    return r;
  },
});
if (dir) process.on('exit', () => writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify([...packages])));
