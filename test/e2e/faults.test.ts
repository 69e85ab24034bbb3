/**
 * Faults and races: clients that vanish mid-upload or mid-download (no partial
 * object, no leaked file descriptor, no file left behind), a full disk (507
 * InsufficientStorage, nothing corrupt, writes work again once space is freed;
 * also when SQLite itself hits ENOSPC), concurrent overwrites of one key,
 * deletes racing reads, and listings during heavy writes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { head, rawSigned } from './raw-http.js';
import { bodyBytes, md5Hex, patternBytes, rejectsWith, signRequest, uniqueBucket, walk } from './s3-helpers.js';

const MiB = 1024 * 1024;

/** Polls `check` until it holds; returns its last value (a bound, not a timing assertion). */
async function eventually<T>(probe: () => T | Promise<T>, holds: (v: T) => boolean, attempts = 100): Promise<T> {
  let value = await probe();
  for (let i = 0; i < attempts && !holds(value); i++) {
    await new Promise((r) => setTimeout(r, 100));
    value = await probe();
  }
  return value;
}

function fdCount(server: RunningServer): number {
  return readdirSync(`/proc/${server.child.pid}/fd`).length;
}

/** Blob files on disk (not the fan-out folders). */
function blobFiles(server: RunningServer): string[] {
  return walk(join(server.dataDir, 'blobs')).filter((p) => p.includes('/'));
}

async function absent(s3: S3Client, bucket: string, key: string): Promise<void> {
  await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), 'NotFound', 404);
}

describe('clients that disconnect', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = uniqueBucket('disconnect');

  before(async () => {
    server = await startServer({ args: ['--gc-grace', '0'] });
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  test('uploads cut off mid-body leave no object, no file and no open descriptor', async () => {
    // Warm up, then measure with the SDK's connections closed.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'warm', Body: patternBytes(MiB, 1) }));
    s3.destroy();
    s3 = s3Client(server);
    const files = new Set(blobFiles(server));
    const fds = await eventually(() => fdCount(server), () => true);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-cut' }));
    s3.destroy();
    s3 = s3Client(server);
    for (let i = 0; i < 8; i++) {
      await rawSigned(server, 'PUT', `/${bucket}/cut-${i}`, { 'Content-Length': 8 * MiB }, patternBytes((i + 1) * 256 * 1024, i), { abort: true });
      await rawSigned(server, 'PUT', `/${bucket}/mp-cut`, { 'Content-Length': 6 * MiB }, patternBytes(MiB, i), { abort: true, query: { partNumber: String(i + 1), uploadId: UploadId! } });
    }
    const after = await eventually(() => fdCount(server), (n) => n <= fds);
    assert.ok(after <= fds, `open descriptors: ${fds} before, ${after} after`);
    const extra = await eventually(() => blobFiles(server).filter((f) => !files.has(f)), (e) => e.length === 0);
    assert.deepEqual(extra, []);
    for (let i = 0; i < 8; i++) await absent(s3, bucket, `cut-${i}`);
    const parts = await signRequest(server, { method: 'GET', path: `/${bucket}/mp-cut`, query: { uploadId: UploadId! } });
    const listed = await fetch(`${server.endpoint}/${bucket}/mp-cut?uploadId=${encodeURIComponent(UploadId!)}`, { headers: { ...parts, host: `127.0.0.1:${server.port}` } });
    assert.doesNotMatch(await listed.text(), /<Part>/, 'no part of a cut-off upload is listed');
  });

  test('downloads abandoned mid-body release their descriptors and pins', async () => {
    const big = patternBytes(24 * MiB, 5);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: big }));
    s3.destroy();
    s3 = s3Client(server);
    const fds = await eventually(() => fdCount(server), () => true);
    for (let i = 0; i < 8; i++) {
      const signed = await signRequest(server, { method: 'GET', path: `/${bucket}/big` });
      await new Promise<void>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1');
        let got = 0;
        socket.on('connect', () => socket.write(`${head('GET', `/${bucket}/big`, signed)}\r\n\r\n`));
        socket.on('data', (d: Buffer) => {
          got += d.length;
          // Stop reading part-way through, as a client that crashed would.
          if (got > (i + 1) * MiB) {
            socket.resetAndDestroy();
            resolve();
          }
        });
        socket.on('error', reject);
      });
    }
    const after = await eventually(() => fdCount(server), (n) => n <= fds);
    assert.ok(after <= fds, `open descriptors: ${fds} before, ${after} after`);
    // Pins were released: an overwrite's old file is collected.
    const before = new Set(blobFiles(server));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: patternBytes(2 * MiB, 6) }));
    const left = await eventually(() => blobFiles(server).filter((f) => before.has(f)), (l) => l.length === before.size - 1);
    assert.equal(left.length, before.size - 1, 'the overwritten blob file was collected');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' }));
    assert.ok((await bodyBytes(got.Body)).equals(patternBytes(2 * MiB, 6)));
  });
});

