/** Property tests: random valid operation sequences keep the user schema-valid and deterministic. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyPatch } from './index.js';
import { normalizeResource } from '../schema/validate.js';
import { ENTERPRISE, USER_RS, entraUser } from './test-helpers.js';

const word = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/);
const emailType = fc.constantFrom('work', 'home', 'other');
const email = fc.record({ value: word.map((w) => `${w}@example.com`), type: emailType, primary: fc.boolean() }, { requiredKeys: ['value'] });
const address = fc.record({ type: emailType, streetAddress: word, locality: word }, { requiredKeys: ['type'] });
const opName = fc.constantFrom('add', 'Add', 'replace', 'Replace');
const simple = fc.constantFrom('nickName', 'title', 'displayName', 'userType', 'name.givenName', 'name.familyName',
  `${ENTERPRISE}:employeeNumber`, `${ENTERPRISE}:department`, `urn:ietf:params:scim:schemas:core:2.0:User:profileUrl`);

/** Operations that are valid on any user from entraUser() (userName is never removed). */
const validOp = fc.oneof(
  fc.record({ op: opName, path: simple, value: word }),
  fc.record({ op: opName, path: fc.constant('active'), value: fc.constantFrom(true, false, 'True', 'False') }),
  fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('emails'), value: fc.array(email, { maxLength: 3 }) }),
  fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('addresses'), value: fc.array(address, { maxLength: 2 }) }),
  fc.record({ op: opName, path: emailType.map((t) => `emails[type eq "${t}"].value`), value: word.map((w) => `${w}@x.org`) }),
  fc.record({ op: opName, path: emailType.map((t) => `addresses[type eq "${t}"].postalCode`), value: word }),
  fc.record({ op: opName, path: fc.constant(`${ENTERPRISE}:manager`), value: word }),
  fc.record({ op: fc.constant('replace'), value: fc.record({ 'name.givenName': word, active: fc.boolean(), [`${ENTERPRISE}:costCenter`]: word }, { requiredKeys: [] }) }),
  fc.record({ op: fc.constantFrom('remove', 'Remove'), path: fc.constantFrom('nickName', 'title', 'name', 'name.givenName', 'emails',
    'emails[type eq "work"]', 'emails[type eq "home"].value', 'addresses[type eq "other"]', `${ENTERPRISE}:manager`, ENTERPRISE) }),
);

describe('PATCH properties', () => {
  it('random sequences of valid ops keep normalizeResource happy and are deterministic', () => {
    fc.assert(fc.property(fc.array(validOp, { maxLength: 12 }), (Operations) => {
      const input = entraUser();
      const frozen = structuredClone(input);
      const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations };
      const a = applyPatch(input, body, USER_RS);
      const b = applyPatch(input, body, USER_RS);
      assert.deepEqual(a, b);
      assert.deepEqual(input, frozen, 'input not mutated');
      // The result is already in stored form: normalizing it again changes nothing.
      assert.deepEqual(normalizeResource(USER_RS, a.resource, 'patch-result'), a.resource);
      assert.deepEqual(a.memberOps, []);
      if (!a.changed) assert.deepEqual(a.resource, input);
    }), { numRuns: 300 });
  });

  it('applying the same multi-valued add twice equals applying it once', () => {
    const add = fc.oneof(
      fc.record({ op: fc.constant('add'), path: fc.constant('emails'), value: fc.array(email, { minLength: 1, maxLength: 3 }) }),
      fc.record({ op: fc.constant('add'), path: fc.constant('addresses'), value: fc.array(address, { minLength: 1, maxLength: 3 }) }),
      fc.record({ op: fc.constant('add'), value: fc.record({ emails: fc.array(email, { minLength: 1, maxLength: 2 }) }) }),
    );
    fc.assert(fc.property(fc.array(validOp, { maxLength: 4 }), add, (setup, op) => {
      const start = applyPatch(entraUser(), { Operations: setup }, USER_RS).resource;
      const once = applyPatch(start, { Operations: [op] }, USER_RS);
      const twice = applyPatch(once.resource, { Operations: [op] }, USER_RS);
      assert.deepEqual(twice.resource, once.resource);
      assert.equal(twice.changed, false);
      assert.deepEqual(applyPatch(start, { Operations: [op, op] }, USER_RS).resource, once.resource);
    }), { numRuns: 300 });
  });
});
