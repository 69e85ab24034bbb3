/**
 * Silent corruption is detected, not served: a byte flipped in a stored blob
 * file of any size or in an inline object's row is caught by GET (checked
 * against the CRC32C recorded at write time: a small object answers 500 before
 * its status line, a larger one's response is cut before its last bytes, never
 * completing with wrong bytes) and by `cairn admin scrub` (run while the server
 * is up), which reports and quarantines it; afterwards GET answers 500
 * InternalError, other objects are untouched, and a new PUT heals the key.
 * Data written before the CRC32C was kept falls back to its MD5.
 */
import assert from 'node:assert/strict';
import { existsSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand,
  S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ROOT_KEY, runCairn, s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, patternBytes, rejectsWith, signRequest, uniqueBucket } from './s3-helpers.js';

const MiB = 1024 * 1024;
let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('scrub');
const bodies = new Map<string, Buffer>([
  ['inline-ok', patternBytes(1000, 1)],
  ['inline-bad-get', patternBytes(2000, 2)],
  ['inline-bad-scrub', patternBytes(3000, 3)],
  ['blob-ok', patternBytes(600_000, 4)],
  // Up to 256 KiB: GET reads it whole and verifies it before the status line.
  ['blob-bad-get', patternBytes(200_000, 5)],
  ['blob-bad-scrub', patternBytes(800_000, 6)],
]);
const multipart = Buffer.concat([patternBytes(5 * MiB, 7), patternBytes(100_000, 8)]);

before(async () => {
  server = await startServer({ args: ['--gc-grace', '0'] });
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const [key, body] of bodies) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  await uploadMultipart('multipart-ok');
});

/** `multipart` as two parts: 5 MiB, then 100 000 bytes (small enough for GET to verify as it streams). */
async function uploadMultipart(key: string): Promise<void> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const e1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: multipart.subarray(0, 5 * MiB) }));
  const e2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: multipart.subarray(5 * MiB) }));
  await s3.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag! }, { PartNumber: 2, ETag: e2.ETag! }] },
  }));
}

after(async () => {
  s3?.destroy();
  await server?.stop();
});

function metadataDb(readonly: boolean): Database.Database {
  return new Database(join(server.dataDir, 'metadata.sqlite'), { readonly, fileMustExist: true });
}

/** The blob file of an object's `extent`-th extent (its part, for a multipart object). */
function blobOf(key: string, extent = 0): string {
  const db = metadataDb(true);
  try {
    const row = db.prepare<[string, string], { extents: string }>('SELECT extents FROM objects WHERE bucket = ? AND key = ?').get(bucket, key)!;
    return (JSON.parse(row.extents) as { blob: string }[])[extent]!.blob;
  } finally {
    db.close();
  }
}

/** Flips one byte of a blob file in place, as bit rot would. */
function flipBlobByte(key: string, offset: number, extent = 0): string {
  const blob = blobOf(key, extent);
  const path = join(server.dataDir, 'blobs', blob.slice(0, 2), blob);
  const fd = openSync(path, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, offset);
  byte[0] = byte[0]! ^ 0x01;
  writeSync(fd, byte, 0, 1, offset);
  closeSync(fd);
  return blob;
}

/** Flips one byte of an inline object's body where the metadata database keeps it. */
function flipInlineByte(key: string, offset: number): void {
  const db = metadataDb(false);
  try {
    const row = db.prepare<[string, string], { id: number; bytes: Buffer }>(
      'SELECT b.id, b.bytes FROM objects o JOIN object_bodies b ON b.id = o.id WHERE o.bucket = ? AND o.key = ?').get(bucket, key)!;
    const bytes = Buffer.from(row.bytes);
    bytes[offset] = bytes[offset]! ^ 0x01;
    db.prepare('UPDATE object_bodies SET bytes = ? WHERE id = ?').run(bytes, row.id);
  } finally {
    db.close();
  }
}