describe('a full disk', { skip: process.getuid?.() === 0 ? false : 'mounting a small tmpfs needs root' }, () => {
  let mountPoint: string;
  let server: RunningServer;
  let s3: S3Client;
  const bucket = uniqueBucket('full');
  const acknowledged = new Map<string, Buffer>();

  before(async () => {
    mountPoint = mkdtempSync(join(tmpdir(), 'cairn-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountPoint]);
    mkdirSync(join(mountPoint, 'data'));
    server = await startServer({ dataDir: join(mountPoint, 'data'), args: ['--gc-grace', '0'] });
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
    try {
      execFileSync('umount', [mountPoint]);
    } finally {
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  async function verifyAcknowledged(client: S3Client): Promise<void> {
    for (const [key, bytes] of acknowledged) {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(got.ETag, `"${md5Hex(bytes)}"`, key);
      assert.ok((await bodyBytes(got.Body)).equals(bytes), `bytes of ${key}`);
    }
  }

  function integrityCheck(): string {
    const db = new Database(join(server.dataDir, 'metadata.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return db.pragma('integrity_check', { simple: true }) as string;
    } finally {
      db.close();
    }
  }

  test('blob writes that do not fit answer 507 InsufficientStorage; freeing space makes writes work again', async () => {
    let refused: { status: number; code: string } | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const key = `blob-${i}`;
      const body = patternBytes(3 * MiB, 100 + i);
      const res = await rawSigned(server, 'PUT', `/${bucket}/${key}`, { 'Content-Length': body.length }, body);
      if (res?.status === 200) acknowledged.set(key, body);
      else refused = { status: res?.status ?? 0, code: /<Code>([^<]*)</.exec(res?.body ?? '')?.[1] ?? '' };
    }
    assert.deepEqual(refused, { status: 507, code: 'InsufficientStorage' });
    assert.ok(acknowledged.size >= 3, `${acknowledged.size} objects fitted`);
    await verifyAcknowledged(s3);
    assert.equal(integrityCheck(), 'ok');
    // The refused object is absent, and its partial file is gone.
    await absent(s3, bucket, `blob-${acknowledged.size}`);
    // Free space by deleting, and write again.
    for (const key of [...acknowledged.keys()].slice(0, 3)) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      acknowledged.delete(key);
    }
    const again = patternBytes(3 * MiB, 999);
    const ok = await eventually(
      async () => (await rawSigned(server, 'PUT', `/${bucket}/after-free`, { 'Content-Length': again.length }, again))?.status,
      (s) => s === 200, 50);
    assert.equal(ok, 200);
    acknowledged.set('after-free', again);
    await verifyAcknowledged(s3);
  });

  test('SQLite hitting ENOSPC refuses the write with 507 and corrupts nothing, across a restart', async () => {
    // Fill the file system up to the last bytes, outside the data folder.
    const filler = join(mountPoint, 'filler');
    for (let size = 16 * MiB; size >= 4096; size = Math.floor(size / 2)) {
      try {
        writeFileSync(filler, Buffer.alloc(size), { flag: 'a' });
        size *= 2;
      } catch { /* ENOSPC: try a smaller piece */ }
    }
    const logStart = server.logs().length;
    let refused: { status: number; code: string } | undefined;
    // Small objects live in the metadata row: only SQLite writes.
    for (let i = 0; i < 3000 && !refused; i++) {
      const key = `inline-${i}`;
      const body = patternBytes(30_000, 5000 + i);
      const res = await rawSigned(server, 'PUT', `/${bucket}/${key}`, { 'Content-Length': body.length }, body);
      if (res?.status === 200) acknowledged.set(key, body);
      else refused = { status: res?.status ?? 0, code: /<Code>([^<]*)</.exec(res?.body ?? '')?.[1] ?? '' };
    }
    assert.deepEqual(refused, { status: 507, code: 'InsufficientStorage' });
    // What the server logged for this test's refusals: SQLite's own SQLITE_FULL (or the errno under it).
    // The log reaches us through a pipe, possibly after the response did.
    const causes = await eventually(
      () => [...server.logs().slice(logStart).matchAll(/"code":"(SQLITE_\w+|E[A-Z]+)"/g)].map((m) => m[1]),
      (found) => found.length > 0);
    assert.ok(causes.length > 0 && causes.every((c) => c === 'SQLITE_FULL' || c === 'ENOSPC'), `causes logged: ${causes.join(', ')}`);
    await verifyAcknowledged(s3);
    rmSync(filler);
    const body = patternBytes(30_000, 4242);
    const ok = await eventually(
      async () => (await rawSigned(server, 'PUT', `/${bucket}/after-sqlite-full`, { 'Content-Length': body.length }, body))?.status,
      (s) => s === 200, 50);
    assert.equal(ok, 200);
    acknowledged.set('after-sqlite-full', body);
    assert.equal(integrityCheck(), 'ok');
    // Everything acknowledged survives a crash and restart.
    await server.kill();
    s3.destroy();
    server = await startServer({ dataDir: server.dataDir, args: ['--gc-grace', '0'] });
    s3 = s3Client(server);
    await verifyAcknowledged(s3);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
    assert.deepEqual((listed.Contents ?? []).map((o) => o.Key).sort(), [...acknowledged.keys()].sort());
  });
});

describe('concurrency', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = uniqueBucket('races');

  before(async () => {
    server = await startServer({ args: ['--gc-grace', '0'] });
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  test('concurrent overwrites of one key: every GET is one whole body, the survivor is an acknowledged one', async () => {
    const bodies = Array.from({ length: 8 }, (_, w) => patternBytes(w % 2 === 0 ? 200_000 + w : 20_000 + w, 70 + w));
    const byMd5 = new Map(bodies.map((b) => [md5Hex(b), b]));
    const acknowledged = new Set<string>();
    let writing = true;
    const seen: string[] = [];
    const writers = bodies.map(async (body) => {
      for (let round = 0; round < 6; round++) {
        const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'contested', Body: body }));
        assert.equal(out.ETag, `"${md5Hex(body)}"`);
        acknowledged.add(md5Hex(body));
      }
    });
    const readers = Array.from({ length: 4 }, async () => {
      while (writing) {
        try {
          const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'contested' }));
          const bytes = await bodyBytes(got.Body);
          const md5 = md5Hex(bytes);
          assert.ok(byMd5.has(md5), `a GET returned ${bytes.length} bytes that are no body written (a mix?)`);
          assert.equal(got.ETag, `"${md5}"`, 'ETag and bytes agree');
          seen.push(md5);
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchKey') throw err;
        }
      }
    });
    await Promise.all(writers);
    writing = false;
    await Promise.all(readers);
    assert.ok(seen.length > 0);
    const final = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'contested' }));
    assert.ok(acknowledged.has(md5Hex(await bodyBytes(final.Body))));
    // And once the writers are done, the last acknowledged write is what reads see.
    const last = patternBytes(12_345, 7);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'contested', Body: last }));
    assert.ok((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'contested' }))).Body)).equals(last));
  });

  test('a DELETE racing GETs: each GET answers the whole old bytes or 404, never part', async () => {
    for (let round = 0; round < 15; round++) {
      const body = patternBytes(round % 3 === 0 ? 10_000 : 2 * MiB, 300 + round);
      const key = `doomed-${round}`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      const gets = Array.from({ length: 4 }, async () => {
        try {
          const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          const bytes = await bodyBytes(got.Body);
          assert.ok(bytes.equals(body), `GET during delete returned ${bytes.length} of ${body.length} bytes`);
          return 'whole';
        } catch (err) {
          assert.equal((err as { name?: string }).name, 'NoSuchKey', String(err));
          return '404';
        }
      });
      await Promise.all([...gets, s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))]);
      await absent(s3, bucket, key);
    }
  });

  test('listings during heavy writes: well-formed, sorted, no duplicates; the final listing is exact', async () => {
    const prefix = 'heavy/';
    const live = new Set<string>();
    let writing = true;
    const writers = Array.from({ length: 6 }, async (_, w) => {
      for (let i = 0; i < 60; i++) {
        const key = `${prefix}${String(w)}/${String(i).padStart(3, '0')}`;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `w${w}-${i}` }));
        live.add(key);
        if (i % 4 === 3) {
          const victim = `${prefix}${String(w)}/${String(i - 2).padStart(3, '0')}`;
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: victim }));
          live.delete(victim);
        }
      }
    });
    let listings = 0;
    const lister = (async () => {
      while (writing) {
        const keys: string[] = [];
        let token: string | undefined;
        do {
          const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 37, ...(token ? { ContinuationToken: token } : {}) }));
          for (const o of page.Contents ?? []) {
            assert.match(o.Key!, /^heavy\/\d\/\d{3}$/);
            assert.equal(o.Size, Buffer.byteLength(`w${o.Key!.split('/')[1]}-${Number(o.Key!.split('/')[2])}`));
            keys.push(o.Key!);
          }
          token = page.NextContinuationToken;
        } while (token);
        for (let i = 1; i < keys.length; i++) assert.ok(Buffer.compare(Buffer.from(keys[i - 1]!), Buffer.from(keys[i]!)) < 0, `order at ${keys[i]}`);
        listings++;
      }
    })();
    await Promise.all(writers);
    writing = false;
    await lister;
    assert.ok(listings > 0);
    const final: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      final.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(final, [...live].sort());
  });
});
