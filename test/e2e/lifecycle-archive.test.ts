/**
 * Archiving moves bytes out of hot storage: after a GLACIER transition an
 * object's bytes are in no hot blob file and no SQLite row, only in the cold
 * folder, and a restore brings them back. The lifecycle worker resumes after
 * SIGKILL mid-pass without losing or double-processing objects.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketLifecycleConfigurationCommand,
  PutObjectCommand, RestoreObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { readMetadata } from './data-folder.js';
import { s3Client, startServer } from './harness.js';
import { bodyBytes, patternBytes, walk } from './s3-helpers.js';

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

/** Contents of every file under a folder. */
function filesUnder(dir: string): Buffer[] {
  if (!existsSync(dir)) return [];
  return walk(dir).map((rel) => join(dir, rel)).filter((p) => statSync(p).isFile()).map((p) => readFileSync(p));
}

function fileCount(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const folder of readdirSync(dir)) n += readdirSync(join(dir, folder)).length;
  return n;
}

async function putAll(s3: S3Client, bucket: string, objects: ReadonlyMap<string, Buffer>, concurrency = 16): Promise<void> {
  const queue = [...objects];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: next[0], Body: next[1] }));
    }
  }));
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
      (db.prepare('SELECT inline FROM objects WHERE key = ?').get('small') as { inline: Buffer | null }).inline);
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

test('the lifecycle worker resumes after SIGKILL mid-pass: every object archived exactly once, bytes intact', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-lc-kill-'));
  const coldDir = join(dataDir, 'cold');
  const bucket = 'archive-many';
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < 600; i++) objects.set(`obj/${String(i).padStart(4, '0')}`, patternBytes(i % 30 === 0 ? 40 * 1024 : 300, i + 1));
  try {
    // Filled with a worker that waits an hour between passes, so nothing moves yet.
    const filling = await startServer({ dataDir, args: [...FAST, '--lifecycle-interval', '3600'] });
    const s3 = s3Client(filling);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await putAll(s3, bucket, objects);
    await archiveEverything(s3, bucket);
    s3.destroy();
    await filling.stop();
    assert.equal(fileCount(coldDir), 0);

    // The next start runs a pass at once; it is killed part-way through.
    const doomed = await startServer({ dataDir, args: [...FAST, '--lifecycle-interval', '3600'] });
    const atKill = await waitFor('the pass to get going', () => (fileCount(coldDir) >= 20 ? fileCount(coldDir) : undefined), 20_000, 5);
    await doomed.kill();
    assert.ok(atKill < objects.size, `killed mid-pass (${atKill} of ${objects.size} archived)`);
    const cursor = readMetadata(dataDir, (db) => db.prepare('SELECT bucket, key FROM lifecycle_cursor').get() as { bucket: string; key: string } | undefined);
    assert.equal(cursor?.bucket, bucket, 'the pass left its cursor');

    const resumed = await startServer({ dataDir, args: [...FAST, '--lifecycle-interval', '0.1'] });
    try {
      await waitFor('every object archived', () => readMetadata(dataDir, (db) =>
        (db.prepare('SELECT count(*) AS n FROM objects WHERE cold IS NULL').get() as { n: number }).n === 0 || undefined));
      const rows = readMetadata(dataDir, (db) => db.prepare('SELECT key, storage_class, cold, inline, extents FROM objects ORDER BY key').all() as
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
