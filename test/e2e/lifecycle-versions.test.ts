/**
 * Lifecycle rules on versioned buckets, as the AWS SDK for JavaScript v3 sees
 * them run on a server whose lifecycle day lasts 0.2 s: Expiration adds a delete
 * marker (a `null` one when Suspended) and never removes data; noncurrent
 * versions expire and transition counted from when they became noncurrent,
 * keeping NewerNoncurrentVersions; delete markers left alone are removed; locked
 * versions stay; and a pass killed mid-way resumes without doing anything twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { readMetadata } from './data-folder.js';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { lifecycleCounts, putLifecycle, versionsOf, type ListedVersion } from './lifecycle-helpers.js';
import { waitFor } from './production-helpers.js';
import { bodyBytes, newBucket, patternBytes, rejectsWith, uniqueBucket } from './s3-helpers.js';

const SHORT_DAY = ['--lifecycle-day-seconds', '0.2', '--gc-grace', '0'];
const DAY_MS = 200;

let server: RunningServer;
let s3: S3Client;

before(async () => {
  server = await startServer({ args: [...SHORT_DAY, '--lifecycle-interval', '0.1'] });
  s3 = s3Client(server);
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function versionedBucket(client: S3Client, prefix: string): Promise<string> {
  const bucket = await newBucket(client, prefix);
  await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return bucket;
}

async function put(client: S3Client, bucket: string, key: string, body: Buffer | string): Promise<string> {
  return (await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId!;
}

async function versionBytes(bucket: string, key: string, versionId: string): Promise<Buffer> {
  return bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).Body);
}

/** A key's versions and markers as listed: the current one, then the others' ids in any order. */
function stackOf(all: readonly ListedVersion[], key: string): { latest?: ListedVersion; others: string[] } {
  const mine = all.filter((v) => v.key === key);
  const latest = mine.find((v) => v.isLatest);
  return { ...(latest ? { latest } : {}), others: mine.filter((v) => !v.isLatest).map((v) => v.versionId).sort() };
}

describe('Expiration on a versioned bucket', () => {
  test('Enabled: the current version gets a delete marker and stays as noncurrent, bytes intact; one marker only', async () => {
    const bucket = await versionedBucket(s3, 'lcv-exp');
    const bytes = patternBytes(40 * 1024, 1);
    const expiring = await put(s3, bucket, 'old/a', bytes);
    const kept = await put(s3, bucket, 'keep/b', 'kept');
    await putLifecycle(s3, bucket, [{ ID: 'exp', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Days: 2 } }]);
    await waitFor('the delete marker', async () => (stackOf(await versionsOf(s3, bucket), 'old/a').latest?.deleteMarker ? true : undefined));
    // Many lifecycle days later: still the one marker over the version, which was never removed.
    await sleep(10 * DAY_MS);
    const all = await versionsOf(s3, bucket);
    const stack = stackOf(all, 'old/a');
    assert.equal(stack.latest?.deleteMarker, true);
    assert.deepEqual(stack.others, [expiring]);
    assert.deepEqual(stackOf(all, 'keep/b'), { latest: { key: 'keep/b', versionId: kept, isLatest: true, deleteMarker: false, storageClass: 'STANDARD' }, others: [] });
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'old/a' })), 'NoSuchKey', 404);
    assert.ok((await versionBytes(bucket, 'old/a', expiring)).equals(bytes));
  });

  test('Suspended: a null delete marker replaces the null version; versions from before stay', async () => {
    const bucket = await versionedBucket(s3, 'lcv-susp');
    const first = await put(s3, bucket, 'k', 'first, while Enabled');
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    await put(s3, bucket, 'k', 'the null version');
    await put(s3, bucket, 'only-null', 'no other version');
    await putLifecycle(s3, bucket, [{ ID: 'exp', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]);
    await waitFor('the null delete marker', async () => (stackOf(await versionsOf(s3, bucket), 'k').latest?.deleteMarker ? true : undefined));
    const stack = stackOf(await versionsOf(s3, bucket), 'k');
    assert.equal(stack.latest?.versionId, 'null');
    assert.deepEqual(stack.others, [first], 'the null version is gone, the Enabled-era version stays');
    assert.equal((await versionBytes(bucket, 'k', first)).toString(), 'first, while Enabled');
    // A key whose only version was the null one: its marker, alone, goes a day later (as an Expiration does).
    await waitFor('only-null to have no version left', async () =>
      ((await versionsOf(s3, bucket)).some((v) => v.key === 'only-null') ? undefined : true));
    assert.equal(stackOf(await versionsOf(s3, bucket), 'k').latest?.deleteMarker, true);
  });
});

