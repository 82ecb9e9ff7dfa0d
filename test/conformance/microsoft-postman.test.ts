/**
 * Conformance replay: Microsoft SCIMReferenceCode Postman collection.
 * Each fixture runs against a fresh app + tenant from the shared harness, once per database.
 */
import { it } from 'node:test';
import { startTestApp, eachDatabase } from '../helpers/app.js';
import { loadFixture, replayFixture } from './replay.js';

const FIXTURES = ['entra-microsoft-postman'];

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
