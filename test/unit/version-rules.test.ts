import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockChangeRefused, removalBlocked } from '../../src/store/lock-rules.js';
import { mintVersionId, planDelete, planWrite, versioningOf } from '../../src/store/version-rules.js';

const mint = (): string => 'v'.repeat(32);

test('which id a write gets and whether it replaces the null version, by versioning status', () => {
  assert.deepEqual(planWrite('Unversioned', mint), { versionId: 'null', replacesNull: true });
  assert.deepEqual(planWrite('Suspended', mint), { versionId: 'null', replacesNull: true });
  assert.deepEqual(planWrite('Enabled', mint), { versionId: mint(), replacesNull: false });
  assert.match(mintVersionId(), /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(mintVersionId(), mintVersionId());
});

test('what a delete without a version id makes', () => {
  assert.deepEqual(planDelete('Unversioned', mint), { kind: 'remove-null' });
  assert.deepEqual(planDelete('Enabled', mint), { kind: 'marker', versionId: mint(), replacesNull: false });
  assert.deepEqual(planDelete('Suspended', mint), { kind: 'marker', versionId: 'null', replacesNull: true });
});

test('the status comes from the configuration slot; anything else is unversioned', () => {
  assert.equal(versioningOf({ configs: {} }), 'Unversioned');
  assert.equal(versioningOf({ configs: { versioning: 'Enabled' } }), 'Enabled');
  assert.equal(versioningOf({ configs: { versioning: 'Suspended' } }), 'Suspended');
  assert.equal(versioningOf({ configs: { versioning: 'bogus' } }), 'Unversioned');
});

test('a locked version: legal hold blocks everyone, COMPLIANCE until its date, GOVERNANCE unless bypassed', () => {
  const now = Date.UTC(2030, 0, 1);
  const later = new Date(now + 1000);
  const earlier = new Date(now - 1000);
  assert.equal(removalBlocked({}, now, false), undefined);
  assert.equal(removalBlocked({ legalHold: true }, now, true)?.code, 'AccessDenied');
  assert.equal(removalBlocked({ retention: { mode: 'COMPLIANCE', retainUntil: later } }, now, true)?.code, 'AccessDenied');
  assert.equal(removalBlocked({ retention: { mode: 'COMPLIANCE', retainUntil: earlier } }, now, false), undefined);
  assert.equal(removalBlocked({ retention: { mode: 'GOVERNANCE', retainUntil: later } }, now, false)?.code, 'AccessDenied');
  assert.equal(removalBlocked({ retention: { mode: 'GOVERNANCE', retainUntil: later } }, now, true), undefined);
});

test('retention changes: extend freely; shorten, weaken or remove only a GOVERNANCE one, with bypass', () => {
  const now = Date.UTC(2030, 0, 1);
  const at = (ms: number): Date => new Date(now + ms);
  const compliance = { retention: { mode: 'COMPLIANCE' as const, retainUntil: at(1000) } };
  const governance = { retention: { mode: 'GOVERNANCE' as const, retainUntil: at(1000) } };
  assert.equal(lockChangeRefused(compliance, { retention: { mode: 'COMPLIANCE', retainUntil: at(2000) } }, now), undefined);
  assert.equal(lockChangeRefused(compliance, { retention: { mode: 'COMPLIANCE', retainUntil: at(500) } }, now)?.code, 'AccessDenied');
  assert.equal(lockChangeRefused(compliance, { retention: { mode: 'GOVERNANCE', retainUntil: at(2000) }, bypassGovernance: true }, now)?.code, 'AccessDenied');
  assert.equal(lockChangeRefused(compliance, { retention: null, bypassGovernance: true }, now)?.code, 'AccessDenied');
  assert.equal(lockChangeRefused(governance, { retention: { mode: 'GOVERNANCE', retainUntil: at(500) } }, now)?.code, 'AccessDenied');
  assert.equal(lockChangeRefused(governance, { retention: { mode: 'GOVERNANCE', retainUntil: at(500) }, bypassGovernance: true }, now), undefined);
  assert.equal(lockChangeRefused(governance, { retention: { mode: 'COMPLIANCE', retainUntil: at(1000) } }, now)?.code, 'AccessDenied');
  assert.equal(lockChangeRefused(governance, { retention: null, bypassGovernance: true }, now), undefined);
  assert.equal(lockChangeRefused(compliance, { legalHold: true }, now), undefined);
  // An expired retention no longer binds.
  assert.equal(lockChangeRefused(compliance, { retention: null }, now + 5000), undefined);
});