describe('NoncurrentVersionExpiration', () => {
  test('NoncurrentDays count from when a version became noncurrent, not from its creation', async () => {
    const bucket = await versionedBucket(s3, 'lcv-noncur');
    await putLifecycle(s3, bucket, [{ ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 10 } }]);
    const old = await put(s3, bucket, 'k', 'old');
    // Twelve days old and current: untouched.
    await sleep(12 * DAY_MS);
    assert.deepEqual(stackOf(await versionsOf(s3, bucket), 'k').latest?.versionId, old);
    const replacedAt = Date.now();
    const current = await put(s3, bucket, 'k', 'current');
    // Noncurrent for five days: still there.
    await sleep(5 * DAY_MS);
    assert.deepEqual(stackOf(await versionsOf(s3, bucket), 'k').others, [old]);
    await waitFor('the old version to expire', async () => (stackOf(await versionsOf(s3, bucket), 'k').others.length === 0 ? true : undefined));
    assert.ok(Date.now() - replacedAt >= 10 * DAY_MS, `expired ${Date.now() - replacedAt} ms after it became noncurrent`);
    const stack = stackOf(await versionsOf(s3, bucket), 'k');
    assert.equal(stack.latest?.versionId, current);
    assert.equal((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body)).toString(), 'current');
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: old })), 'NoSuchVersion', 404);
  });

  test('NewerNoncurrentVersions keeps that many newest noncurrent versions', async () => {
    const bucket = await versionedBucket(s3, 'lcv-newer');
    const ids: string[] = [];
    for (let i = 1; i <= 6; i++) ids.push(await put(s3, bucket, 'n/k', `version ${i}`));
    const few = [await put(s3, bucket, 'n/few', 'one'), await put(s3, bucket, 'n/few', 'two')];
    await putLifecycle(s3, bucket, [{
      ID: 'keep-two', Status: 'Enabled', Filter: { Prefix: 'n/' }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 2 },
    }]);
    await waitFor('three versions of n/k left', async () => (stackOf(await versionsOf(s3, bucket), 'n/k').others.length === 2 ? true : undefined));
    await sleep(10 * DAY_MS);
    const all = await versionsOf(s3, bucket);
    const stack = stackOf(all, 'n/k');
    assert.equal(stack.latest?.versionId, ids[5]);
    assert.deepEqual(stack.others, [ids[3]!, ids[4]!].sort());
    for (const i of [3, 4, 5]) assert.equal((await versionBytes(bucket, 'n/k', ids[i]!)).toString(), `version ${i + 1}`);
    assert.deepEqual(stackOf(all, 'n/few').others, [few[0]], 'one noncurrent version is fewer than two: kept');
  });

  test('locked versions (retention, legal hold) never expire; the others do, and Expiration still adds a marker', async () => {
    const bucket = uniqueBucket('lcv-lock');
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    const retained = (await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'k', Body: 'retained', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date(Date.UTC(2099, 0, 1)),
    }))).VersionId!;
    const held = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'held', ObjectLockLegalHoldStatus: 'ON' }))).VersionId!;
    const plain = await put(s3, bucket, 'k', 'plain');
    const current = await put(s3, bucket, 'k', 'current');
    await putLifecycle(s3, bucket, [{
      ID: 'all', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    }]);
    await waitFor('the unlocked versions to expire', async () => {
      const stack = stackOf(await versionsOf(s3, bucket), 'k');
      return stack.latest?.deleteMarker && !stack.others.includes(plain) && !stack.others.includes(current) ? true : undefined;
    });
    await sleep(10 * DAY_MS);
    const stack = stackOf(await versionsOf(s3, bucket), 'k');
    assert.equal(stack.latest?.deleteMarker, true);
    assert.deepEqual(stack.others, [retained, held].sort());
    assert.equal((await versionBytes(bucket, 'k', retained)).toString(), 'retained');
    assert.equal((await versionBytes(bucket, 'k', held)).toString(), 'held');
  });
});

