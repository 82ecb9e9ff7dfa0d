/** Shared fixtures for the PATCH engine tests; test-only, so tsconfig.build.json leaves it out of dist/. */
import assert from 'node:assert/strict';
import { ScimError, type ScimType } from '../errors.js';
import { buildResourceSchemas } from '../schema/registry.js';
import { normalizeResource } from '../schema/validate.js';
import type { ResourceSchemas } from '../schema/types.js';

export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const USER_RS: ResourceSchemas = buildResourceSchemas('User', []);
export const GROUP_RS: ResourceSchemas = buildResourceSchemas('Group', []);

/** A stored user: the Entra tutorial's "Create User" request, normalized as the store keeps it. */
export function entraUser(): Record<string, unknown> {
  return normalizeResource(USER_RS, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
    externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
    userName: 'Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee',
    active: true,
    emails: [{ primary: true, type: 'work', value: 'Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com' }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
  }, 'create');
}

/** A stored user with no e-mails, addresses or extension data (for "does not exist yet" paths). */
export function bareUser(): Record<string, unknown> {
  return normalizeResource(USER_RS, { userName: 'bare@example.com', active: true }, 'create');
}

/** A stored group as the Groups store keeps it for PATCH: no members. */
export function storedGroup(displayName = 'Test SCIMv2'): Record<string, unknown> {
  return normalizeResource(GROUP_RS, { displayName }, 'create');
}

export function assertScimError(fn: () => unknown, status: number, scimType: ScimType | undefined, detail?: RegExp): ScimError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ScimError, `expected a ScimError, got ${String(caught)}`);
  assert.equal(caught.status, status, caught.message);
  assert.equal(caught.scimType, scimType, caught.message);
  if (detail) assert.match(caught.message, detail);
  return caught;
}
