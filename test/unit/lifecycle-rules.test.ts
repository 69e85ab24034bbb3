import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLifecycleConfiguration } from '../../src/lifecycle/configuration-xml.js';
import { decide, decideVersion, shouldAbort, type VersionStanding } from '../../src/lifecycle/rules.js';
import { daysAfter, restoreReadyAt, type LifecycleSettings } from '../../src/lifecycle/settings.js';
import type { ObjectRecord, Upload } from '../../src/store/types.js';

const FULL: LifecycleSettings = { daySeconds: 86_400, restoreSeconds: { Expedited: 300, Standard: 14_400, Bulk: 43_200 } };
const SHORT: LifecycleSettings = { ...FULL, daySeconds: 1 };
const DAY = 86_400_000;
const OWNER = 'a'.repeat(64);

function object(key: string, created: string, size = 10, storageClass = 'STANDARD', tags: ObjectRecord['tags'] = []): ObjectRecord {
  return {
    bucket: 'b', key, versionId: 'null', size, etag: 'e', lastModified: new Date(created), owner: OWNER, storageClass,
    headers: { contentType: 'binary/octet-stream' }, userMetadata: {}, acl: { owner: OWNER, grants: [] }, tags,
    data: { kind: 'inline', bytes: Buffer.alloc(size) },
  };
}

const SEED = parseLifecycleConfiguration(`<LifecycleConfiguration><Rule><ID>ruleid</ID><Prefix>logs/</Prefix><Status>Enabled</Status>
  <Expiration><Days>120</Days></Expiration>
  <Transition><StorageClass>STANDARD_IA</StorageClass><Days>30</Days></Transition>
  <Transition><StorageClass>GLACIER</StorageClass><Days>90</Days></Transition></Rule></LifecycleConfiguration>`);

test('days count from creation and round up to the next midnight UTC, as S3 documents', () => {
  // AWS's example: created 2014-01-15 10:30 UTC, 3 days -> due 2014-01-19 00:00 UTC.
  assert.equal(new Date(daysAfter(FULL, Date.parse('2014-01-15T10:30:00Z'), 3)).toISOString(), '2014-01-19T00:00:00.000Z');
  assert.equal(daysAfter(FULL, Date.parse('2014-01-15T00:00:00Z'), 1), Date.parse('2014-01-16T00:00:00Z'));
  // A shortened day has no calendar: exactly n short days later.
  assert.equal(daysAfter(SHORT, 1_000, 30), 31_000);
});

test('restore durations shrink with the day', () => {
  assert.equal(restoreReadyAt(FULL, 0, 'Standard'), 4 * 3600 * 1000);
  assert.equal(restoreReadyAt(SHORT, 0, 'Bulk'), 43_200 * 1000 / 86_400);
});

test('the seed rule: STANDARD_IA after 30 days, GLACIER after 90, expired after 120; never back up the waterfall', () => {
  const created = '2024-01-01T12:00:00Z';
  // Created at noon: n days later is noon, rounded up to the following midnight.
  const at = (days: number): number => Date.parse('2024-01-02T00:00:00Z') + days * DAY;
  assert.deepEqual(decide(SEED, object('logs/a', created), at(30) - 1, FULL), { kind: 'none' });
  assert.deepEqual(decide(SEED, object('logs/a', created), at(30), FULL), { kind: 'transition', storageClass: 'STANDARD_IA' });
  assert.deepEqual(decide(SEED, object('logs/a', created), at(95), FULL), { kind: 'transition', storageClass: 'GLACIER' });
  assert.deepEqual(decide(SEED, object('logs/a', created, 10, 'GLACIER'), at(95), FULL), { kind: 'none' });
  assert.deepEqual(decide(SEED, object('logs/a', created, 10, 'DEEP_ARCHIVE'), at(95), FULL), { kind: 'none' });
  assert.deepEqual(decide(SEED, object('logs/a', created, 10, 'GLACIER'), at(120), FULL), { kind: 'expire' });
  assert.deepEqual(decide(SEED, object('other/a', created), at(200), FULL), { kind: 'none' });
});