describe('NoncurrentVersionTransition', () => {
  test('noncurrent versions move down the waterfall, the current one stays; GLACIER ones leave hot storage', async () => {
    const bucket = await versionedBucket(s3, 'lcv-nctrans');
    const bodies = ['one', 'two', 'three'].map((word, i) => patternBytes(10 * 1024, i + 1).fill(word, 0, word.length));
    const [v1, v2, v3] = [await put(s3, bucket, 'k', bodies[0]!), await put(s3, bucket, 'k', bodies[1]!), await put(s3, bucket, 'k', bodies[2]!)];
    await putLifecycle(s3, bucket, [{
      ID: 'down', Status: 'Enabled', Filter: {},
      NoncurrentVersionTransitions: [
        { NoncurrentDays: 1, StorageClass: 'GLACIER_IR' },
        { NoncurrentDays: 1, StorageClass: 'GLACIER', NewerNoncurrentVersions: 1 },
      ],
    }]);
    const classOf = (all: readonly ListedVersion[], id: string): string | undefined => all.find((v) => v.versionId === id)?.storageClass;
    await waitFor('the transitions', async () => {
      const all = await versionsOf(s3, bucket);
      return classOf(all, v1!) === 'GLACIER' && classOf(all, v2!) === 'GLACIER_IR' ? true : undefined;
    });
    await sleep(10 * DAY_MS);
    const all = await versionsOf(s3, bucket);
    assert.deepEqual([classOf(all, v1!), classOf(all, v2!), classOf(all, v3!)], ['GLACIER', 'GLACIER_IR', 'STANDARD']);
    assert.equal(stackOf(all, 'k').latest?.versionId, v3);
    assert.ok((await versionBytes(bucket, 'k', v2!)).equals(bodies[1]!));
    assert.ok((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body)).equals(bodies[2]!));
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1 })), 'InvalidObjectState', 403);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }))).StorageClass, 'GLACIER');
  });
});

describe('expired object delete markers', () => {
  test('ExpiredObjectDeleteMarker removes a marker once it is its key\'s only version, and no other', async () => {
    const bucket = await versionedBucket(s3, 'lcv-markers');
    const marked = async (key: string): Promise<string> => {
      const version = await put(s3, bucket, key, `body of ${key}`);
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return version;
    };
    // m/lone: the marker alone. m/slow: the marker over a version that expires later. m/kept: over one that stays.
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'm/lone', VersionId: await marked('m/lone') }));
    await marked('m/slow');
    const keptVersion = await marked('m/kept');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'off/lone', VersionId: await marked('off/lone') }));
    await putLifecycle(s3, bucket, [
      { ID: 'markers', Status: 'Enabled', Filter: { Prefix: 'm/' }, Expiration: { ExpiredObjectDeleteMarker: true } },
      { ID: 'slow', Status: 'Enabled', Filter: { Prefix: 'm/slow' }, NoncurrentVersionExpiration: { NoncurrentDays: 3 } },
    ]);
    const keysLeft = async (): Promise<string[]> => [...new Set((await versionsOf(s3, bucket)).map((v) => v.key))];
    await waitFor('the lone marker to go', async () => ((await keysLeft()).includes('m/lone') ? undefined : true));
    await waitFor('m/slow: its version, then its marker, to go', async () => ((await keysLeft()).includes('m/slow') ? undefined : true));
    await sleep(10 * DAY_MS);
    const all = await versionsOf(s3, bucket);
    assert.deepEqual([...new Set(all.map((v) => v.key))], ['m/kept', 'off/lone']);
    assert.equal(stackOf(all, 'm/kept').latest?.deleteMarker, true);
    assert.deepEqual(stackOf(all, 'm/kept').others, [keptVersion]);
    assert.equal(stackOf(all, 'off/lone').latest?.deleteMarker, true, 'no rule for off/: the marker stays');
  });

  test('an Expiration by Days removes a lone marker once the marker is that many days old', async () => {
    const bucket = await versionedBucket(s3, 'lcv-marker-days');
    await putLifecycle(s3, bucket, [{ ID: 'days', Status: 'Enabled', Filter: {}, Expiration: { Days: 5 } }]);
    const version = await put(s3, bucket, 'k', 'x');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: version }));
    const markedAt = Date.now();
    await sleep(2 * DAY_MS);
    assert.equal(stackOf(await versionsOf(s3, bucket), 'k').latest?.deleteMarker, true, 'two days old: kept');
    await waitFor('the marker to go', async () => ((await versionsOf(s3, bucket)).length === 0 ? true : undefined));
    assert.ok(Date.now() - markedAt >= 5 * DAY_MS, `removed ${Date.now() - markedAt} ms after it was written`);
  });
});

