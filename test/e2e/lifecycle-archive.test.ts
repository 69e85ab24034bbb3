/**
 * Archiving moves bytes out of hot storage: after a GLACIER or DEEP_ARCHIVE
 * transition an object's bytes are in no hot blob file and no SQLite row, only
 * in the cold folder, and a restore brings them back. Passes, and a pass
 * resumed after SIGKILL, process each object exactly once, as the worker's
 * counters and the cold folder show.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketLifecycleConfigurationCommand,
  PutObjectCommand, RestoreObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { readMetadata } from './data-folder.js';
import { s3Client, startServer } from './harness.js';
import { fileCount, filesUnder, lifecycleCounts, midnightUtc, putAll, storageClassesOf } from './lifecycle-helpers.js';
import { bodyBytes, patternBytes, rejectsWith } from './s3-helpers.js';

const FAST = ['--lifecycle-day-seconds', '0.2', '--gc-grace', '0'];

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function archiveEverything(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new PutBucketLifecycleConfigurationCommand({
    Bucket: bucket,
    LifecycleConfiguration: { Rules: [{ ID: 'archive', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 0, StorageClass: 'GLACIER' }] }] },
  }));
}

test('archived bytes leave hot storage (blob files and inline rows) for --cold-dir, and a restore brings them back', async () => {
  const coldDir = mkdtempSync(join(tmpdir(), 'cairn-cold-'));
  const server = await startServer({ args: [...FAST, '--lifecycle-interval', '0.1', '--cold-dir', coldDir] });
  const s3 = s3Client(server);
  try {
    const bucket = 'archive-bytes';
    const big = patternBytes(100 * 1024, 7);
    const small = patternBytes(1024, 9);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: big }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: small }));
    const inlineOf = (): Buffer | null => readMetadata(server.dataDir, (db) =>
      (db.prepare('SELECT b.bytes AS inline FROM objects o LEFT JOIN object_bodies b ON b.id = o.id WHERE o.key = ?').get('small') as { inline: Buffer | null }).inline);
    // Where the bytes are before: the large object in a hot blob file, the small one in its row.
    assert.ok(filesUnder(join(server.dataDir, 'blobs')).some((f) => f.equals(big)));
    assert.ok(inlineOf()?.equals(small));

    await s3.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: { Rules: [{ ID: 'archive', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 1, StorageClass: 'GLACIER' }] }] },
    }));
    await waitFor('both objects archived and their hot files removed', () => {
      const cold = filesUnder(coldDir);
      const hot = filesUnder(join(server.dataDir, 'blobs'));
      return cold.some((f) => f.equals(big)) && cold.some((f) => f.equals(small)) && !hot.some((f) => f.includes(big.subarray(0, 4096))) ? true : undefined;
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.StorageClass]), [['big', 'GLACIER'], ['small', 'GLACIER']]);
    assert.equal(inlineOf(), null);
    assert.equal(fileCount(join(server.dataDir, 'cold')), 0, 'nothing in the default cold folder');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big' }))).ContentLength, big.length);

    for (const key of ['big', 'small']) {
      await s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: key, RestoreRequest: { Days: 100, GlacierJobParameters: { Tier: 'Expedited' } } }));
    }
    for (const [key, bytes] of [['big', big], ['small', small]] as const) {
      await waitFor(`${key} restored`, async () =>
        (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Restore?.startsWith('ongoing-request="false"') || undefined);
      assert.ok((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).equals(bytes), key);
    }
    const admin = /Admin endpoint on (http\S+)/.exec(server.output())![1]!;
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /^cairn_lifecycle_transitions_total\{storage_class="GLACIER"\} 2$/m);
    assert.match(metrics, /^cairn_lifecycle_archived_total 2$/m);
    assert.match(metrics, /^cairn_restores_total\{event="completed"\} 2$/m);
  } finally {
    s3.destroy();
    await server.stop();
    rmSync(coldDir, { recursive: true, force: true });
  }
});

test('a DEEP_ARCHIVE transition moves the bytes to one cold file each, and a Bulk restore brings them back', async () => {
  // Only the Bulk tier completes within the test (5 full days' seconds: one second with 0.2-second days).
  const never = String(10 ** 9);
  const server = await startServer({
    args: [...FAST, '--lifecycle-interval', '0.1', '--restore-bulk-seconds', String(5 * 86_400), '--restore-standard-seconds', never, '--restore-expedited-seconds', never],
  });
  const s3 = s3Client(server);
  try {
    const bucket = 'deep-archive';
    const objects = new Map([['deep/big', patternBytes(100 * 1024, 21)], ['deep/small', patternBytes(1024, 22)], ['hot', patternBytes(60 * 1024, 23)]]);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await putAll(s3, bucket, objects);
    await s3.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: { Rules: [{ ID: 'deep', Status: 'Enabled', Filter: { Prefix: 'deep/' }, Transitions: [{ Days: 1, StorageClass: 'DEEP_ARCHIVE' }] }] },
    }));
    const coldDir = join(server.dataDir, 'cold');
    const hotDir = join(server.dataDir, 'blobs');
    const big = objects.get('deep/big')!;
    await waitFor('the archived bytes to leave hot storage', () =>
      (fileCount(coldDir) === 2 && !filesUnder(hotDir).some((f) => f.includes(big.subarray(0, 4096))) ? true : undefined));
    const cold = filesUnder(coldDir);
    assert.ok(cold.some((f) => f.equals(big)) && cold.some((f) => f.equals(objects.get('deep/small')!)), 'each cold file holds its object\'s bytes');
    assert.ok(filesUnder(hotDir).some((f) => f.equals(objects.get('hot')!)), 'the object under no rule stays in hot storage');
    const small = readMetadata(server.dataDir, (db) => db.prepare('SELECT b.bytes AS inline FROM objects o LEFT JOIN object_bodies b ON b.id = o.id WHERE o.key = ?').get('deep/small') as { inline: Buffer | null });
    assert.equal(small.inline, null);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.StorageClass]), [['deep/big', 'DEEP_ARCHIVE'], ['deep/small', 'DEEP_ARCHIVE'], ['hot', 'STANDARD']]);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'deep/big' })), 'InvalidObjectState', 403);

    for (const key of ['deep/big', 'deep/small']) {
      const started = await s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: key, RestoreRequest: { Days: 100, GlacierJobParameters: { Tier: 'Bulk' } } }));
      assert.equal(started.$metadata.httpStatusCode, 202);
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Restore, 'ongoing-request="true"');
    }
    for (const key of ['deep/big', 'deep/small']) {
      await waitFor(`${key} restored`, async () =>
        (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Restore?.startsWith('ongoing-request="false"') || undefined);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(got.StorageClass, 'DEEP_ARCHIVE');
      assert.ok((await bodyBytes(got.Body)).equals(objects.get(key)!), key);
    }
    // The restored copies are hot; the archive keeps its one cold file per object.
    assert.ok(filesUnder(hotDir).some((f) => f.equals(big)));
    assert.equal(fileCount(coldDir), 2);
    const counts = await lifecycleCounts(server);
    assert.equal(counts.transitions('DEEP_ARCHIVE'), 2);
    assert.equal(counts.archived, 2);
  } finally {
    s3.destroy();
    await server.stop();
  }
});

test('after passes over a bucket, the counters and the cold folder count each object exactly once', async () => {
  const server = await startServer({ args: [...FAST, '--lifecycle-interval', '0.1'] });
  const s3 = s3Client(server);
  try {
    const bucket = 'count-once';
    const objects = new Map<string, Buffer>();
    const add = (prefix: string, n: number, seed: number): void => {
      for (let i = 0; i < n; i++) objects.set(`${prefix}${String(i).padStart(3, '0')}`, patternBytes(i % 10 === 0 ? 30 * 1024 : 500, seed + i));
    };
    add('arc/', 150, 1000);
    add('exp/', 120, 2000);
    add('ir/', 60, 3000);
    add('keep/', 20, 4000);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await putAll(s3, bucket, objects);
    await s3.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [
          { ID: 'arc', Status: 'Enabled', Filter: { Prefix: 'arc/' }, Transitions: [{ Days: 0, StorageClass: 'GLACIER' }] },
          { ID: 'exp', Status: 'Enabled', Filter: { Prefix: 'exp/' }, Expiration: { Date: midnightUtc(-1) } },
          { ID: 'ir', Status: 'Enabled', Filter: { Prefix: 'ir/' }, Transitions: [{ Days: 0, StorageClass: 'GLACIER_IR' }] },
        ],
      },
    }));
    const expected = { glacier: 150, archived: 150, expirations: 120, glacierIr: 60 };
    const countsOf = async (): Promise<typeof expected> => {
      const c = await lifecycleCounts(server);
      return { glacier: c.transitions('GLACIER'), archived: c.archived, expirations: c.expirations, glacierIr: c.transitions('GLACIER_IR') };
    };
    await waitFor('the rules to have acted on every object', async () => {
      const now = await countsOf();
      return (Object.keys(expected) as (keyof typeof expected)[]).every((k) => now[k] >= expected[k]) ? true : undefined;
    });
    // Five more lifecycle days, each with a pass over the bucket, change nothing.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(await countsOf(), expected);

    const coldDir = join(server.dataDir, 'cold');
    assert.equal(fileCount(coldDir), 150, 'one cold file per archived object');
    const cold = filesUnder(coldDir).map((f) => f.toString('base64')).sort();
    const archivedBytes = [...objects].filter(([k]) => k.startsWith('arc/')).map(([, b]) => b.toString('base64')).sort();
    assert.deepEqual(cold, archivedBytes);
    const classes = await storageClassesOf(s3, bucket);
    for (const key of objects.keys()) {
      const want = key.startsWith('arc/') ? 'GLACIER' : key.startsWith('ir/') ? 'GLACIER_IR' : key.startsWith('keep/') ? 'STANDARD' : undefined;
      assert.equal(classes.get(key), want, key);
    }
  } finally {
    s3.destroy();
    await server.stop();
  }
});

test('the lifecycle worker resumes after SIGKILL mid-pass: every object archived exactly once, bytes intact', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-lc-kill-'));
  const coldDir = join(dataDir, 'cold');
  const bucket = 'archive-many';
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < 600; i++) objects.set(`obj/${String(i).padStart(4, '0')}`, patternBytes(i % 30 === 0 ? 40 * 1024 : 300, i + 1));
  try {
    // Filled under full-length days, so nothing is due yet: a rule's day 0 ends at the next midnight UTC.
    const filling = await startServer({ dataDir, args: ['--gc-grace', '0'] });
    const s3 = s3Client(filling);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await putAll(s3, bucket, objects);
    await archiveEverything(s3, bucket);
    s3.destroy();
    await filling.stop();
    assert.equal(fileCount(coldDir), 0);

    // The next start runs a pass at once; it is killed part-way through.
    const doomed = await startServer({ dataDir, args: FAST });
    const atKill = await waitFor('the pass to get going', () => (fileCount(coldDir) >= 20 ? fileCount(coldDir) : undefined), 20_000, 5);
    const countedBeforeKill = await lifecycleCounts(doomed);
    await doomed.kill();
    assert.ok(atKill < objects.size, `killed mid-pass (${atKill} of ${objects.size} archived)`);
    const cursor = readMetadata(dataDir, (db) => db.prepare('SELECT bucket, key FROM lifecycle_cursor').get() as { bucket: string; key: string } | undefined);
    assert.equal(cursor?.bucket, bucket, 'the pass left its cursor');
    // What the killed life did, as committed; its counters (lost with it) counted no more than that.
    const doneAtKill = readMetadata(dataDir, (db) => db.prepare(
      "SELECT sum(storage_class = 'GLACIER') AS transitioned, sum(cold IS NOT NULL) AS archived FROM objects").get() as { transitioned: number; archived: number });
    assert.ok(doneAtKill.archived < objects.size && doneAtKill.transitioned < objects.size, `killed mid-pass: ${JSON.stringify(doneAtKill)}`);
    assert.ok(countedBeforeKill.transitions('GLACIER') <= doneAtKill.transitioned, 'transitions counted before the kill were committed');
    assert.ok(countedBeforeKill.archived <= doneAtKill.archived, 'archives counted before the kill were committed');

    const resumed = await startServer({ dataDir, args: [...FAST, '--lifecycle-interval', '0.1'] });
    try {
      await waitFor('every object archived', () => readMetadata(dataDir, (db) =>
        (db.prepare('SELECT count(*) AS n FROM objects WHERE cold IS NULL').get() as { n: number }).n === 0 || undefined));
      const rows = readMetadata(dataDir, (db) => db.prepare('SELECT o.key, o.storage_class, o.cold, b.bytes AS inline, o.extents FROM objects o LEFT JOIN object_bodies b ON b.id = o.id ORDER BY o.key').all() as
        { key: string; storage_class: string; cold: string; inline: Buffer | null; extents: string | null }[]);
      assert.equal(rows.length, objects.size, 'no object lost');
      assert.equal(new Set(rows.map((r) => r.cold)).size, objects.size, 'one cold file per object');
      for (const r of rows) {
        assert.equal(r.storage_class, 'GLACIER', r.key);
        assert.equal(r.inline, null, r.key);
        assert.equal(r.extents, null, r.key);
        assert.ok(readFileSync(join(coldDir, r.cold.slice(0, 2), r.cold)).equals(objects.get(r.key)!), `bytes of ${r.key}`);
      }
      // Cold files of the killed pass that never got committed are swept; the hot blob files are collected.
      await waitFor('leftovers removed', () => (fileCount(coldDir) === objects.size && fileCount(join(dataDir, 'blobs')) === 0) || undefined);
      const s3b = s3Client(resumed);
      const listed = await s3b.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
      s3b.destroy();
      assert.equal(listed.Contents?.length, objects.size);
      assert.ok(listed.Contents!.every((o) => o.StorageClass === 'GLACIER'));
      await waitFor('the pass to finish and clear its cursor', () =>
        readMetadata(dataDir, (db) => db.prepare('SELECT 1 FROM lifecycle_cursor').get() === undefined || undefined));
      // The second life did only what the first had not: over both lives, each object moved and was archived once.
      const expected = { transitions: objects.size - doneAtKill.transitioned, archived: objects.size - doneAtKill.archived };
      const countsOf = async (): Promise<typeof expected> => {
        const counts = await lifecycleCounts(resumed);
        return { transitions: counts.transitions('GLACIER'), archived: counts.archived };
      };
      await waitFor('the counters to catch up', async () => {
        const now = await countsOf();
        return now.transitions >= expected.transitions && now.archived >= expected.archived ? true : undefined;
      });
      // Several more lifecycle days (and passes) later, nothing was counted again.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual(await countsOf(), expected);
      assert.equal(fileCount(coldDir), objects.size, 'one cold file per object');
    } finally {
      await resumed.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a restore requested before a crash completes after the restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-lc-restore-'));
  // A Standard restore takes 5 full days' worth of seconds: one second with 0.2-second days.
  const args = [...FAST, '--lifecycle-interval', '0.1', '--restore-standard-seconds', String(5 * 86_400)];
  const bytes = patternBytes(50 * 1024, 3);
  try {
    const first = await startServer({ dataDir, args });
    const s3 = s3Client(first);
    await s3.send(new CreateBucketCommand({ Bucket: 'restore-crash' }));
    await s3.send(new PutObjectCommand({ Bucket: 'restore-crash', Key: 'k', Body: bytes, StorageClass: 'GLACIER' }));
    await waitFor('the object archived', () => (fileCount(join(dataDir, 'cold')) === 1 ? true : undefined));
    const started = await s3.send(new RestoreObjectCommand({ Bucket: 'restore-crash', Key: 'k', RestoreRequest: { Days: 100 } }));
    assert.equal(started.$metadata.httpStatusCode, 202);
    s3.destroy();
    await first.kill();

    const second = await startServer({ dataDir, args });
    const s3b = s3Client(second);
    try {
      await waitFor('the restore to complete', async () =>
        (await s3b.send(new HeadObjectCommand({ Bucket: 'restore-crash', Key: 'k' }))).Restore?.startsWith('ongoing-request="false"') || undefined);
      assert.ok((await bodyBytes((await s3b.send(new GetObjectCommand({ Bucket: 'restore-crash', Key: 'k' }))).Body)).equals(bytes));
    } finally {
      s3b.destroy();
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
