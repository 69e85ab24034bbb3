/**
 * DESIGN.md's engine invariants 1 (an acknowledged write is durable), 2 (readers
 * never see a partial object) and 8 (crashes leave nothing behind; blob
 * deletions go through a queue committed with the metadata change), checked by
 * killing a real server with SIGKILL while uploads are in flight.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, ListPartsCommand, NoSuchKey, PutObjectCommand,
  CopyObjectCommand, S3Client, UploadPartCommand, type _Object,
} from '@aws-sdk/client-s3';
import { ROOT_KEY, startServer, type RunningServer } from './harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Bodies up to this size live in the metadata row (src/store/files/blobs.ts). */
const INLINE_MAX = 32 * KiB;
const BUCKET = 'crash-bucket';

/** A client that may hold many uploads open at once and never retries (a retry would hide what the crash did). */
function client(server: RunningServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { ...ROOT_KEY },
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 128 }) },
    // The SDK warns on the console about every streaming request the crash cuts off.
    logger: { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/** Every file under <data>/blobs, whatever its fan-out (blobs/ab/<id> or blobs/ab/cd/<id>): name → path. */
function blobPaths(dataDir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string): void => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else found.set(e.name, join(dir, e.name));
    }
  };
  walk(join(dataDir, 'blobs'));
  return found;
}

function blobFiles(dataDir: string): Set<string> {
  return new Set(blobPaths(dataDir).keys());
}

/** Polls `check` until it returns true; fails with `describe()` when it never does (a bound, not a timing assertion). */
async function eventually(check: () => boolean | Promise<boolean>, explain: () => string, attempts = 300): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(explain());
}

/** Dead blobs are collected at once (the default grace period keeps them a minute for readers in other workers). */
const NO_GC_GRACE = ['--gc-grace', '0'];

/** The sweep reports at level info; the harness starts servers at warn (a later flag wins). */
const SWEEP_LOGGED = ['--log-level', 'info'];

/** Waits for the log line of the start-up orphan sweep (written only when it removed something), returns its count. */
async function sweepFinished(server: RunningServer): Promise<number> {
  let count = -1;
  await eventually(() => {
    const line = server.logs().split('\n').find((l) => l.includes('removed orphan blobs'));
    const m = line === undefined ? null : /"count":(\d+)/.exec(line);
    if (m) count = Number(m[1]);
    return m !== null;
  }, () => `no orphan sweep log line in:\n${server.logs()}`);
  return count;
}

/**
 * Plants a file that looks like a blob but that no metadata knows, as a crash
 * mid-write leaves: next to an existing blob, with an id sharing its fan-out prefix.
 */
function plantOrphan(dataDir: string): string {
  const [existing, path] = [...blobPaths(dataDir)][0]!;
  const id = existing.slice(0, 4) + randomBytes(14).toString('hex');
  writeFileSync(join(dirname(path), id), randomBytes(1000));
  return id;
}

