/**
 * Multipart uploads through the AWS SDK for JavaScript v3 with its default
 * settings, against a real Cairn process: create, upload part (and copy),
 * complete with its errors, composite and full-object checksums, abort, the
 * two listings, GET by part number and ranges across parts, and the races a
 * real client can produce. Every expected ETag and checksum is computed here,
 * independently of the server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import { crc32c } from '@node-rs/crc32';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand,
  PutObjectCommand, S3ServiceException, UploadPartCommand, UploadPartCopyCommand,
  type CompletedMultipartUpload, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';

const MiB = 1024 * 1024;
/** S3's minimum size of every part but the last. */
const PART = 5 * MiB;
const BUCKET = 'multipart-tests';

type Algorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
type ChecksumField = `Checksum${Algorithm}`;

/** Deterministic pseudo-random bytes (AES-CTR keystream), distinct for each seed. */
function bytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

function md5(data: Buffer): Buffer {
  return createHash('md5').update(data).digest();
}

/** S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, `-N`, quoted. */
function multipartEtag(parts: readonly Buffer[]): string {
  return `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}"`;
}

function quotedMd5(data: Buffer): string {
  return `"${md5(data).toString('hex')}"`;
}

function crcBytes(value: number, width = 4): Buffer {
  const out = Buffer.alloc(width);
  out.writeUInt32BE(value >>> 0);
  return out;
}

async function crc64nvme(pieces: readonly Buffer[]): Promise<Buffer> {
  const c = new Crc64Nvme();
  for (const p of pieces) c.update(p);
  return Buffer.from(await c.digest());
}

/** The checksum of a whole body, binary; CRC32 from node:zlib (not the server's library). */
async function checksum(algorithm: Algorithm, pieces: readonly Buffer[]): Promise<Buffer> {
  switch (algorithm) {
    case 'CRC32': return crcBytes(pieces.reduce((crc, p) => zlibCrc32(p, crc), 0));
    case 'CRC32C': return crcBytes(pieces.reduce((crc, p) => crc32c(p, crc), 0));
    case 'CRC64NVME': return crc64nvme(pieces);
    case 'SHA1':
    case 'SHA256': {
      const h = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      for (const p of pieces) h.update(p);
      return h.digest();
    }
  }
}

/** COMPOSITE: base64 of the checksum of the concatenated binary part checksums, `-N`. */
async function compositeChecksum(algorithm: Algorithm, parts: readonly Buffer[]): Promise<string> {
  const partSums = await Promise.all(parts.map((p) => checksum(algorithm, [p])));
  return `${(await checksum(algorithm, [Buffer.concat(partSums)])).toString('base64')}-${parts.length}`;
}

async function rejectsWith(promise: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof S3ServiceException, `expected an S3 error, got ${String(err)}`);
    assert.equal(err.name, code, err.message);
    assert.equal(err.$metadata.httpStatusCode, status);
    return true;
  });
}

function describeOutcome(outcome: PromiseSettledResult<unknown>): string {
  if (outcome.status === 'fulfilled') return 'succeeded';
  const err: unknown = outcome.reason;
  return err instanceof S3ServiceException ? `failed with ${err.name} (${err.$metadata.httpStatusCode}): ${err.message}` : `failed: ${String(err)}`;
}

/** Whether a settled request failed with this S3 error code. */
function failedWith(outcome: PromiseSettledResult<unknown>, code: string): boolean {
  return outcome.status === 'rejected' && outcome.reason instanceof S3ServiceException && outcome.reason.name === code;
}

