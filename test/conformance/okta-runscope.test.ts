/**
 * Conformance replay: Okta SCIM 2.0 SPEC Test (Runscope export).
 * Each fixture runs against a fresh app + tenant from the shared harness, once per database.
 */
import { it } from 'node:test';
import { startTestApp, eachDatabase } from '../helpers/app.js';
import { loadFixture, replayFixture } from './replay.js';

const FIXTURES = ['okta-runscope-spec-test'];

eachDatabase((db) => {
  for (const name of FIXTURES) {
    it(`${name} replays`, async () => {
      const t = await startTestApp(db);
      try {
        await replayFixture(loadFixture(name), { app: t.app, scimBase: t.scimBase, token: t.scimToken });
      } finally {
        await t.close();
      }
    });
  }
});
