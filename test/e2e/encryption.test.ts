/**
 * Server-side encryption is not implemented: through the AWS SDK for JavaScript
 * v3, every request asking for SSE-S3, SSE-KMS or SSE-C is refused with 501
 * NotImplemented and stores nothing, malformed ones get S3's 400s, and requests
 * without encryption headers are served as before.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CopyObjectCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, type S3Client, type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, newBucket, rejectsWith, rejectsWithStatus, withHeaders } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
let bucket = '';
const BODY = 'stored in the clear';

/** An SSE-C key as the SDK's callers give it; the SDK adds the algorithm and key MD5 headers. */
const customerKey = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: randomBytes(32).toString('base64') };

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  bucket = await newBucket(s3, 'sse');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: BODY }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function keys(): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!);
}

test('PutObject, CopyObject and CreateMultipartUpload asking for SSE-S3 or SSE-KMS are 501 NotImplemented and store nothing', async () => {
  for (const ServerSideEncryption of ['AES256', 'aws:kms', 'aws:kms:dsse'] as ServerSideEncryption[]) {
    const put = await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sse-put', Body: 'x', ServerSideEncryption })), 'NotImplemented', 501);
    assert.match(put.message, /x-amz-server-side-encryption/);
    await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'sse-copy', CopySource: `${bucket}/plain`, ServerSideEncryption })), 'NotImplemented', 501);
    await rejectsWith(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'sse-mpu', ServerSideEncryption })), 'NotImplemented', 501);
  }
  await rejectsWith(s3.send(new PutObjectCommand({
    Bucket: bucket, Key: 'sse-put', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
  })), 'NotImplemented', 501);
  assert.deepEqual(await keys(), ['plain']);
});

test('SSE-C on any object request, the copy source\'s included, is 501 NotImplemented', async () => {
  await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ssec-put', Body: 'x', ...customerKey })), 'NotImplemented', 501);
  const get = await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain', ...customerKey })), 'NotImplemented', 501);
  assert.match(get.message, /customer-provided keys/);
  // A HEAD answer has no body: the status is what the SDK sees.
  await rejectsWithStatus(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain', ...customerKey })), 501);
  await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'ssec-copy', CopySource: `${bucket}/plain`, ...customerKey })), 'NotImplemented', 501);
  await rejectsWith(s3.send(new CopyObjectCommand({
    Bucket: bucket, Key: 'ssec-copy', CopySource: `${bucket}/plain`,
    CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: customerKey.SSECustomerKey,
  })), 'NotImplemented', 501);
  await rejectsWith(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-mpu', ...customerKey })), 'NotImplemented', 501);

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'ssec-parts' }));
  await rejectsWith(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'ssec-parts', UploadId, PartNumber: 1, Body: 'x', ...customerKey })), 'NotImplemented', 501);
  await rejectsWith(s3.send(new UploadPartCopyCommand({
    Bucket: bucket, Key: 'ssec-parts', UploadId, PartNumber: 1, CopySource: `${bucket}/plain`,
    CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: customerKey.SSECustomerKey,
  })), 'NotImplemented', 501);
  // Only the key MD5, as a hand-written client might send it, is refused as well.
  const md5 = createHash('md5').update(Buffer.from(customerKey.SSECustomerKey, 'base64')).digest('base64');
  await rejectsWith(s3.send(withHeaders(new GetObjectCommand({ Bucket: bucket, Key: 'plain' }), {
    'x-amz-server-side-encryption-customer-key-MD5': md5,
  })), 'NotImplemented', 501);
  assert.deepEqual(await keys(), ['plain']);
});

test('malformed encryption requests get S3\'s 400 InvalidArgument', async () => {
  const unknown = await rejectsWith(s3.send(new PutObjectCommand({
    Bucket: bucket, Key: 'bad', Body: 'x', ServerSideEncryption: 'AES128' as ServerSideEncryption,
  })), 'InvalidArgument', 400);
  assert.equal(unknown.ArgumentName, 'x-amz-server-side-encryption');
  assert.equal(unknown.ArgumentValue, 'AES128');
  const keyWithoutKms = await rejectsWith(s3.send(new PutObjectCommand({
    Bucket: bucket, Key: 'bad', Body: 'x', ServerSideEncryption: 'AES256', SSEKMSKeyId: 'k',
  })), 'InvalidArgument', 400);
  assert.match(keyWithoutKms.message, /requires HTTP header x-amz-server-side-encryption : aws:kms/);
  await rejectsWith(s3.send(withHeaders(new GetObjectCommand({ Bucket: bucket, Key: 'plain' }), { 'x-amz-server-side-encryption': 'AES256' })), 'InvalidArgument', 400);
  assert.deepEqual(await keys(), ['plain']);
});

test('requests without encryption headers are served, and report no encryption', async () => {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain' }));
  assert.equal((await bodyBytes(got.Body)).toString(), BODY);
  assert.equal(got.ServerSideEncryption, undefined);
  const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copied', CopySource: `${bucket}/plain` }));
  assert.equal(copied.ServerSideEncryption, undefined);
  assert.deepEqual(await keys(), ['copied', 'plain']);
});
