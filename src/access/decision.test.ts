import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAccess } from './decision.js';
import type { EffectiveAccess, IdentityStatus } from './effective.js';

const ds = (id: string) => ({ id, name: `name-${id}`, externalId: null });

function accessOf(status: IdentityStatus, active = true, datasets = [ds('d1')]): EffectiveAccess {
  return {
    identity: { id: 'u1', userName: 'ann@example.com', externalId: null, displayName: null, status, source: 'scim', active },
    groups: [], accessGroups: [], datasets, roles: [], metadata: {},
  };
}

test('no identity → identity_not_found, for every request', () => {
  assert.deepEqual(decideAccess(undefined, { kind: 'identity' }), { allowed: false, reason: 'identity_not_found' });
  assert.deepEqual(decideAccess(undefined, { kind: 'dataset', dataset: ds('d1') }), { allowed: false, reason: 'identity_not_found' });
});

test('suspended (or active false) → identity_suspended whatever the grants, before the dataset is looked at', () => {
  for (const a of [accessOf('suspended'), accessOf('active', false), accessOf('staged', false)]) {
    assert.equal(decideAccess(a, { kind: 'identity' }).reason, 'identity_suspended');
    assert.equal(decideAccess(a, { kind: 'dataset', dataset: ds('d1') }).reason, 'identity_suspended');
    assert.equal(decideAccess(a, { kind: 'dataset', dataset: undefined }).reason, 'identity_suspended');
  }
});

test('datasets: unknown → dataset_not_found; not among the effective datasets → not_granted; else granted', () => {
  const a = accessOf('active');
  assert.equal(decideAccess(a, { kind: 'dataset', dataset: undefined }).reason, 'dataset_not_found');
  const no = decideAccess(a, { kind: 'dataset', dataset: ds('d2') });
  assert.equal(no.reason, 'not_granted');
  const yes = decideAccess(a, { kind: 'dataset', dataset: ds('d1') });
  assert.ok(yes.allowed);
  assert.deepEqual([yes.reason, yes.dataset?.id, yes.activate, yes.access], ['granted', 'd1', false, a]);
});

test('first use: a staged identity is activated by an allowed decision only, the same for every request', () => {
  const staged = accessOf('staged');
  for (const req of [{ kind: 'identity' } as const, { kind: 'dataset', dataset: ds('d1') } as const]) {
    const d = decideAccess(staged, req);
    assert.ok(d.allowed);
    assert.equal(d.activate, true);
    assert.equal(d.identity.status, 'active');
    assert.equal(d.access.identity.status, 'active');
  }
  assert.equal(staged.identity.status, 'staged', 'the input is not changed');
  for (const req of [{ kind: 'dataset', dataset: ds('d2') } as const, { kind: 'dataset', dataset: undefined } as const]) {
    const d = decideAccess(staged, req);
    assert.equal(d.allowed, false);
    assert.ok(!('activate' in d), 'a refusal never activates');
  }
  assert.equal((decideAccess(accessOf('active'), { kind: 'identity' }) as { activate: boolean }).activate, false);
});
