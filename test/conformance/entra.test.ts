/**
 * Conformance replay: Microsoft Entra ID provisioning (tutorial + known-issues bodies).
 * Each fixture runs against a fresh app + tenant from the shared harness, once per database.
 */
import { it } from 'node:test';
import { startTestApp, eachDatabase } from '../helpers/app.js';
import { loadFixture, replayFixture } from './replay.js';

const FIXTURES = ['entra-users', 'entra-groups'];

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