/** The CRC32C integrity hash forgotten, as an object written before it was kept has none. */
function forgetCrc32c(key: string): void {
  const db = metadataDb(false);
  try {
    const row = db.prepare<[string, string], { id: number; extents: string | null }>('SELECT id, extents FROM objects WHERE bucket = ? AND key = ?').get(bucket, key)!;
    if (row.extents !== null) {
      const extents = (JSON.parse(row.extents) as Record<string, unknown>[]).map(({ crc32c: _, ...rest }) => rest);
      db.prepare('UPDATE objects SET extents = ? WHERE id = ?').run(JSON.stringify(extents), row.id);
    }
    db.prepare('UPDATE object_bodies SET crc32c = NULL WHERE id = ?').run(row.id);
  } finally {
    db.close();
  }
}

/**
 * A client that neither sends nor checks checksums of its own: by default SDK v3
 * stores a CRC32 with each PUT and validates it once a GET's body has ended, which
 * would catch the damage after the last byte whatever the server did.
 */
function plainClient(): S3Client {
  return new S3Client({
    endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ROOT_KEY, maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A GET through the SDK: the bytes its body delivered before it ended or broke, and the length it announced. */
async function sdkGet(client: S3Client, key: string): Promise<{ received: Buffer; complete: boolean; contentLength: number | undefined }> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const chunks: Buffer[] = [];
  let complete = true;
  try {
    for await (const chunk of got.Body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  } catch {
    complete = false;
  }
  return { received: Buffer.concat(chunks), complete, contentLength: got.ContentLength };
}

/** A raw GET: its status, and the bytes received before the body ended or broke. */
async function rawGet(key: string): Promise<{ status: number; received: Buffer; complete: boolean }> {
  const headers = await signRequest(server, { method: 'GET', path: `/${bucket}/${key}` });
  delete headers.host;
  const res = await fetch(`${server.endpoint}/${bucket}/${key}`, { headers });
  const chunks: Buffer[] = [];
  let complete = true;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  } catch {
    complete = false;
  }
  return { status: res.status, received: Buffer.concat(chunks), complete };
}

async function assertIntact(key: string, expected: Buffer): Promise<void> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  assert.ok((await bodyBytes(got.Body)).equals(expected), `${key} reads back whole and right`);
}

test('a flipped byte is detected on GET, by scrub, and never served; other objects are untouched', async () => {
  // Intact objects pass verification, whole, by range and by part.
  for (const [key, body] of bodies) await assertIntact(key, body);
  await assertIntact('multipart-ok', multipart);
  const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'blob-ok', Range: 'bytes=100-199' }));
  assert.ok((await bodyBytes(ranged.Body)).equals(bodies.get('blob-ok')!.subarray(100, 200)));

  const getBlob = flipBlobByte('blob-bad-get', 12_345);
  const scrubBlob = flipBlobByte('blob-bad-scrub', 799_999);
  flipInlineByte('inline-bad-get', 10);
  flipInlineByte('inline-bad-scrub', 2999);

  // GET of a damaged blob: it is verified before the status line, so the client gets S3's error, not wrong bytes.
  const blobRead = await rawGet('blob-bad-get');
  assert.equal(blobRead.status, 500);
  assert.equal(blobRead.received.includes(bodies.get('blob-bad-get')!.subarray(0, 64)), false, 'no byte of the body was sent');
  await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'blob-bad-get' })), 'InternalError', 500);
  // An inline body is checked before anything is sent.
  const inlineErr = await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'inline-bad-get' })), 'InternalError', 500);
  assert.match(inlineErr.message, /integrity/);

  // Scrub, while the server runs, finds the two damaged objects GET has not read.
  const run = await runCairn(['admin', 'scrub', '--data', server.dataDir]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stdout, /scrubbed 7 objects/);
  assert.match(run.stdout, new RegExp(`damaged\\t${bucket}\\tblob-bad-scrub\\tblob ${scrubBlob} has CRC32C`));
  assert.match(run.stdout, new RegExp(`damaged\\t${bucket}\\tinline-bad-scrub\\tinline body`));
  assert.match(run.stdout, new RegExp(`quarantined\\t${bucket}\\tblob-bad-get\\t`));
  assert.match(run.stdout, new RegExp(`quarantined\\t${bucket}\\tinline-bad-get\\t`));
  assert.match(run.stdout, /3 verified/);
  for (const blob of [getBlob, scrubBlob]) {
    assert.ok(existsSync(join(server.dataDir, 'quarantine', blob)), `blob ${blob} is in quarantine`);
    assert.ok(!existsSync(join(server.dataDir, 'blobs', blob.slice(0, 2), blob)), `blob ${blob} left service`);
  }

  // Every damaged object now answers the error; the others are as they were.
  for (const key of ['blob-bad-get', 'blob-bad-scrub', 'inline-bad-get', 'inline-bad-scrub']) {
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })), 'InternalError', 500);
  }
  for (const key of ['inline-ok', 'blob-ok']) await assertIntact(key, bodies.get(key)!);
  await assertIntact('multipart-ok', multipart);

  // Writing the key again replaces the damaged object.
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'blob-bad-scrub', Body: bodies.get('blob-bad-scrub')! }));
  await assertIntact('blob-bad-scrub', bodies.get('blob-bad-scrub')!);

  // A clean store scrubs clean (exit 0) once the damaged keys are rewritten.
  for (const key of ['blob-bad-get', 'inline-bad-get', 'inline-bad-scrub']) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies.get(key)! }));
  }
  const clean = await runCairn(['admin', 'scrub', '--data', server.dataDir]);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /7 verified, 0 without a recorded checksum, 0 changed while checked, 0 damaged/);
});

