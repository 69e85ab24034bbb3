/**
 * `Upload` from @aws-sdk/lib-storage (the SDK's managed, parallel multipart
 * upload) round-trips a 1 GiB body generated on the fly, never held in memory:
 * MD5 computed while generating must match the MD5 of the object read back as a
 * stream. lib-storage asks for CRC32 on every part (the SDK's default), so the
 * object's COMPOSITE CRC32 is checked too, computed here from the same bytes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Client, startServer, type RunningServer } from './harness.js';

const MiB = 1024 * 1024;
const TOTAL = 1024 * MiB;
const PART_SIZE = 8 * MiB;
const CHUNK = MiB;

interface Generated {
  md5: string;
  /** CRC32 of each PART_SIZE slice, as lib-storage cuts the body into parts. */
  partCrcs: Buffer[];
  size: number;
}

/**
 * Deterministic pseudo-random bytes (AES-CTR keystream), one chunk at a time,
 * hashing as they go: MD5 of the whole and CRC32 of each part-sized slice.
 */
function* generate(total: number, out: Generated): Generator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', createHash('sha256').update('lib-storage').digest().subarray(0, 16), Buffer.alloc(16));
  const md5 = createHash('md5');
  const zeros = Buffer.alloc(CHUNK);
  let crc = 0;
  let inPart = 0;
  for (let sent = 0; sent < total; sent += CHUNK) {
    const chunk = cipher.update(zeros.subarray(0, Math.min(CHUNK, total - sent)));
    md5.update(chunk);
    crc = crc32(chunk, crc);
    inPart += chunk.length;
    out.size += chunk.length;
    if (inPart === PART_SIZE || out.size === total) {
      out.partCrcs.push(crcBytes(crc));
      crc = 0;
      inPart = 0;
    }
    yield chunk;
  }
  out.md5 = md5.digest('hex');
}

function crcBytes(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

let server: RunningServer;
let s3: S3Client;

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'lib-storage' }));
});
after(async () => {
  s3?.destroy();
  await server?.stop();
});

test('lib-storage Upload round-trips a 1 GiB streamed body (queueSize 4)', async (t) => {
  // What lib-storage sends, for the record: checksum and framing headers per operation.
  const seen = new Map<string, Set<string>>();
  s3.middlewareStack.add((next, context) => async (args) => {
    const request = args.request as { headers?: Record<string, string> };
    const names = Object.entries(request.headers ?? {})
      .filter(([name]) => /checksum|trailer|expect|content-encoding|x-amz-content-sha256/i.test(name))
      .map(([name, value]) => {
        const lower = name.toLowerCase();
        if (/checksum-(crc|sha)/.test(lower)) return lower;
        if (lower === 'x-amz-content-sha256') return `${lower}: ${/^[0-9a-f]{64}$/.test(value) ? '<SHA-256 of the payload>' : value}`;
        return `${lower}: ${value}`;
      });
    const set = seen.get(String(context.commandName)) ?? new Set<string>();
    for (const n of names) set.add(n);
    seen.set(String(context.commandName), set);
    return next(args);
  }, { step: 'finalizeRequest', priority: 'low', name: 'recordChecksumHeaders' });

  const generated: Generated = { md5: '', partCrcs: [], size: 0 };
  const upload = new Upload({
    client: s3,
    params: { Bucket: 'lib-storage', Key: 'one-gib', Body: Readable.from(generate(TOTAL, generated)) },
    queueSize: 4,
    partSize: PART_SIZE,
  });
  const result = await upload.done();
  assert.equal(generated.size, TOTAL);
  const parts = TOTAL / PART_SIZE;
  assert.equal(generated.partCrcs.length, parts);
  assert.match(String(result.ETag), new RegExp(`^"[0-9a-f]{32}-${parts}"$`));
  for (const [command, headers] of seen) t.diagnostic(`${command}: ${[...headers].sort().join(', ') || '(none)'}`);

  const composite = `${crcBytes(crc32(Buffer.concat(generated.partCrcs))).toString('base64')}-${parts}`;
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'lib-storage', Key: 'one-gib', ChecksumMode: 'ENABLED' }));
  assert.equal(head.ContentLength, TOTAL);
  assert.equal(head.ETag, result.ETag);
  assert.equal(head.ChecksumCRC32, composite);
  assert.equal(head.ChecksumType, 'COMPOSITE');

  const got = await s3.send(new GetObjectCommand({ Bucket: 'lib-storage', Key: 'one-gib' }));
  const md5 = createHash('md5');
  let size = 0;
  for await (const chunk of got.Body as Readable) {
    md5.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  assert.equal(size, TOTAL);
  assert.equal(md5.digest('hex'), generated.md5);
});