test('filters: tags must all be present, size bounds are strict', () => {
  const config = parseLifecycleConfiguration(`<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status>
    <Filter><And><Prefix>a/</Prefix><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>20</ObjectSizeLessThan></And></Filter>
    <Expiration><Days>1</Days></Expiration></Rule>
    <Rule><ID>t</ID><Status>Enabled</Status><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><Days>1</Days></Expiration></Rule>
    </LifecycleConfiguration>`);
  const later = Date.parse('2030-01-01T00:00:00Z');
  const created = '2024-01-01T00:00:00Z';
  assert.equal(decide(config, object('a/x', created, 10), later, FULL).kind, 'none');
  assert.equal(decide(config, object('a/x', created, 11), later, FULL).kind, 'expire');
  assert.equal(decide(config, object('a/x', created, 20), later, FULL).kind, 'none');
  assert.equal(decide(config, object('b/x', created, 15), later, FULL).kind, 'none');
  // The Tag rule wants k=v among the object's tags, exactly.
  assert.equal(decide(config, object('b/x', created, 15, 'STANDARD', [{ key: 'other', value: '1' }, { key: 'k', value: 'v' }]), later, FULL).kind, 'expire');
  assert.equal(decide(config, object('b/x', created, 15, 'STANDARD', [{ key: 'k', value: 'V' }]), later, FULL).kind, 'none');
  assert.equal(decide(config, object('b/x', created, 15, 'STANDARD', [{ key: 'K', value: 'v' }]), later, FULL).kind, 'none');
});

test('uploads are aborted DaysAfterInitiation after they began, under the rule\'s prefix', () => {
  const config = parseLifecycleConfiguration(`<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status><Filter><Prefix>mp/</Prefix></Filter>
    <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>`);
  const upload = (key: string): Upload => ({
    uploadId: 'u', bucket: 'b', key, initiated: new Date('2024-01-01T06:00:00Z'), owner: OWNER, storageClass: 'STANDARD',
    headers: { contentType: 'binary/octet-stream' }, userMetadata: {}, acl: { owner: OWNER, grants: [] }, tags: [],
  });
  assert.equal(shouldAbort(config, upload('mp/x'), Date.parse('2024-01-08T23:59:59Z'), FULL), false);
  assert.equal(shouldAbort(config, upload('mp/x'), Date.parse('2024-01-09T00:00:00Z'), FULL), true);
  assert.equal(shouldAbort(config, upload('other'), Date.parse('2025-01-01T00:00:00Z'), FULL), false);
});

const CURRENT: VersionStanding = { newerNoncurrent: 0, alone: false };
const noncurrent = (since: string, newerNoncurrent = 0): VersionStanding => ({ noncurrentSince: Date.parse(since), newerNoncurrent, alone: false });
const marker = (key: string, created: string): ObjectRecord => ({ ...object(key, created, 0), etag: '', deleteMarker: true });

test('noncurrent versions: days count from when the successor was written, rounded up to midnight UTC', () => {
  const config = parseLifecycleConfiguration(`<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status><Filter><Prefix>v/</Prefix></Filter>
    <NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionTransition><NoncurrentDays>60</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionExpiration><NoncurrentDays>90</NoncurrentDays></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>`);
  // Written years before it became noncurrent: only the day it stopped being current counts.
  const version = object('v/a', '2020-01-01T00:00:00Z');
  const since = '2024-03-01T15:00:00Z';
  const at = (days: number): number => Date.parse('2024-03-02T00:00:00Z') + days * DAY;
  assert.deepEqual(decideVersion(config, version, noncurrent(since), at(30) - 1, FULL), { kind: 'none' });
  assert.deepEqual(decideVersion(config, version, noncurrent(since), at(30), FULL), { kind: 'transition', storageClass: 'STANDARD_IA' });
  assert.deepEqual(decideVersion(config, version, noncurrent(since), at(60), FULL), { kind: 'transition', storageClass: 'GLACIER' });
  assert.deepEqual(decideVersion(config, object('v/a', '2020-01-01T00:00:00Z', 10, 'GLACIER'), noncurrent(since), at(89), FULL), { kind: 'none' });
  assert.deepEqual(decideVersion(config, version, noncurrent(since), at(90), FULL), { kind: 'expire' });
  // The current version is not touched by Noncurrent* actions, whatever its age.
  assert.deepEqual(decideVersion(config, version, CURRENT, at(1000), FULL), { kind: 'none' });
  assert.deepEqual(decideVersion(config, object('x/a', '2020-01-01T00:00:00Z'), noncurrent(since), at(1000), FULL), { kind: 'none' });
  // Noncurrent delete markers expire too, and never transition.
  assert.deepEqual(decideVersion(config, marker('v/a', '2020-01-01T00:00:00Z'), noncurrent(since), at(60), FULL), { kind: 'none' });
  assert.deepEqual(decideVersion(config, marker('v/a', '2020-01-01T00:00:00Z'), noncurrent(since), at(90), FULL), { kind: 'expire' });
});

