import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digester } from '../../src/store/digest.js';
import { ExtentVerifier, extentHash, inlineProblem, IntegrityError, VerifyingStream } from '../../src/store/integrity.js';
import type { ObjectRecord } from '../../src/store/types.js';

/** The CRC-32C check value (RFC 3720, B.4): the CRC of the ASCII digits "123456789". */
const CHECK_VALUE = 0xe3069283;

async function crc32cOf(data: Buffer): Promise<number> {
  const d = new Digester();
  d.update(data);
  return (await d.finish()).crc32c;
}

/** `data` cut into chunks of the given sizes, the rest as the last chunk. */
function chunked(data: Buffer, ...sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(data.subarray(at, at + size));
    at += size;
  }
  out.push(data.subarray(at));
  return out;
}

function flipped(data: Buffer, offset: number): Buffer {
  const copy = Buffer.from(data);
  copy[offset] = copy[offset]! ^ 0x01;
  return copy;
}

test('the digester records the CRC32C in the same pass, and a requested CRC32C is that same value', async () => {
  assert.equal(await crc32cOf(Buffer.from('123456789')), CHECK_VALUE);
  const d = new Digester('CRC32C');
  for (const chunk of chunked(Buffer.from('123456789'), 2, 5)) d.update(chunk);
  const digest = await d.finish();
  assert.equal(digest.crc32c, CHECK_VALUE);
  assert.equal(digest.checksum, Buffer.from('e3069283', 'hex').toString('base64'));
  assert.equal(digest.md5Hex, createHash('md5').update('123456789').digest('hex'));
  assert.equal((await new Digester().finish()).crc32c, 0, 'the CRC32C of no bytes');
});

test('an intact extent passes chunk by chunk, with CRC32C or MD5', async () => {
  const data = randomBytes(300_000);
  for (const expected of [{ crc32c: await crc32cOf(data) }, { md5: createHash('md5').update(data).digest('hex') }]) {
    const v = new ExtentVerifier('b', data.length, expected);
    for (const chunk of chunked(data, 1, 65_536, 100_000)) v.update(chunk);
    v.end();
  }
});

test('a flipped byte anywhere fails on the chunk that completes the extent, never before', async () => {
  const data = randomBytes(200_000);
  const crc32c = await crc32cOf(data);
  for (const offset of [0, 99_999, 199_999]) {
    const v = new ExtentVerifier('blob1', data.length, { crc32c });
    const chunks = chunked(flipped(data, offset), 50_000, 50_000, 50_000);
    for (const chunk of chunks.slice(0, -1)) v.update(chunk);
    assert.throws(() => v.update(chunks.at(-1)!), (err: unknown) =>
      err instanceof IntegrityError && err.blob === 'blob1' && /blob blob1 has CRC32C [0-9a-f]{8}, recorded [0-9a-f]{8}/.test(err.message));
  }
  const md5 = new ExtentVerifier('blob2', data.length, { md5: createHash('md5').update(data).digest('hex') });
  assert.throws(() => md5.update(flipped(data, 7)), /blob blob2 has MD5/);
});

test('bytes past the recorded size, or fewer than it, are damage', async () => {
  const data = randomBytes(1000);
  const crc32c = await crc32cOf(data);
  const longer = new ExtentVerifier('b', data.length, { crc32c });
  longer.update(data.subarray(0, 600));
  assert.throws(() => longer.update(Buffer.alloc(401)), (err: unknown) => err instanceof IntegrityError && /holds more than the 1000 bytes/.test(err.message));
  const shorter = new ExtentVerifier('b', data.length, { crc32c });
  shorter.update(data.subarray(0, 999));
  assert.throws(() => shorter.end(), /holds 999 bytes, recorded 1000/);
});

/** Pipes chunks through a VerifyingStream; what came out, and the error if it failed. */
async function throughStream(chunks: Buffer[], verifier: ExtentVerifier): Promise<{ out: Buffer; error: unknown }> {
  const out: Buffer[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, done) { out.push(chunk); done(); } });
  let error: unknown;
  await pipeline(Readable.from(chunks), new VerifyingStream(verifier), sink).catch((err: unknown) => { error = err; });
  return { out: Buffer.concat(out), error };
}

test('a verifying stream delivers an intact extent whole, and stops before the last chunk of a damaged one', async () => {
  const data = randomBytes(100_000);
  const crc32c = await crc32cOf(data);
  const intact = await throughStream(chunked(data, 30_000, 30_000), new ExtentVerifier('b', data.length, { crc32c }));
  assert.equal(intact.error, undefined);
  assert.ok(intact.out.equals(data));

  const damaged = await throughStream(chunked(flipped(data, 5), 30_000, 30_000), new ExtentVerifier('b', data.length, { crc32c }));
  assert.ok(damaged.error instanceof IntegrityError);
  assert.equal(damaged.out.length, 60_000, 'the chunk completing the extent was held back');

  const short = await throughStream(chunked(data.subarray(0, 99_000), 30_000), new ExtentVerifier('b', data.length, { crc32c }));
  assert.ok(short.error instanceof IntegrityError, 'a blob that ends early fails the stream');
});

function record(data: ObjectRecord['data'], etag: string): ObjectRecord {
  return {
    bucket: 'b', key: 'k', versionId: 'null', size: 0, etag, lastModified: new Date(0), owner: 'o', storageClass: 'STANDARD',
    headers: { contentType: 'application/octet-stream' }, userMetadata: {}, acl: { owner: 'o', grants: [] }, tags: [], data,
  };
}

test('which hash an extent is checked against: its CRC32C, else its MD5, else a one-blob object\'s ETag', () => {
  const md5 = 'ab'.repeat(16);
  const etag = 'cd'.repeat(16);
  const one = (extent: { blob: string; size: number; md5?: string; crc32c?: number }, tag = etag) =>
    extentHash(record({ kind: 'blobs', extents: [extent] }, tag), extent);
  assert.deepEqual(one({ blob: 'x', size: 1, md5, crc32c: 7 }), { crc32c: 7 });
  assert.deepEqual(one({ blob: 'x', size: 1, md5 }), { md5 });
  assert.deepEqual(one({ blob: 'x', size: 1 }), { md5: etag });
  assert.equal(one({ blob: 'x', size: 1 }, `${etag}-2`), undefined, 'a multipart ETag names no extent\'s MD5');
  const parts = [{ blob: 'x', size: 1 }, { blob: 'y', size: 1 }];
  assert.equal(extentHash(record({ kind: 'blobs', extents: parts }, etag), parts[0]!), undefined);
});

test('an inline body is checked against its CRC32C, or without one against its ETag\'s MD5', async () => {
  const bytes = Buffer.from('an inline body');
  const crc32c = await crc32cOf(bytes);
  const md5 = createHash('md5').update(bytes).digest('hex');
  assert.equal(inlineProblem(record({ kind: 'inline', bytes, crc32c }, 'ff'.repeat(16))), undefined, 'the CRC32C decides, not the ETag');
  assert.match(inlineProblem(record({ kind: 'inline', bytes: flipped(bytes, 3), crc32c }, md5)) ?? '', /inline body has CRC32C/);
  assert.equal(inlineProblem(record({ kind: 'inline', bytes }, md5)), undefined);
  assert.match(inlineProblem(record({ kind: 'inline', bytes: flipped(bytes, 0) }, md5)) ?? '', /does not match its ETag/);
});