test('scrub while writes replace the objects it checks reports no false damage and disturbs nothing', async () => {
  let writing = true;
  let writes = 0;
  const writers = Array.from({ length: 3 }, async (_, w) => {
    while (writing) {
      const key = w === 0 ? 'blob-ok' : `churn-${w}-${writes % 20}`;
      const body = key === 'blob-ok' ? bodies.get('blob-ok')! : patternBytes(w === 1 ? 5000 : 300_000, writes + 10);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      writes++;
    }
  });
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await runCairn(['admin', 'scrub', '--data', server.dataDir]));
  writing = false;
  await Promise.all(writers);
  for (const run of runs) {
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /, 0 damaged and quarantined, 0 quarantined earlier/);
  }
  assert.ok(writes > 0);
  await assertIntact('blob-ok', bodies.get('blob-ok')!);
  await assertIntact('multipart-ok', multipart);
});

test('a damaged small part of a multipart object cuts the GET short before its last bytes, then the object is quarantined', async () => {
  await uploadMultipart('multipart-bad');
  const blob = flipBlobByte('multipart-bad', 50_000, 1);
  // The status line and the first part are gone by the time the last part is checked: the body ends early instead.
  const read = await rawGet('multipart-bad');
  assert.equal(read.status, 200);
  assert.equal(read.complete, false, 'the body was cut off');
  assert.ok(read.received.length < multipart.length, `${read.received.length} of ${multipart.length} bytes received`);
  assert.ok(read.received.equals(multipart.subarray(0, read.received.length)), 'every byte received was right');
  await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'multipart-bad' })), 'InternalError', 500);
  assert.ok(existsSync(join(server.dataDir, 'quarantine', blob)), 'the damaged part is in quarantine');
  await assertIntact('multipart-ok', multipart);
});

/** Parts of 5 MiB and 3 MiB: both far past what fits in memory before the status line. */
const largeMultipart = Buffer.concat([patternBytes(5 * MiB, 21), patternBytes(3 * MiB, 22)]);

async function uploadLargeMultipart(client: S3Client, key: string): Promise<void> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const e1 = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: largeMultipart.subarray(0, 5 * MiB) }));
  const e2 = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: largeMultipart.subarray(5 * MiB) }));
  await client.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag! }, { PartNumber: 2, ETag: e2.ETag! }] },
  }));
}