describe('multipart uploads (AWS SDK v3)', () => {
  let server: RunningServer;
  let s3: S3Client;

  before(async () => {
    server = await startServer();
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  async function create(key: string, extra: Partial<ConstructorParameters<typeof CreateMultipartUploadCommand>[0]> = {}, bucket = BUCKET): Promise<string> {
    const out = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...extra }));
    assert.ok(out.UploadId);
    return out.UploadId;
  }

  async function uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<CompletedPart> {
    const out = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body }));
    assert.equal(out.ETag, quotedMd5(body));
    return { PartNumber: partNumber, ETag: out.ETag };
  }

  function complete(key: string, uploadId: string, parts: CompletedPart[] | undefined, extra: Partial<ConstructorParameters<typeof CompleteMultipartUploadCommand>[0]> = {}) {
    const MultipartUpload: CompletedMultipartUpload | undefined = parts === undefined ? undefined : { Parts: parts };
    return s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload, ...extra }));
  }

  async function getBody(key: string, extra: Partial<ConstructorParameters<typeof GetObjectCommand>[0]> = {}): Promise<Buffer> {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ...extra }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  async function assertObject(key: string, expected: Buffer, etag: string): Promise<void> {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const body = Buffer.from(await out.Body!.transformToByteArray());
    assert.equal(out.ETag, etag);
    assert.equal(body.length, expected.length);
    assert.ok(body.equals(expected), `${key}: body differs from the parts named at completion`);
  }

  async function absent(key: string): Promise<boolean> {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      return false;
    } catch (err) {
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return true;
      throw err;
    }
  }

  test('the completed object keeps the metadata, content headers and storage class given at creation', async () => {
    const key = 'meta/object.txt';
    const uploadId = await create(key, {
      ContentType: 'text/plain; charset=utf-8', Metadata: { color: 'blue', 'Mixed-Case': 'Yes' }, StorageClass: 'STANDARD_IA',
      CacheControl: 'max-age=60', ContentDisposition: 'attachment; filename="object.txt"', ContentLanguage: 'en',
    });
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }));
    assert.deepEqual(listed.Uploads?.map((u) => [u.Key, u.UploadId, u.StorageClass]), [[key, uploadId, 'STANDARD_IA']]);
    const p1 = bytes('meta-1', PART);
    const p2 = bytes('meta-2', 100);
    const parts = [await uploadPart(key, uploadId, 1, p1), await uploadPart(key, uploadId, 2, p2)];
    const listedParts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.equal(listedParts.StorageClass, 'STANDARD_IA');

    const done = await complete(key, uploadId, parts);
    const etag = multipartEtag([p1, p2]);
    assert.equal(done.ETag, etag);
    assert.equal(done.Bucket, BUCKET);
    assert.equal(done.Key, key);

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(head.ETag, etag);
    assert.equal(head.ContentLength, PART + 100);
    assert.equal(head.ContentType, 'text/plain; charset=utf-8');
    assert.deepEqual(head.Metadata, { color: 'blue', 'mixed-case': 'Yes' });
    assert.equal(head.StorageClass, 'STANDARD_IA');
    assert.equal(head.CacheControl, 'max-age=60');
    assert.equal(head.ContentDisposition, 'attachment; filename="object.txt"');
    assert.equal(head.ContentLanguage, 'en');
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: key }));
    assert.deepEqual(objects.Contents?.map((o) => [o.Key, o.ETag, o.Size, o.StorageClass]), [[key, etag, PART + 100, 'STANDARD_IA']]);
    await assertObject(key, Buffer.concat([p1, p2]), etag);
    // The upload is gone once completed.
    await rejectsWith(s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })), 'NoSuchUpload', 404);
  });

  test('part numbers run from 1 to 10000; 0 and 10001 are InvalidArgument', async () => {
    const key = 'part-numbers';
    const uploadId = await create(key);
    for (const bad of [0, 10001]) {
      await rejectsWith(s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: bad, Body: Buffer.from('x') })), 'InvalidArgument', 400);
    }
    const first = bytes('pn-1', PART);
    const last = bytes('pn-10000', 321);
    const parts = [await uploadPart(key, uploadId, 1, first), await uploadPart(key, uploadId, 10000, last)];
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.deepEqual(listed.Parts?.map((p) => p.PartNumber), [1, 10000]);
    const done = await complete(key, uploadId, parts);
    assert.equal(done.ETag, multipartEtag([first, last]));
    await assertObject(key, Buffer.concat([first, last]), multipartEtag([first, last]));
    // Part numbers need not be contiguous: the object's second part is the one numbered 10000.
    const second = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 2 }));
    assert.equal(second.ContentLength, 321);
    assert.equal(second.PartsCount, 2);
  });

  test('uploading a part again replaces it: the completed object has the new bytes', async () => {
    const key = 'replaced-part';
    const uploadId = await create(key);
    const old1 = bytes('replace-old', PART);
    const new1 = bytes('replace-new', PART + 17);
    const p2 = bytes('replace-2', 999);
    const oldPart = await uploadPart(key, uploadId, 1, old1);
    const tail = await uploadPart(key, uploadId, 2, p2);
    const newPart = await uploadPart(key, uploadId, 1, new1);
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, quotedMd5(new1), PART + 17], [2, quotedMd5(p2), 999]]);
    // The replaced part's ETag no longer names anything.
    await rejectsWith(complete(key, uploadId, [oldPart, tail]), 'InvalidPart', 400);
    const done = await complete(key, uploadId, [newPart, tail]);
    assert.equal(done.ETag, multipartEtag([new1, p2]));
    await assertObject(key, Buffer.concat([new1, p2]), multipartEtag([new1, p2]));
  });

  test('UploadPartCopy copies a whole object or a range of it, across the parts of a multipart source', async () => {
    // The source is itself multipart, so ranges cross its part boundary.
    const sourceKey = 'copy/source';
    const s1 = bytes('copy-src-1', PART);
    const s2 = bytes('copy-src-2', MiB + 5);
    const sourceUpload = await create(sourceKey);
    await complete(sourceKey, sourceUpload, [await uploadPart(sourceKey, sourceUpload, 1, s1), await uploadPart(sourceKey, sourceUpload, 2, s2)]);
    const source = Buffer.concat([s1, s2]);
    const simple = bytes('copy-simple', 70_000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy/simple', Body: simple }));

    const key = 'copy/target';
    const uploadId = await create(key);
    const copies: [number, string, string | undefined, Buffer][] = [
      [1, sourceKey, `bytes=${MiB}-${MiB + PART - 1}`, source.subarray(MiB, MiB + PART)],
      [2, sourceKey, undefined, source],
      [3, 'copy/simple', 'bytes=100-199', simple.subarray(100, 200)],
    ];
    const parts: CompletedPart[] = [];
    for (const [n, from, range, expected] of copies) {
      const out = await s3.send(new UploadPartCopyCommand({
        Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: n, CopySource: `${BUCKET}/${from}`,
        ...(range !== undefined ? { CopySourceRange: range } : {}),
      }));
      assert.equal(out.CopyPartResult?.ETag, quotedMd5(expected), `part ${n}`);
      assert.ok(out.CopyPartResult?.LastModified instanceof Date);
      parts.push({ PartNumber: n, ETag: out.CopyPartResult.ETag });
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.deepEqual(listed.Parts?.map((p) => p.Size), copies.map((c) => c[3].length));

    const size = source.length;
    for (const bad of ['bytes=0-', `bytes=0-${size}`, 'bytes=10-5', 'bytes=abc', `bytes=${size}-${size + 10}`, 'bytes=-100', '0-10']) {
      await rejectsWith(s3.send(new UploadPartCopyCommand({
        Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 4, CopySource: `${BUCKET}/${sourceKey}`, CopySourceRange: bad,
      })), 'InvalidArgument', 400);
    }
    const expected = copies.map((c) => c[3]);
    const done = await complete(key, uploadId, parts);
    assert.equal(done.ETag, multipartEtag(expected));
    await assertObject(key, Buffer.concat(expected), multipartEtag(expected));
  });

  test('CompleteMultipartUpload answers S3\'s errors and leaves the upload usable after each', async () => {
    const key = 'complete-errors';
    const uploadId = await create(key);
    const p1 = bytes('ce-1', PART);
    const p2 = bytes('ce-2', 1024);
    const p3 = bytes('ce-3', 2048);
    const [c1, c2, c3] = [await uploadPart(key, uploadId, 1, p1), await uploadPart(key, uploadId, 2, p2), await uploadPart(key, uploadId, 3, p3)];

    await rejectsWith(complete(key, uploadId, [c1, { PartNumber: 2, ETag: quotedMd5(p3) }]), 'InvalidPart', 400);
    await rejectsWith(complete(key, uploadId, [c1, { PartNumber: 2, ETag: '"00000000000000000000000000000000"' }]), 'InvalidPart', 400);
    await rejectsWith(complete(key, uploadId, [c1, { PartNumber: 4, ETag: c3.ETag }]), 'InvalidPart', 400);
    await rejectsWith(complete(key, uploadId, [c2, c1]), 'InvalidPartOrder', 400);
    await rejectsWith(complete(key, uploadId, [c1, c1]), 'InvalidPartOrder', 400);
    // Part 2 (1 KiB) is not the last: too small.
    await rejectsWith(complete(key, uploadId, [c1, c2, c3]), 'EntityTooSmall', 400);
    await rejectsWith(complete(key, uploadId, []), 'MalformedXML', 400);
    await rejectsWith(complete(key, uploadId, undefined), 'MalformedXML', 400);
    await rejectsWith(complete(key, 'bogus-upload-id', [c1]), 'NoSuchUpload', 404);
    // The upload id of another key does not complete this one.
    const other = await create('complete-errors-other');
    await rejectsWith(complete(key, other, [c1]), 'NoSuchUpload', 404);
    // x-amz-mp-object-size must be the total of the listed parts.
    await rejectsWith(complete(key, uploadId, [c1, c3], { MpuObjectSize: p1.length + p3.length + 1 }), 'InvalidRequest', 400);
    assert.ok(await absent(key));

    // None of the failures consumed the upload; parts left out of the list are dropped.
    const done = await complete(key, uploadId, [c1, c3], { MpuObjectSize: p1.length + p3.length });
    assert.equal(done.ETag, multipartEtag([p1, p3]));
    await assertObject(key, Buffer.concat([p1, p3]), multipartEtag([p1, p3]));
    // Completing it again with the same parts answers as the first completion did (a retry);
    // any other list finds no upload.
    const again = await complete(key, uploadId, [c1, c3]);
    assert.equal(again.ETag, multipartEtag([p1, p3]));
    await rejectsWith(complete(key, uploadId, [c1]), 'NoSuchUpload', 404);
    await rejectsWith(complete(key, uploadId, [c1, c2]), 'NoSuchUpload', 404);
    await assertObject(key, Buffer.concat([p1, p3]), multipartEtag([p1, p3]));

    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'complete-errors-other', UploadId: other }));
    await rejectsWith(s3.send(new CompleteMultipartUploadCommand({
      Bucket: BUCKET, Key: 'complete-errors-other', UploadId: other, MultipartUpload: { Parts: [c1] },
    })), 'NoSuchUpload', 404);
  });

  test('AbortMultipartUpload removes the upload and its parts', async () => {
    const key = 'aborted';
    const uploadId = await create(key);
    await uploadPart(key, uploadId, 1, bytes('abort-1', 1000));
    const out = await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })), 'NoSuchUpload', 404);
    await rejectsWith(s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 2, Body: Buffer.from('late') })), 'NoSuchUpload', 404);
    await rejectsWith(s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })), 'NoSuchUpload', 404);
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }));
    assert.deepEqual(listed.Uploads ?? [], []);
    assert.ok(await absent(key));
  });

  for (const algorithm of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
    test(`ChecksumAlgorithm ${algorithm}: parts carry it and the object gets the COMPOSITE checksum`, async () => {
      const field: ChecksumField = `Checksum${algorithm}`;
      const key = `checksum/composite-${algorithm}`;
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: algorithm }));
      assert.equal(created.ChecksumAlgorithm, algorithm);
      assert.equal(created.ChecksumType, 'COMPOSITE');
      const uploadId = created.UploadId!;
      const bodies = [bytes(`${algorithm}-1`, PART), bytes(`${algorithm}-2`, PART), bytes(`${algorithm}-3`, MiB + 3)];
      const parts: CompletedPart[] = [];
      for (const [i, body] of bodies.entries()) {
        const out = await s3.send(new UploadPartCommand({
          Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: algorithm,
        }));
        const expected = (await checksum(algorithm, [body])).toString('base64');
        assert.equal(out[field], expected, `part ${i + 1}`);
        parts.push({ PartNumber: i + 1, ETag: out.ETag, [field]: out[field] });
      }
      const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
      assert.equal(listed.ChecksumAlgorithm, algorithm);
      assert.deepEqual(listed.Parts?.map((p) => p[field]), parts.map((p) => p[field]));

      const composite = await compositeChecksum(algorithm, bodies);
      const done = await complete(key, uploadId, parts);
      assert.equal(done.ETag, multipartEtag(bodies));
      assert.equal(done[field], composite);
      assert.equal(done.ChecksumType, 'COMPOSITE');
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(head[field], composite);
      assert.equal(head.ChecksumType, 'COMPOSITE');
      const plain = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal(plain[field], undefined, 'checksums only with ChecksumMode ENABLED');
      assert.ok((await getBody(key, { ChecksumMode: 'ENABLED' })).equals(Buffer.concat(bodies)));
      await assertPartChecksums(key, field, bodies, parts, 'COMPOSITE');
    });
  }

  /** GET and HEAD by part number answer each part's own checksum (the SDK checks GET's against the bytes). */
  async function assertPartChecksums(key: string, field: ChecksumField, bodies: readonly Buffer[], parts: readonly CompletedPart[], type: string): Promise<void> {
    for (const [i, body] of bodies.entries()) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: i + 1, ChecksumMode: 'ENABLED' }));
      assert.equal(got[field], parts[i]![field], `GET part ${i + 1}`);
      assert.equal(got.ChecksumType, type);
      assert.equal(got.PartsCount, bodies.length);
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), `part ${i + 1} bytes`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: i + 1, ChecksumMode: 'ENABLED' }));
      assert.equal(head[field], parts[i]![field], `HEAD part ${i + 1}`);
      assert.equal(head.ContentLength, body.length);
    }
    const plain = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 1 }));
    assert.equal(plain[field], undefined, 'a part\'s checksum only with ChecksumMode ENABLED');
  }

  test('UploadPart verifies what the client says of the body: checksum, Content-MD5, the upload\'s algorithm', async () => {
    const key = 'checksum/part-verification';
    const uploadId = await create(key, { ChecksumAlgorithm: 'SHA256' });
    const body = bytes('verify', 100_000);
    const other = bytes('other', 10);
    const send = (extra: Partial<ConstructorParameters<typeof UploadPartCommand>[0]>) =>
      s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1, Body: body, ...extra }));
    await rejectsWith(send({ ChecksumSHA256: (await checksum('SHA256', [other])).toString('base64') }), 'BadDigest', 400);
    await rejectsWith(send({ ChecksumAlgorithm: 'SHA256', ContentMD5: md5(other).toString('base64') }), 'BadDigest', 400);
    // The upload was created for SHA256: a part may not come with another algorithm.
    await rejectsWith(send({ ChecksumAlgorithm: 'CRC32' }), 'InvalidRequest', 400);
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.deepEqual(listed.Parts ?? [], [], 'a refused part is not stored');
    const good = await send({ ChecksumSHA256: (await checksum('SHA256', [body])).toString('base64'), ContentMD5: md5(body).toString('base64') });
    assert.equal(good.ETag, quotedMd5(body));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  });

  test('checksum algorithms and types at creation: CRC64NVME is FULL_OBJECT, SHA cannot be, CRC64NVME cannot be COMPOSITE', async () => {
    const crc64 = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'checksum/types', ChecksumAlgorithm: 'CRC64NVME' }));
    assert.equal(crc64.ChecksumType, 'FULL_OBJECT');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'checksum/types', UploadId: crc64.UploadId }));
    for (const algorithm of ['SHA1', 'SHA256'] as const) {
      await rejectsWith(s3.send(new CreateMultipartUploadCommand({
        Bucket: BUCKET, Key: 'checksum/types', ChecksumAlgorithm: algorithm, ChecksumType: 'FULL_OBJECT',
      })), 'InvalidRequest', 400);
    }
    await rejectsWith(s3.send(new CreateMultipartUploadCommand({
      Bucket: BUCKET, Key: 'checksum/types', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'COMPOSITE',
    })), 'InvalidRequest', 400);
    const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'checksum/types' }));
    assert.deepEqual(left.Uploads ?? [], []);
  });

  test('UploadPartCopy into an upload with a checksum gives each copied part its checksum', async () => {
    const source = bytes('copy-checksum-source', PART + 3000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'checksum/copy-source', Body: source }));
    const key = 'checksum/copied';
    const uploadId = await create(key, { ChecksumAlgorithm: 'CRC32C' });
    const pieces = [source.subarray(0, PART), source.subarray(PART)];
    const parts: CompletedPart[] = [];
    for (const [i, piece] of pieces.entries()) {
      const start = i === 0 ? 0 : PART;
      const out = await s3.send(new UploadPartCopyCommand({
        Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: i + 1, CopySource: `${BUCKET}/checksum/copy-source`,
        CopySourceRange: `bytes=${start}-${start + piece.length - 1}`,
      }));
      assert.equal(out.CopyPartResult?.ETag, quotedMd5(piece));
      assert.equal(out.CopyPartResult?.ChecksumCRC32C, (await checksum('CRC32C', [piece])).toString('base64'), `part ${i + 1}`);
      parts.push({ PartNumber: i + 1, ETag: out.CopyPartResult.ETag, ChecksumCRC32C: out.CopyPartResult.ChecksumCRC32C });
    }
    const done = await complete(key, uploadId, parts);
    assert.equal(done.ChecksumCRC32C, await compositeChecksum('CRC32C', pieces));
    await assertObject(key, source, multipartEtag(pieces));
  });

  test('completing a COMPOSITE upload needs each part\'s checksum, matching, and the same checksum type', async () => {
    const key = 'checksum/composite-complete';
    const uploadId = await create(key, { ChecksumAlgorithm: 'SHA256' });
    const bodies = [bytes('cc-1', PART), bytes('cc-2', 1000)];
    const parts: CompletedPart[] = [];
    for (const [i, body] of bodies.entries()) {
      const out = await s3.send(new UploadPartCommand({
        Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'SHA256',
      }));
      parts.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256 });
    }
    const bare = parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag }));
    // The object's checksum, when given, must be the composite one: BadDigest otherwise, checked before the parts' checksums.
    const composite = await compositeChecksum('SHA256', bodies);
    const wrong = `${(await checksum('SHA256', [Buffer.from('x')])).toString('base64')}-2`;
    await rejectsWith(complete(key, uploadId, parts, { ChecksumSHA256: wrong }), 'BadDigest', 400);
    await rejectsWith(complete(key, uploadId, bare, { ChecksumSHA256: wrong }), 'BadDigest', 400);
    // S3: "The upload was created using a sha256 checksum. The complete request must include the checksum for each part. …"
    await rejectsWith(complete(key, uploadId, bare, { ChecksumSHA256: composite }), 'InvalidRequest', 400);
    await rejectsWith(complete(key, uploadId, [parts[0]!, bare[1]!]), 'InvalidRequest', 400);
    await rejectsWith(complete(key, uploadId, bare), 'InvalidRequest', 400);
    await rejectsWith(complete(key, uploadId, [parts[0]!, { ...parts[1]!, ChecksumSHA256: parts[0]!.ChecksumSHA256 }]), 'InvalidPart', 400);
    // S3: "The upload was created using the COMPOSITE checksum mode. The complete request must use the same checksum mode."
    await rejectsWith(complete(key, uploadId, parts, { ChecksumType: 'FULL_OBJECT' }), 'InvalidRequest', 400);
    // With checksums on the parts, part numbers must run 1, 2, … without a gap.
    await rejectsWith(complete(key, uploadId, [parts[1]!]), 'InvalidPartOrder', 400);
    const third = await s3.send(new UploadPartCommand({
      Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 3, Body: bodies[1], ChecksumAlgorithm: 'SHA256',
    }));
    await rejectsWith(complete(key, uploadId, [parts[0]!, { PartNumber: 3, ETag: third.ETag, ChecksumSHA256: third.ChecksumSHA256 }]), 'InvalidPartOrder', 400);
    assert.ok(await absent(key));
    const done = await complete(key, uploadId, parts, { ChecksumType: 'COMPOSITE', ChecksumSHA256: composite });
    assert.equal(done.ChecksumSHA256, composite);
    await assertObject(key, Buffer.concat(bodies), multipartEtag(bodies));
    // A retried completion answers the same ETag and checksum.
    const again = await complete(key, uploadId, parts, { ChecksumType: 'COMPOSITE', ChecksumSHA256: composite });
    assert.equal(again.ETag, done.ETag);
    assert.equal(again.ChecksumSHA256, composite);
    assert.equal(again.ChecksumType, 'COMPOSITE');
  });

  for (const algorithm of ['CRC64NVME', 'CRC32', 'CRC32C'] as const) {
    test(`ChecksumType FULL_OBJECT with ${algorithm}: the object's checksum is the CRC of the whole`, async () => {
      const field: ChecksumField = `Checksum${algorithm}`;
      const key = `checksum/full-${algorithm}`;
      const created = await s3.send(new CreateMultipartUploadCommand({
        Bucket: BUCKET, Key: key, ChecksumAlgorithm: algorithm, ChecksumType: 'FULL_OBJECT',
      }));
      assert.equal(created.ChecksumAlgorithm, algorithm);
      assert.equal(created.ChecksumType, 'FULL_OBJECT');
      const uploadId = created.UploadId!;
      const bodies = [bytes(`full-${algorithm}-1`, PART), bytes(`full-${algorithm}-2`, PART + 1), bytes(`full-${algorithm}-3`, 12_345)];
      const parts: CompletedPart[] = [];
      for (const [i, body] of bodies.entries()) {
        const out = await s3.send(new UploadPartCommand({
          Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: algorithm,
        }));
        assert.equal(out[field], (await checksum(algorithm, [body])).toString('base64'), `part ${i + 1}`);
        parts.push({ PartNumber: i + 1, ETag: out.ETag, [field]: out[field] });
      }
      const whole = (await checksum(algorithm, bodies)).toString('base64');
      // A wrong whole-object checksum is refused, and the upload stays open.
      const wrong = (await checksum(algorithm, [Buffer.from('something else')])).toString('base64');
      await assert.rejects(complete(key, uploadId, parts, { ChecksumType: 'FULL_OBJECT', [field]: wrong }), (err: unknown) => {
        assert.ok(err instanceof S3ServiceException);
        assert.equal(err.$metadata.httpStatusCode, 400);
        return true;
      });
      assert.ok(await absent(key));

      const done = await complete(key, uploadId, parts, { ChecksumType: 'FULL_OBJECT', [field]: whole });
      assert.equal(done.ETag, multipartEtag(bodies));
      assert.equal(done[field], whole);
      assert.equal(done.ChecksumType, 'FULL_OBJECT');
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(head[field], whole);
      assert.equal(head.ChecksumType, 'FULL_OBJECT');
      // The SDK validates a full-object checksum on GET as the body streams.
      assert.ok((await getBody(key, { ChecksumMode: 'ENABLED' })).equals(Buffer.concat(bodies)));
      await assertPartChecksums(key, field, bodies, parts, 'FULL_OBJECT');
    });
  }

  test('ListMultipartUploads: prefix, delimiter, markers and paging, in key then initiation order', async () => {
    const bucket = 'multipart-listing';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const layout: [string, number][] = [['c/f', 1], ['a/1', 3], ['b', 2], ['d', 1], ['a/2', 1], ['c/d/e', 1]];
    const ids = new Map<string, string[]>();
    // Created one after another, so initiation order is creation order.
    for (const [key, count] of layout) {
      for (let i = 0; i < count; i++) ids.set(key, [...(ids.get(key) ?? []), await create(key, {}, bucket)]);
    }
    const id = (key: string, i: number): string => ids.get(key)![i]!;
    const all: [string, string][] = [
      ['a/1', id('a/1', 0)], ['a/1', id('a/1', 1)], ['a/1', id('a/1', 2)], ['a/2', id('a/2', 0)],
      ['b', id('b', 0)], ['b', id('b', 1)], ['c/d/e', id('c/d/e', 0)], ['c/f', id('c/f', 0)], ['d', id('d', 0)],
    ];
    const list = (input: Omit<ConstructorParameters<typeof ListMultipartUploadsCommand>[0], 'Bucket'>) =>
      s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, ...input }));
    const pairs = (out: Awaited<ReturnType<typeof list>>): [string, string][] => (out.Uploads ?? []).map((u) => [u.Key!, u.UploadId!]);
    const prefixes = (out: Awaited<ReturnType<typeof list>>): string[] => (out.CommonPrefixes ?? []).map((p) => p.Prefix!);

    const full = await list({});
    assert.deepEqual(pairs(full), all);
    assert.equal(full.IsTruncated, false);
    for (const u of full.Uploads!) {
      assert.ok(u.Initiated instanceof Date);
      assert.equal(u.StorageClass, 'STANDARD');
      assert.ok(u.Owner?.ID && u.Initiator?.ID);
    }
    assert.deepEqual(pairs(await list({ Prefix: 'a/' })), all.slice(0, 4));

    const rolled = await list({ Delimiter: '/' });
    assert.deepEqual(pairs(rolled), [['b', id('b', 0)], ['b', id('b', 1)], ['d', id('d', 0)]]);
    assert.deepEqual(prefixes(rolled), ['a/', 'c/']);
    const nested = await list({ Prefix: 'c/', Delimiter: '/' });
    assert.deepEqual(pairs(nested), [['c/f', id('c/f', 0)]]);
    assert.deepEqual(prefixes(nested), ['c/d/']);

    // A key marker alone skips every upload of that key; with an upload-id marker, only those up to it.
    assert.deepEqual(pairs(await list({ KeyMarker: 'a/1' })), all.slice(3));
    assert.deepEqual(pairs(await list({ KeyMarker: 'a/1', UploadIdMarker: id('a/1', 0) })), all.slice(1));
    assert.deepEqual(pairs(await list({ KeyMarker: 'b', UploadIdMarker: id('b', 1) })), all.slice(6));
    assert.deepEqual(pairs(await list({ KeyMarker: 'a' })), all);
    // Without a key marker, S3 ignores the upload-id marker.
    assert.deepEqual(pairs(await list({ UploadIdMarker: id('b', 0) })), all);

    for (const maxUploads of [1, 2, 4]) {
      const seen: [string, string][] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await list({ MaxUploads: maxUploads, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker });
        pages++;
        assert.equal(page.MaxUploads, maxUploads);
        assert.ok(pairs(page).length <= maxUploads);
        seen.push(...pairs(page));
        if (!page.IsTruncated) break;
        assert.ok(page.NextKeyMarker, 'a truncated page names where the next starts');
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
        assert.ok(pages < 20, 'paging does not end');
      }
      assert.deepEqual(seen, all, `MaxUploads ${maxUploads}`);
      assert.equal(pages, Math.ceil(all.length / maxUploads));
    }

    // Paging with a delimiter: common prefixes count toward MaxUploads.
    const entries: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 20, 'paging does not end');
      const page = await list({ Delimiter: '/', MaxUploads: 1, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker });
      entries.push(...prefixes(page).map((p) => `prefix ${p}`), ...pairs(page).map(([k, u]) => `${k} ${u}`));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    assert.deepEqual(entries, ['prefix a/', `b ${id('b', 0)}`, `b ${id('b', 1)}`, 'prefix c/', `d ${id('d', 0)}`]);
  });

  test('uploads of one key created in quick succession list in initiation order', async () => {
    const bucket = 'multipart-initiation';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const created: string[] = [];
    for (let i = 0; i < 50; i++) created.push(await create('same-key', {}, bucket));
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual(listed.Uploads?.map((u) => u.UploadId), created);
    const initiated = listed.Uploads!.map((u) => u.Initiated!.getTime());
    assert.deepEqual(initiated, [...initiated].sort((a, b) => a - b));
  });

  test('ListParts pages with MaxParts and PartNumberMarker, with sizes and ETags', async () => {
    const key = 'list-parts';
    const uploadId = await create(key);
    const bodies = Array.from({ length: 12 }, (_, i) => bytes(`lp-${i + 1}`, 1000 * (i + 1) + 1));
    await Promise.all(bodies.map((b, i) => uploadPart(key, uploadId, i + 1, b)));
    const expected = bodies.map((b, i) => [i + 1, quotedMd5(b), b.length]);
    const shape = (parts: readonly { PartNumber?: number; ETag?: string; Size?: number }[] | undefined) =>
      (parts ?? []).map((p) => [p.PartNumber, p.ETag, p.Size]);

    const whole = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.deepEqual(shape(whole.Parts), expected);
    assert.equal(whole.IsTruncated, false);
    assert.equal(whole.UploadId, uploadId);
    assert.equal(whole.Key, key);
    assert.ok(whole.Parts!.every((p) => p.LastModified instanceof Date));

    const pages: (number | string | undefined)[][][] = [];
    const truncation: boolean[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MaxParts: 5, PartNumberMarker: marker }));
      assert.equal(page.MaxParts, 5);
      pages.push(shape(page.Parts));
      truncation.push(page.IsTruncated!);
      if (!page.IsTruncated) break;
      marker = page.NextPartNumberMarker;
      assert.ok(pages.length < 10, 'paging does not end');
    }
    assert.deepEqual(pages, [expected.slice(0, 5), expected.slice(5, 10), expected.slice(10)]);
    assert.deepEqual(truncation, [true, true, false]);

    const after7 = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumberMarker: '7' }));
    assert.deepEqual(shape(after7.Parts), expected.slice(7));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  });

  describe('reading a multipart object by part number and by range', () => {
    const key = 'read-parts';
    const bodies = [bytes('rp-1', PART), bytes('rp-2', PART + 7), bytes('rp-3', 1234)];
    const whole = Buffer.concat(bodies);
    const etag = multipartEtag(bodies);

    before(async () => {
      const uploadId = await create(key);
      const parts = await Promise.all(bodies.map((b, i) => uploadPart(key, uploadId, i + 1, b)));
      await complete(key, uploadId, parts);
    });

    test('GetObject and HeadObject with PartNumber answer 206 with the part, Content-Range and the parts count', async () => {
      let offset = 0;
      for (const [i, body] of bodies.entries()) {
        const range = `bytes ${offset}-${offset + body.length - 1}/${whole.length}`;
        const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: i + 1 }));
        assert.equal(head.$metadata.httpStatusCode, 206);
        assert.equal(head.ContentLength, body.length);
        assert.equal(head.ContentRange, range);
        assert.equal(head.PartsCount, 3);
        assert.equal(head.ETag, etag);
        const get = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: i + 1 }));
        assert.equal(get.$metadata.httpStatusCode, 206);
        assert.equal(get.ContentRange, range);
        assert.equal(get.PartsCount, 3);
        assert.ok(Buffer.from(await get.Body!.transformToByteArray()).equals(body), `part ${i + 1}`);
        offset += body.length;
      }
    });

    test('a part number past the count is 416 InvalidPartNumber', async () => {
      await rejectsWith(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 4 })), 'InvalidPartNumber', 416);
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 4 })), (err: unknown) => {
        assert.ok(err instanceof S3ServiceException);
        assert.equal(err.$metadata.httpStatusCode, 416);
        return true;
      });
    });

    test('GetObject with the PartNumber of an empty last part returns no bytes', async () => {
      const emptyKey = 'read-parts-empty-last';
      const uploadId = await create(emptyKey);
      const first = bytes('rpe-1', PART);
      const parts = [await uploadPart(emptyKey, uploadId, 1, first), await uploadPart(emptyKey, uploadId, 2, Buffer.alloc(0))];
      await complete(emptyKey, uploadId, parts);
      const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: emptyKey, PartNumber: 2 }));
      const body = Buffer.from(await out.Body!.transformToByteArray());
      assert.equal(out.PartsCount, 2);
      assert.equal(out.ContentLength, 0);
      assert.equal(body.length, 0, `part 2 is empty, got ${body.length} bytes (status ${out.$metadata.httpStatusCode})`);
    });

    test('ranges crossing part boundaries return the right bytes', async () => {
      const b2 = 2 * PART + 7; // where part 3 starts
      const cases: [string, number, number][] = [
        [`bytes=${PART - 10}-${PART + 9}`, PART - 10, PART + 9],
        [`bytes=${PART - 1}-${PART}`, PART - 1, PART],
        [`bytes=${PART}-${b2 - 1}`, PART, b2 - 1],
        [`bytes=${b2 - 1}-${b2}`, b2 - 1, b2],
        [`bytes=1-${whole.length - 2}`, 1, whole.length - 2],
        [`bytes=${PART - 100}-`, PART - 100, whole.length - 1],
        ['bytes=-2000', whole.length - 2000, whole.length - 1],
        [`bytes=${b2 - 5}-${whole.length + 1000}`, b2 - 5, whole.length - 1],
      ];
      for (const [header, start, end] of cases) {
        const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: header }));
        assert.equal(out.$metadata.httpStatusCode, 206, header);
        assert.equal(out.ContentRange, `bytes ${start}-${end}/${whole.length}`, header);
        const body = Buffer.from(await out.Body!.transformToByteArray());
        assert.ok(body.equals(whole.subarray(start, end + 1)), header);
      }
      assert.ok((await getBody(key)).equals(whole));
    });
  });

  describe('concurrency', () => {
    test('ten parts uploaded in parallel make one object', async () => {
      const key = 'parallel-parts';
      const uploadId = await create(key);
      const bodies = Array.from({ length: 10 }, (_, i) => bytes(`parallel-${i}`, PART));
      // Sent in reverse, all at once: arrival order must not matter.
      const parts = await Promise.all(bodies.map((b, i) => uploadPart(key, uploadId, i + 1, b)).reverse());
      parts.reverse();
      const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
      assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.ETag]), parts.map((p) => [p.PartNumber, p.ETag]));
      const done = await complete(key, uploadId, parts);
      assert.equal(done.ETag, multipartEtag(bodies));
      await assertObject(key, Buffer.concat(bodies), multipartEtag(bodies));
    });

    test('a completion racing an abort: one wins, nothing corrupt', async () => {
      for (let round = 0; round < 4; round++) {
        const key = `complete-vs-abort-${round}`;
        const uploadId = await create(key);
        const bodies = [bytes(`cva-${round}-1`, PART), bytes(`cva-${round}-2`, 4321)];
        const parts = await Promise.all(bodies.map((b, i) => uploadPart(key, uploadId, i + 1, b)));
        const [completed, aborted] = await Promise.allSettled([
          complete(key, uploadId, parts),
          s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
        ]);
        if (completed.status === 'fulfilled') {
          assert.ok(failedWith(aborted, 'NoSuchUpload'), `round ${round}: abort after completion must be NoSuchUpload`);
          await assertObject(key, Buffer.concat(bodies), multipartEtag(bodies));
        } else {
          assert.ok(failedWith(completed, 'NoSuchUpload'), `round ${round}: completion lost with ${String(completed.reason)}`);
          assert.equal(aborted.status, 'fulfilled');
          assert.ok(await absent(key), `round ${round}: aborted upload left an object`);
        }
        const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }));
        assert.deepEqual(left.Uploads ?? [], []);
      }
    });

    // Once 100 Continue was sent, the client sends its body; a 404 then closes the
    // connection mid-body and the client sees EPIPE instead. So the upload is checked first.
    test('UploadPart to a finished upload answers NoSuchUpload, also for a body sent behind Expect: 100-continue', async () => {
      const key = 'part-after-abort';
      const uploadId = await create(key);
      await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
      const body = bytes('late-part', 32 * MiB);
      const outcomes: string[] = [];
      for (let i = 0; i < 8; i++) {
        // A stream goes aws-chunked with a trailing checksum; like a Buffer of 2 MiB or more, behind Expect: 100-continue.
        const [streamed, buffered] = [
          await Promise.allSettled([s3.send(new UploadPartCommand({
            Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1, Body: Readable.from([body]), ContentLength: body.length,
          }))]),
          await Promise.allSettled([s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1, Body: body }))]),
        ];
        outcomes.push(describeOutcome(streamed[0]!), describeOutcome(buffered[0]!));
      }
      const expected = 'failed with NoSuchUpload (404)';
      assert.deepEqual(outcomes.map((o) => o.slice(0, expected.length)), outcomes.map(() => expected), outcomes.join('\n'));
    });

    test('two concurrent completions of one upload: both 200 with the one object\'s ETag (the later is a retry)', async () => {
      for (let round = 0; round < 3; round++) {
        const key = `double-complete-${round}`;
        const uploadId = await create(key);
        const bodies = [bytes(`dc-${round}-1`, PART), bytes(`dc-${round}-2`, 100)];
        const parts = await Promise.all(bodies.map((b, i) => uploadPart(key, uploadId, i + 1, b)));
        const outcomes = await Promise.all([complete(key, uploadId, parts), complete(key, uploadId, parts)]);
        for (const o of outcomes) assert.equal(o.ETag, multipartEtag(bodies), `round ${round}`);
        await assertObject(key, Buffer.concat(bodies), multipartEtag(bodies));
      }
    });

    test('completing while a re-upload of a part is in flight: the object is exactly the parts named', async () => {
      const key = 'complete-during-reupload';
      const uploadId = await create(key);
      const p1 = bytes('cdr-1', PART);
      const old2 = bytes('cdr-2-old', PART);
      const new2 = bytes('cdr-2-new', PART);
      const parts = [await uploadPart(key, uploadId, 1, p1), await uploadPart(key, uploadId, 2, old2)];

      // The re-upload sends its first MiB, then holds the rest until the completion answered.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => { release = resolve; });
      const { body, headSent } = gatedBody(new2.subarray(0, MiB), new2.subarray(MiB), gate);
      const reupload = s3.send(new UploadPartCommand({
        Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 2, Body: body, ContentLength: new2.length,
      }));
      const reuploadSettled = reupload.then(() => 'ok' as const, (err: unknown) => err);
      await headSent;
      const done = await complete(key, uploadId, parts);
      assert.equal(done.ETag, multipartEtag([p1, old2]));
      release();
      const outcome = await reuploadSettled;
      // The upload no longer exists when the part arrives whole.
      assert.ok(outcome instanceof S3ServiceException && outcome.name === 'NoSuchUpload', `re-upload: ${String(outcome)}`);
      await assertObject(key, Buffer.concat([p1, old2]), multipartEtag([p1, old2]));
    });

    test('a completion racing a finished re-upload of a part: old bytes or InvalidPart, never a mix', async () => {
      for (let round = 0; round < 4; round++) {
        const key = `complete-vs-reupload-${round}`;
        const uploadId = await create(key);
        // Part 2 is the last, so it may be small.
        const p1 = bytes(`cvr-${round}-1`, PART);
        const old2 = bytes(`cvr-${round}-2-old`, 100_000);
        const new2 = bytes(`cvr-${round}-2-new`, 100_001);
        const parts = [await uploadPart(key, uploadId, 1, p1), await uploadPart(key, uploadId, 2, old2)];
        const [completed, reuploaded] = await Promise.allSettled([
          complete(key, uploadId, parts),
          s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 2, Body: new2 })),
        ]);
        if (completed.status === 'fulfilled') {
          // The completion took the old part 2; the new one came too late.
          assert.equal(completed.value.ETag, multipartEtag([p1, old2]));
          assert.ok(failedWith(reuploaded, 'NoSuchUpload'), `round ${round}: re-upload ${describeOutcome(reuploaded)}`);
          await assertObject(key, Buffer.concat([p1, old2]), multipartEtag([p1, old2]));
        } else {
          // The new part 2 replaced the one named: the list no longer matches, and the upload is still open.
          assert.ok(failedWith(completed, 'InvalidPart'), `round ${round}: completion ${describeOutcome(completed)}`);
          assert.equal(reuploaded.status, 'fulfilled');
          assert.ok(await absent(key));
          const again = await complete(key, uploadId, [parts[0]!, { PartNumber: 2, ETag: quotedMd5(new2) }]);
          assert.equal(again.ETag, multipartEtag([p1, new2]));
          await assertObject(key, Buffer.concat([p1, new2]), multipartEtag([p1, new2]));
        }
      }
    });
  });
});

/** A body that yields `head`, then waits for `gate` before yielding `tail`; `headSent` resolves once `head` was taken. */
function gatedBody(head: Buffer, tail: Buffer, gate: Promise<void>): { body: Readable; headSent: Promise<void> } {
  let signal!: () => void;
  const headSent = new Promise<void>((resolve) => { signal = resolve; });
  let step = 0;
  const body = new Readable({
    read() {
      if (step === 0) {
        step = 1;
        this.push(head);
      } else if (step === 1) {
        step = 2;
        signal();
        void gate.then(() => {
          this.push(tail);
          this.push(null);
        });
      }
    },
  });
  return { body, headSent };
}