test('a pass killed mid-way over versions resumes: each key keeps exactly its newest versions and gets one marker', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-lcv-kill-'));
  const bucket = 'versions-kill';
  const keys = Array.from({ length: 250 }, (_, i) => `k/${String(i).padStart(3, '0')}`);
  const expiring = Array.from({ length: 100 }, (_, i) => `e/${String(i).padStart(3, '0')}`);
  // The worker of a server started with an hour-long interval makes one pass at start, then none for an hour.
  const args = [...SHORT_DAY, '--lifecycle-interval', '3600'];
  const written = new Map<string, string[]>();
  try {
    const filling = await startServer({ dataDir, args });
    const fill = s3Client(filling);
    await fill.send(new CreateBucketCommand({ Bucket: bucket }));
    await fill.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const queue = [...keys, ...expiring];
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        const ids: string[] = [];
        for (let v = 0; v < (key.startsWith('k/') ? 4 : 1); v++) ids.push(await put(fill, bucket, key, `${key} v${v}`));
        written.set(key, ids);
      }
    }));
    await putLifecycle(fill, bucket, [
      { ID: 'keep-one', Status: 'Enabled', Filter: { Prefix: 'k/' }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
      { ID: 'expire', Status: 'Enabled', Filter: { Prefix: 'e/' }, Expiration: { Days: 1 } },
    ]);
    fill.destroy();
    await filling.stop();
    await sleep(2 * DAY_MS);

    const total = keys.length * 2 + expiring.length;
    const done = (): number => readMetadata(dataDir, (db) => {
      const { removed, markers } = db.prepare(`SELECT ? - sum(delete_marker = 0) AS removed, sum(delete_marker) AS markers FROM objects WHERE bucket = ?`)
        .get(keys.length * 4 + expiring.length, bucket) as { removed: number; markers: number };
      return removed + markers;
    });
    const doomed = await startServer({ dataDir, args });
    await waitFor('the pass to get going', () => (done() >= 20 ? true : undefined));
    await doomed.kill();
    const doneAtKill = done();
    assert.ok(doneAtKill < total, `killed mid-pass (${doneAtKill} of ${total} changes made)`);
    assert.equal(readMetadata(dataDir, (db) => (db.prepare('SELECT bucket FROM lifecycle_cursor').get() as { bucket: string } | undefined)?.bucket), bucket);

    const resumed = await startServer({ dataDir, args: [...SHORT_DAY, '--lifecycle-interval', '0.1'] });
    const client = s3Client(resumed);
    try {
      await waitFor('the pass to finish', () => (done() === total ? true : undefined), 30_000);
      await sleep(10 * DAY_MS);
      const all = await versionsOf(client, bucket);
      for (const key of keys) {
        const ids = written.get(key)!;
        assert.deepEqual(stackOf(all, key), {
          latest: { key, versionId: ids[3], isLatest: true, deleteMarker: false, storageClass: 'STANDARD' }, others: [ids[2]],
        }, key);
      }
      for (const key of expiring) {
        const stack = stackOf(all, key);
        assert.equal(stack.latest?.deleteMarker, true, key);
        assert.deepEqual(stack.others, written.get(key), `${key}: one marker over its version`);
      }
      // The second life made exactly the changes the first had not committed.
      assert.equal((await lifecycleCounts(resumed)).expirations, total - doneAtKill);
    } finally {
      client.destroy();
      await resumed.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