/** Starts a server on a fresh data folder, removing the folder when the server does not start. */
async function startOrClean(dataDir: string, args: readonly string[] = []): Promise<RunningServer> {
  try {
    return await startServer({ dataDir, args });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** What the committed metadata knows, read straight from SQLite (server stopped). */
function metadataBlobs(dataDir: string): { live: Set<string>; dead: Set<string>; objects: Set<string>; parts: Set<string> } {
  const db = new Database(join(dataDir, 'metadata.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT id, dead FROM blobs').all() as { id: string; dead: number }[];
    const objects = new Set<string>();
    for (const r of db.prepare('SELECT extents FROM objects WHERE extents IS NOT NULL').all() as { extents: string }[]) {
      for (const e of JSON.parse(r.extents) as { blob: string }[]) objects.add(e.blob);
    }
    const parts = new Set((db.prepare('SELECT blob FROM parts').all() as { blob: string }[]).map((r) => r.blob));
    return {
      live: new Set(rows.filter((r) => r.dead === 0).map((r) => r.id)),
      dead: new Set(rows.filter((r) => r.dead !== 0).map((r) => r.id)),
      objects, parts,
    };
  } finally {
    db.close();
  }
}

function sorted(s: Iterable<string>): string[] {
  return [...s].sort();
}

/** GET → the body, or undefined for NoSuchKey. */
async function fetchObject(s3: S3Client, key: string): Promise<Buffer | undefined> {
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  } catch (err) {
    if (err instanceof NoSuchKey) return undefined;
    throw err;
  }
}

interface Upload {
  readonly key: string;
  readonly body: Buffer;
  readonly md5: string;
  /** 'complete': streamed whole at once; 'held': stops halfway until the crash; 'late': starts streaming only when released. */
  readonly kind: 'complete' | 'held' | 'late';
  acknowledged: boolean;
}

/**
 * A request body that trickles out in 256 KiB pieces, waiting for `start` before
 * its first byte and, when `holdAt` is given, stopping for good after that many bytes.
 */
function trickle(body: Buffer, start: Promise<void>, holdAt: number | undefined, never: Promise<void>): Readable {
  return Readable.from((async function* () {
    await start;
    let offset = 0;
    while (offset < body.length) {
      if (offset === holdAt) await never;
      let end = Math.min(body.length, offset + 256 * KiB);
      if (holdAt !== undefined && offset < holdAt) end = Math.min(end, holdAt);
      yield body.subarray(offset, end);
      offset = end;
      await sleep(1);
    }
  })(), { objectMode: false });
}

describe('crash safety', () => {
  test('SIGKILL during 50 concurrent uploads: acknowledged objects intact, nothing partial, no orphan blobs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cairn-crash-'));
    let server = await startOrClean(dataDir);
    let s3 = client(server);
    let releaseLate!: () => void;
    const late = new Promise<void>((resolve) => { releaseLate = resolve; });
    let releaseHeld!: () => void;
    const never = new Promise<void>((resolve) => { releaseHeld = resolve; });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

      // 50 uploads: some inline-sized (≤ 32 KiB, among them the exact edge), most 1–8 MiB.
      const smallSizes = [0, 1, 1000, 20 * KiB, INLINE_MAX, INLINE_MAX + 1, 30 * KiB, 5 * KiB];
      const uploads: Upload[] = [];
      for (let i = 0; i < 50; i++) {
        const size = i < smallSizes.length ? smallSizes[i]! : MiB + ((i * 2_654_435_761) % (7 * MiB));
        // 25 go through, 15 stop halfway, 10 start late (and are cut off at various points).
        const r = i % 10;
        const kind = r === 0 || r === 5 ? 'late' : r === 3 || r === 6 || r === 8 ? 'held' : 'complete';
        const body = randomBytes(size);
        uploads.push({ key: `obj-${String(i).padStart(2, '0')}-${kind}-${size}`, body, md5: md5(body), kind, acknowledged: false });
      }
      const counts = { complete: 0, held: 0, late: 0 };
      for (const u of uploads) counts[u.kind]++;
      assert.deepEqual(counts, { complete: 25, held: 15, late: 10 });

      // The crash comes when the third late upload is acknowledged (the empty one, the 32 KiB + 1 one, then the
      // smallest of the MiB-sized ones): the rest are then cut off at various points of their bodies.
      let lateAcks = 0;
      let thirdLateAck!: () => void;
      const lateAck = new Promise<void>((resolve) => { thirdLateAck = resolve; });
      const settled = uploads.map(async (u) => {
        const holdAt = u.kind === 'held' ? Math.floor(u.body.length / 2) : undefined;
        const start = u.kind === 'late' ? late : Promise.resolve();
        const r = await s3.send(new PutObjectCommand({
          Bucket: BUCKET, Key: u.key, ContentLength: u.body.length, Body: trickle(u.body, start, holdAt, never),
        }));
        assert.equal(r.$metadata.httpStatusCode, 200);
        assert.equal(r.ETag, `"${u.md5}"`);
        u.acknowledged = true;
        if (u.kind === 'late' && ++lateAcks === 3) thirdLateAck();
      });
      const outcomes = Promise.allSettled(settled);

      // Every 'complete' upload is acknowledged while the others are still open.
      const completes = uploads.map((u, i) => (u.kind === 'complete' ? settled[i] : undefined)).filter((p) => p !== undefined);
      await Promise.all(completes);
      // Wait until the open uploads that will need a blob file have one (so the crash leaves real leftovers)…
      const needFile = (u: Upload): boolean => u.body.length > INLINE_MAX;
      const expectedFiles = uploads.filter((u) => u.kind !== 'late' && needFile(u)).length;
      await eventually(() => blobFiles(dataDir).size >= expectedFiles,
        () => `expected ${expectedFiles} blob files before the crash, found ${blobFiles(dataDir).size}`);
      // …then let the late ones go, and crash.
      releaseLate();
      await lateAck;
      await server.kill();
      const results = await outcomes;
      const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      // Failures are the cut connections, never a wrong answer before the crash.
      for (const err of rejected) assert.ok(!(err instanceof assert.AssertionError), err.message);
      const failed = rejected.length;
      const acked = uploads.filter((u) => u.acknowledged);
      assert.ok(failed > 0, 'some uploads were in flight at the crash');
      assert.equal(acked.length + failed, uploads.length);
      assert.ok(uploads.filter((u) => u.kind === 'held').every((u) => !u.acknowledged));
      s3.destroy();

      // Restart on the same folder; wait for the orphan sweep (the held uploads left files).
      server = await startServer({ dataDir, args: SWEEP_LOGGED });
      s3 = client(server);
      const swept = await sweepFinished(server);
      assert.ok(swept >= uploads.filter((u) => u.kind === 'held' && needFile(u)).length, `swept ${swept}`);
      const present = new Map<string, number>();
      for (const u of uploads) {
        const got = await fetchObject(s3, u.key);
        if (u.acknowledged) assert.ok(got, `acknowledged ${u.key} is gone after the crash`);
        if (got === undefined) continue;
        // Never partial: present means whole and identical.
        assert.equal(got.length, u.body.length, `${u.key}: ${got.length} bytes of ${u.body.length}`);
        assert.equal(md5(got), u.md5, `${u.key}: content differs`);
        present.set(u.key, u.body.length);
      }
      for (const u of uploads.filter((x) => x.kind === 'held')) assert.ok(!present.has(u.key), `${u.key} was never sent whole`);

      // The listing shows exactly the objects that are there, with their sizes and ETags.
      const listed: _Object[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 17, ContinuationToken: token }));
        listed.push(...(page.Contents ?? []));
        token = page.NextContinuationToken;
      } while (token);
      assert.deepEqual(listed.map((o) => [o.Key, o.Size]), sorted(present.keys()).map((k) => [k, present.get(k)]));
      for (const o of listed) assert.equal(o.ETag, `"${uploads.find((u) => u.key === o.Key)!.md5}"`);

      // Only referenced blob files remain: one per stored object over 32 KiB.
      const stored = [...present.values()].filter((size) => size > INLINE_MAX).length;
      assert.equal(blobFiles(dataDir).size, stored);
      s3.destroy();
      await server.stop();

      // Precisely: the files on disk are exactly the blobs the metadata references.
      const meta = metadataBlobs(dataDir);
      const files = blobFiles(dataDir);
      assert.deepEqual(sorted(files), sorted(meta.objects));
      assert.deepEqual(sorted(meta.live), sorted(meta.objects));
      assert.equal(meta.dead.size, 0);
    } finally {
      releaseLate();
      releaseHeld();
      s3.destroy();
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('parts acknowledged before a crash survive it and the upload completes afterwards', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cairn-crash-mpu-'));
    let server = await startOrClean(dataDir);
    let s3 = client(server);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      const parts = [randomBytes(5 * MiB), randomBytes(MiB + 7)];
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'big' }));
      const etags: string[] = [];
      for (const [i, body] of parts.entries()) {
        const r = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'big', UploadId, PartNumber: i + 1, Body: body }));
        etags.push(r.ETag!);
      }
      s3.destroy();
      await server.kill();
      const orphan = plantOrphan(dataDir);
      assert.equal(blobFiles(dataDir).size, 3);

      server = await startServer({ dataDir, args: SWEEP_LOGGED });
      s3 = client(server);
      // The sweep takes the planted orphan, not the part files.
      assert.equal(await sweepFinished(server), 1);
      assert.ok(!blobFiles(dataDir).has(orphan));
      assert.equal(blobFiles(dataDir).size, 2);
      const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'big', UploadId }));
      assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, 5 * MiB, etags[0]], [2, MiB + 7, etags[1]]]);
      await s3.send(new CompleteMultipartUploadCommand({
        Bucket: BUCKET, Key: 'big', UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }));
      const whole = Buffer.concat(parts);
      const got = await fetchObject(s3, 'big');
      assert.equal(got?.length, whole.length);
      assert.equal(md5(got!), md5(whole));
      // Completing copies nothing: the two part files are the object's files.
      assert.equal(blobFiles(dataDir).size, 2);
      s3.destroy();
      await server.stop();
      const meta = metadataBlobs(dataDir);
      assert.deepEqual(sorted(blobFiles(dataDir)), sorted(meta.objects));
      assert.equal(meta.objects.size, 2);
      assert.equal(meta.parts.size, 0);
    } finally {
      s3.destroy();
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  // Before the collector's pins and grace period, this failed: GET of a multipart object opened each part file
  // only when the stream reached it, and the file had been deleted by then (ENOENT, response cut off after part 1).
  test('a GET in progress keeps reading the whole old object while it is overwritten and its files collected', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cairn-gc-read-'));
    const server = await startOrClean(dataDir, NO_GC_GRACE);
    const s3 = client(server);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      // Two objects: one PUT (one blob file), one multipart upload of two parts (two blob files). The first
      // extent of each is far larger than what socket buffers hold, so a reader that pauses early leaves the
      // server in the middle of it.
      const single = randomBytes(32 * MiB);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'single', Body: single }));
      const parts = [randomBytes(32 * MiB), randomBytes(5 * MiB)];
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'multi' }));
      const etags: string[] = [];
      for (const [i, body] of parts.entries()) {
        etags.push((await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'multi', UploadId, PartNumber: i + 1, Body: body }))).ETag!);
      }
      await s3.send(new CompleteMultipartUploadCommand({
        Bucket: BUCKET, Key: 'multi', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }));
      const multi = Buffer.concat(parts);
      const oldFiles = blobFiles(dataDir);
      assert.equal(oldFiles.size, 3);

      // Start both GETs and take only their first chunk.
      const readers = await Promise.all(['single', 'multi'].map(async (key) => {
        const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        const it = (r.Body as Readable)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        const first = await it.next();
        assert.ok(!first.done);
        return { key, it, chunks: [first.value as Buffer] };
      }));

      // Overwrite both with small bodies, then put and delete a sentinel: once its file is gone, the collector
      // has been through every blob that died before it, the old objects' files included (removed, or kept
      // because readers hold them).
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'single', Body: 'new single' }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'multi', Body: 'new multi' }));
      const before = blobFiles(dataDir);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sentinel', Body: randomBytes(100 * KiB) }));
      const sentinel = [...blobFiles(dataDir)].filter((f) => !before.has(f));
      assert.equal(sentinel.length, 1);
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'sentinel' }));
      await eventually(() => !blobFiles(dataDir).has(sentinel[0]!), () => 'the sentinel blob file was never collected');

      // The GETs that started before the overwrite deliver the old objects whole.
      for (const r of readers) {
        const expected = r.key === 'single' ? single : multi;
        try {
          for (let next = await r.it.next(); !next.done; next = await r.it.next()) r.chunks.push(next.value as Buffer);
        } catch (err) {
          const log = server.logs().split('\n').filter((l) => /error|ENOENT/i.test(l)).join('\n');
          assert.fail(`GET ${r.key} broke off after ${Buffer.concat(r.chunks).length} of ${expected.length} bytes: ${String(err)}\n${log}`);
        }
        const got = Buffer.concat(r.chunks);
        assert.equal(got.length, expected.length, `GET ${r.key}: ${got.length} of ${expected.length} bytes`);
        assert.equal(md5(got), md5(expected), `GET ${r.key}: content differs`);
      }
      // New readers see the new bodies, and once the old readers are done the old files go.
      assert.equal((await fetchObject(s3, 'single'))?.toString(), 'new single');
      assert.equal((await fetchObject(s3, 'multi'))?.toString(), 'new multi');
      await eventually(() => [...oldFiles].every((f) => !blobFiles(dataDir).has(f)),
        () => `old blob files still present: ${[...oldFiles].filter((f) => blobFiles(dataDir).has(f)).join(' ')}`);
    } finally {
      s3.destroy();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("overwritten and deleted objects' blob files are collected; others stay", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cairn-gc-'));
    const server = await startOrClean(dataDir, NO_GC_GRACE);
    const s3 = client(server);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      const bodies = new Map<string, Buffer>();
      const fileOf = new Map<string, string>();
      /** PUTs one object and returns the blob file it created, if any. */
      const put = async (key: string, body: Buffer): Promise<string | undefined> => {
        const before = blobFiles(dataDir);
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
        bodies.set(key, body);
        const added = [...blobFiles(dataDir)].filter((f) => !before.has(f));
        assert.ok(added.length <= 1, `one PUT made ${added.length} files`);
        if (added[0]) fileOf.set(key, added[0]);
        return added[0];
      };
      for (const key of ['keep', 'overwrite', 'delete', 'delete-multi', 'to-inline', 'copy-src']) {
        assert.ok(await put(key, randomBytes(100 * KiB + key.length)), `${key} is stored in a file`);
      }
      assert.equal(await put('small', randomBytes(KiB)), undefined, 'a 1 KiB body is inline');
      const before = blobFiles(dataDir);
      await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy-dst', CopySource: `${BUCKET}/copy-src` }));
      const copyFile = [...blobFiles(dataDir)].filter((f) => !before.has(f));
      assert.equal(copyFile.length, 1);
      bodies.set('copy-dst', bodies.get('copy-src')!);
      const doomed = ['overwrite', 'delete', 'delete-multi', 'to-inline', 'copy-src'].map((k) => fileOf.get(k)!);

      const newOverwrite = await put('overwrite', randomBytes(200 * KiB));
      assert.ok(newOverwrite);
      await put('to-inline', randomBytes(2 * KiB));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'delete' }));
      await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'delete-multi' }, { Key: 'small' }] } }));
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'copy-src' }));
      for (const k of ['delete', 'delete-multi', 'small', 'copy-src']) bodies.delete(k);

      const expected = sorted([fileOf.get('keep')!, newOverwrite, copyFile[0]!]);
      await eventually(() => sorted(blobFiles(dataDir)).join() === expected.join(),
        () => `blob files ${sorted(blobFiles(dataDir)).join(' ')}; expected ${expected.join(' ')}`);
      for (const f of doomed) assert.ok(!blobFiles(dataDir).has(f));

      // What remains reads back whole.
      for (const [key, body] of bodies) {
        const got = await fetchObject(s3, key);
        assert.ok(got && got.equals(body), `${key} reads back`);
      }
      for (const key of ['delete', 'delete-multi', 'small', 'copy-src']) assert.equal(await fetchObject(s3, key), undefined);

      await server.stop();
      const meta = metadataBlobs(dataDir);
      assert.deepEqual(sorted(meta.objects), expected);
      assert.deepEqual(sorted(meta.live), expected);
      // Dead entries are forgotten once their file is gone; any still queued has no file.
      for (const id of meta.dead) assert.ok(!blobFiles(dataDir).has(id));
    } finally {
      s3.destroy();
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