test('a flipped byte in a large blob (an 8 MiB PUT, a 5 MiB part) cuts the GET short before the blob\'s last bytes; then the object is quarantined', async () => {
  const plain = plainClient();
  const single = patternBytes(8 * MiB, 20);
  for (const key of ['large-ok', 'large-bad']) await plain.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: single }));
  for (const key of ['large-multipart-ok', 'large-multipart-bad']) await uploadLargeMultipart(plain, key);
  // Intact large objects stream whole through the verification, and ranges of them still read.
  await assertIntact('large-ok', single);
  await assertIntact('large-multipart-ok', largeMultipart);
  const ranged = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large-multipart-ok', Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
  assert.ok((await bodyBytes(ranged.Body)).equals(largeMultipart.subarray(5 * MiB - 10, 5 * MiB + 10)));

  const singleBlob = flipBlobByte('large-bad', 1234);
  const read = await sdkGet(plain, 'large-bad');
  assert.equal(read.contentLength, single.length, 'the status line announced the whole object');
  assert.equal(read.complete, false, 'the SDK saw the body break off');
  assert.ok(read.received.length < single.length, `${read.received.length} of ${single.length} bytes received`);
  await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large-bad' })), 'InternalError', 500);
  assert.ok(existsSync(join(server.dataDir, 'quarantine', singleBlob)), 'the damaged blob is in quarantine');

  // Damage in the first part: the cut comes before that part's last bytes, the second part is never sent.
  const partBlob = flipBlobByte('large-multipart-bad', 3 * MiB, 0);
  const partRead = await sdkGet(plain, 'large-multipart-bad');
  assert.equal(partRead.complete, false);
  assert.ok(partRead.received.length < 5 * MiB, `${partRead.received.length} bytes received, the damaged part holds ${5 * MiB}`);
  assert.ok(partRead.received.subarray(0, 3 * MiB).equals(largeMultipart.subarray(0, 3 * MiB)), 'the bytes before the damage were the object\'s');
  await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large-multipart-bad' })), 'InternalError', 500);
  assert.ok(existsSync(join(server.dataDir, 'quarantine', partBlob)), 'the damaged part is in quarantine');

  await assertIntact('large-ok', single);
  await assertIntact('large-multipart-ok', largeMultipart);
  plain.destroy();
});

test('data written before the CRC32C was kept is checked against its MD5: by GET up to 256 KiB, by scrub at any size', async () => {
  const legacy = new Map<string, Buffer>([
    ['legacy-inline', patternBytes(1500, 30)],
    ['legacy-small', patternBytes(150_000, 31)],
    ['legacy-large', patternBytes(2 * MiB, 32)],
    ['legacy-large-ok', patternBytes(2 * MiB, 33)],
  ]);
  for (const [key, body] of legacy) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    forgetCrc32c(key);
  }
  for (const [key, body] of legacy) await assertIntact(key, body);
  flipInlineByte('legacy-inline', 100);
  flipBlobByte('legacy-small', 100);
  const largeBlob = flipBlobByte('legacy-large', 100);

  await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'legacy-inline' })), 'InternalError', 500);
  const small = await rawGet('legacy-small');
  assert.equal(small.status, 500, 'checked against its MD5 before the status line');

  const run = await runCairn(['admin', 'scrub', '--data', server.dataDir]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stdout, new RegExp(`damaged\\t${bucket}\\tlegacy-large\\tblob ${largeBlob} has MD5`));
  assert.match(run.stdout, new RegExp(`quarantined\\t${bucket}\\tlegacy-inline\\tinline body does not match its ETag`));
  assert.match(run.stdout, new RegExp(`quarantined\\t${bucket}\\tlegacy-small\\tblob \\w+ has MD5`));
  assert.doesNotMatch(run.stdout, /\tlegacy-large-ok\t/);
  await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'legacy-large' })), 'InternalError', 500);
  await assertIntact('legacy-large-ok', legacy.get('legacy-large-ok')!);
});