test('NewerNoncurrentVersions keeps that many newest noncurrent versions, whatever their age', () => {
  const config = parseLifecycleConfiguration(`<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status><Filter/>
    <NoncurrentVersionTransition><NoncurrentDays>0</NoncurrentDays><StorageClass>GLACIER_IR</StorageClass><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionTransition>
    <NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>
    </Rule></LifecycleConfiguration>`);
  const version = object('k', '2020-01-01T00:00:00Z');
  const later = Date.parse('2030-01-01T00:00:00Z');
  assert.deepEqual(decideVersion(config, version, noncurrent('2024-01-01T00:00:00Z', 0), later, FULL), { kind: 'none' });
  assert.deepEqual(decideVersion(config, version, noncurrent('2024-01-01T00:00:00Z', 1), later, FULL), { kind: 'transition', storageClass: 'GLACIER_IR' });
  assert.deepEqual(decideVersion(config, version, noncurrent('2024-01-01T00:00:00Z', 2), later, FULL), { kind: 'transition', storageClass: 'GLACIER_IR' });
  assert.deepEqual(decideVersion(config, version, noncurrent('2024-01-01T00:00:00Z', 3), later, FULL), { kind: 'expire' });
  // Enough newer versions, but not yet a day noncurrent.
  assert.deepEqual(decideVersion(config, version, noncurrent('2029-12-31T12:00:00Z', 5), later, FULL), { kind: 'transition', storageClass: 'GLACIER_IR' });
});

test('a current delete marker expires only when it is its key\'s only version', () => {
  const config = parseLifecycleConfiguration(`<LifecycleConfiguration>
    <Rule><ID>m</ID><Status>Enabled</Status><Filter><Prefix>m/</Prefix></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>
    <Rule><ID>off</ID><Status>Enabled</Status><Filter><Prefix>off/</Prefix></Filter><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration></Rule>
    <Rule><ID>d</ID><Status>Enabled</Status><Filter><Prefix>d/</Prefix></Filter><Expiration><Days>5</Days></Expiration></Rule>
    </LifecycleConfiguration>`);
  const created = '2024-01-01T12:00:00Z';
  const alone: VersionStanding = { newerNoncurrent: 0, alone: true };
  const soon = Date.parse('2024-01-01T13:00:00Z');
  assert.deepEqual(decideVersion(config, marker('m/a', created), alone, soon, FULL), { kind: 'expire' });
  assert.deepEqual(decideVersion(config, marker('m/a', created), CURRENT, soon, FULL), { kind: 'none' });
  assert.deepEqual(decideVersion(config, marker('off/a', created), alone, Date.parse('2030-01-01T00:00:00Z'), FULL), { kind: 'none' });
  // An Expiration by Days removes a lone marker once the marker itself is that old (never adds a second one).
  assert.deepEqual(decideVersion(config, marker('d/a', created), alone, Date.parse('2024-01-07T00:00:00Z') - 1, FULL), { kind: 'none' });
  assert.deepEqual(decideVersion(config, marker('d/a', created), alone, Date.parse('2024-01-07T00:00:00Z'), FULL), { kind: 'expire' });
  assert.deepEqual(decideVersion(config, marker('d/a', created), CURRENT, Date.parse('2030-01-01T00:00:00Z'), FULL), { kind: 'none' });
  // A current version that is not a marker follows decide().
  assert.deepEqual(decideVersion(config, object('d/a', created), CURRENT, Date.parse('2024-01-07T00:00:00Z'), FULL), { kind: 'expire' });
});
