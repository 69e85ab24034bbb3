/**
 * GetObjectAttributes through the AWS SDK for JavaScript v3: the attributes of a
 * simple object and of a multipart one (its parts paged with MaxParts and
 * PartNumberMarker, with their checksums), what each attribute name selects, and
 * S3's errors. Expected values are computed here, not taken from the server.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectAttributesCommand,
  PutObjectAclCommand, PutObjectCommand, UploadPartCommand, type CompletedPart, type ObjectAttributes, type S3Client,
} from '@aws-sdk/client-s3';
import { anonymousClient, assertUnsigned } from './acl-helpers.js';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { checksumOf, md5Hex, patternBytes, rejectsWith, uniqueBucket, withHeaders } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('attributes');
const ALL: ObjectAttributes[] = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];
const PART = 5 * 1024 * 1024;

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

function attributes(key: string, wanted: ObjectAttributes[], extra: Partial<ConstructorParameters<typeof GetObjectAttributesCommand>[0]> = {}) {
  return s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: wanted, ...extra }));
}

/** Uploads `bodies` as the parts of a new multipart object; returns what each UploadPart answered. */
async function multipart(key: string, bodies: readonly Buffer[], algorithm?: 'SHA256' | 'CRC32'): Promise<{ etag: string; parts: CompletedPart[] }> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}) }));
  const parts: CompletedPart[] = [];
  for (const [i, body] of bodies.entries()) {
    const out = await s3.send(new UploadPartCommand({
      Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body, ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}),
    }));
    parts.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256, ChecksumCRC32: out.ChecksumCRC32 });
  }
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  return { etag: done.ETag!, parts };
}

function multipartEtag(bodies: readonly Buffer[]): string {
  return createHash('md5').update(Buffer.concat(bodies.map((b) => createHash('md5').update(b).digest()))).digest('hex') + `-${bodies.length}`;
}

describe('a simple object', () => {
  test('ETag (unquoted), ObjectSize and StorageClass; no ObjectParts; Last-Modified', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'foo' }));
    const out = await attributes('plain', ALL);
    assert.equal(out.ETag, md5Hex('foo'));
    assert.equal(out.ObjectSize, 3);
    assert.equal(out.StorageClass, 'STANDARD');
    assert.equal(out.ObjectParts, undefined);
    assert.equal(out.VersionId, undefined);
    assert.ok(out.LastModified instanceof Date);
  });

  test('Checksum: the algorithm and value it was written with, FULL_OBJECT', async () => {
    const body = patternBytes(1024, 3);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'summed', Body: body, ChecksumAlgorithm: 'SHA256' }));
    const out = await attributes('summed', ALL);
    assert.equal(out.Checksum?.ChecksumSHA256, checksumOf('SHA256', body));
    assert.equal(out.Checksum?.ChecksumType, 'FULL_OBJECT');
    assert.equal(out.ETag, md5Hex(body));
  });

  test('only the attributes asked for are answered', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'some', Body: 'some bytes', StorageClass: 'STANDARD_IA' }));
    const out = await attributes('some', ['StorageClass', 'ObjectSize']);
    assert.equal(out.StorageClass, 'STANDARD_IA');
    assert.equal(out.ObjectSize, 10);
    assert.equal(out.ETag, undefined);
    assert.equal(out.Checksum, undefined);
  });
});

describe('a multipart object', () => {
  const bodies = [patternBytes(PART, 11), patternBytes(PART, 12), patternBytes(PART, 13), patternBytes(1000, 14)];

  test('ObjectParts lists every part with its size; the ETag is the multipart one', async () => {
    const { etag } = await multipart('mp', bodies);
    assert.equal(etag, `"${multipartEtag(bodies)}"`);
    const out = await attributes('mp', ALL);
    assert.equal(out.ETag, multipartEtag(bodies));
    assert.equal(out.ObjectSize, bodies.reduce((n, b) => n + b.length, 0));
    assert.equal(out.ObjectParts?.TotalPartsCount, 4);
    assert.equal(out.ObjectParts?.IsTruncated, false);
    assert.deepEqual(out.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]), bodies.map((b, i) => [i + 1, b.length]));
    assert.equal(out.Checksum, undefined, 'uploaded without a checksum');
  });

  test('MaxParts and PartNumberMarker page the parts', async () => {
    const first = await attributes('mp', ['ObjectParts'], { MaxParts: 1, PartNumberMarker: '2' });
    assert.equal(first.ObjectParts?.MaxParts, 1);
    assert.equal(first.ObjectParts?.PartNumberMarker, '2');
    assert.equal(first.ObjectParts?.IsTruncated, true);
    assert.equal(first.ObjectParts?.NextPartNumberMarker, '3');
    assert.deepEqual(first.ObjectParts?.Parts?.map((p) => p.PartNumber), [3]);
    assert.equal(first.ObjectParts?.TotalPartsCount, 4);
    const rest = await attributes('mp', ['ObjectParts'], { MaxParts: 10, PartNumberMarker: '3' });
    assert.equal(rest.ObjectParts?.IsTruncated, false);
    assert.deepEqual(rest.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]), [[4, 1000]]);
    const past = await attributes('mp', ['ObjectParts'], { PartNumberMarker: '4' });
    assert.deepEqual(past.ObjectParts?.Parts ?? [], []);
    assert.equal(past.ObjectParts?.IsTruncated, false);
  });

  test('with a checksum: the COMPOSITE object checksum and each part\'s', async () => {
    const summed = bodies.slice(2);
    const { parts } = await multipart('mp-summed', summed, 'SHA256');
    const partSums = summed.map((b) => checksumOf('SHA256', b));
    assert.deepEqual(parts.map((p) => p.ChecksumSHA256), partSums);
    const composite = `${createHash('sha256').update(Buffer.concat(partSums.map((s) => Buffer.from(s, 'base64')))).digest('base64')}-2`;
    const out = await attributes('mp-summed', ALL);
    assert.equal(out.Checksum?.ChecksumSHA256, composite);
    assert.equal(out.Checksum?.ChecksumType, 'COMPOSITE');
    assert.deepEqual(out.ObjectParts?.Parts?.map((p) => p.ChecksumSHA256), partSums);
  });
});

describe("S3's errors", () => {
  test('an unknown attribute name is InvalidArgument', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'err', Body: 'x' }));
    await rejectsWith(attributes('err', ['ETag', 'Colour' as ObjectAttributes]), 'InvalidArgument', 400);
  });

  test('no x-amz-object-attributes header is InvalidArgument', async () => {
    await rejectsWith(s3.send(withHeaders(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'err', ObjectAttributes: ['ETag'] }), {
      'x-amz-object-attributes': null,
    })), 'InvalidArgument', 400);
  });

  test('a missing key is NoSuchKey, a missing bucket NoSuchBucket', async () => {
    await rejectsWith(attributes('absent', ['ETag']), 'NoSuchKey', 404);
    await rejectsWith(s3.send(new GetObjectAttributesCommand({ Bucket: `${bucket}-none`, Key: 'k', ObjectAttributes: ['ETag'] })), 'NoSuchBucket', 404);
  });

  test('an anonymous caller gets AccessDenied from a private object, and the attributes once the ACL grants READ', async () => {
    const { client, sent } = anonymousClient(server);
    try {
      await rejectsWith(client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'err', ObjectAttributes: ['ETag'] })), 'AccessDenied', 403);
      await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'err', ACL: 'public-read' }));
      const out = await client.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'err', ObjectAttributes: ['ETag'] }));
      assert.equal(out.ETag, md5Hex('x'));
      assertUnsigned(sent);
    } finally {
      client.destroy();
    }
  });
});
