/**
 * Presigned URLs made by @aws-sdk/s3-request-presigner (getSignedUrl, default
 * client settings) and used with plain fetch: GET and PUT, headers the SDK
 * hoists into the query, response overrides, expiry (X-Amz-Expires zero,
 * negative, elapsed) and tampering.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Hex, patternBytes, rejectsWith, uniqueBucket, xmlValue } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('presigned');

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello, presigned world', ContentType: 'text/plain' }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function expectError(response: Response, status: number, code: string): Promise<string> {
  const body = await response.text();
  assert.equal(response.status, status, body);
  assert.equal(xmlValue(body, 'Code'), code, body);
  assert.match(response.headers.get('content-type') ?? '', /xml/);
  return body;
}

describe('presigned GET', () => {
  test('fetches the object', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 300 });
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'hello, presigned world');
    assert.equal(response.headers.get('content-type'), 'text/plain');
    assert.equal(response.headers.get('etag'), `"${md5Hex('hello, presigned world')}"`);
  });

  test('response overrides in the URL set the response headers', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({
      Bucket: bucket, Key: 'hello.txt', ResponseContentDisposition: 'attachment; filename="greeting.txt"', ResponseContentType: 'application/x-download',
    }), { expiresIn: 300 });
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-disposition'), 'attachment; filename="greeting.txt"');
    assert.equal(response.headers.get('content-type'), 'application/x-download');
    await response.arrayBuffer();
  });

  test('a Range header works with a presigned URL', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 300 });
    const response = await fetch(url, { headers: { range: 'bytes=0-4' } });
    assert.equal(response.status, 206);
    assert.equal(await response.text(), 'hello');
  });

  test('a missing key is 404 NoSuchKey', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'nope' }), { expiresIn: 300 });
    await expectError(await fetch(url), 404, 'NoSuchKey');
  });
});

describe('presigned PUT', () => {
  test('uploads with plain fetch; the object reads back through the SDK', async () => {
    const data = patternBytes(50_000, 17);
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'uploaded.bin' }), { expiresIn: 300 });
    const response = await fetch(url, { method: 'PUT', body: data });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get('etag'), `"${md5Hex(data)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'uploaded.bin' }));
    assert.deepEqual(await bodyBytes(got.Body), data);
  });

  test('the CRC32 of an empty body that SDK v3 signs into the URL does not fail the upload (S3 ignores it)', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'with-checksum-param' }), { expiresIn: 300 });
    // The default client (requestChecksumCalculation WHEN_SUPPORTED) puts these in the URL.
    assert.match(url, /[?&]x-amz-checksum-crc32=AAAAAA%3D%3D(&|$)/);
    const response = await fetch(url, { method: 'PUT', body: 'not an empty body' });
    assert.equal(response.status, 200, await response.clone().text());
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'with-checksum-param' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'not an empty body');
  });

  test('metadata and storage class hoisted into the URL are applied to the object', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({
      Bucket: bucket, Key: 'hoisted', Metadata: { purpose: 'test', 'multi-word': 'some value' }, StorageClass: 'STANDARD_IA',
    }), { expiresIn: 300 });
    assert.match(url, /x-amz-meta-purpose=test/, 'the SDK hoists x-amz-meta-* into the query');
    const response = await fetch(url, { method: 'PUT', body: 'with metadata' });
    assert.equal(response.status, 200, await response.clone().text());
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'hoisted' }));
    assert.deepEqual(head.Metadata, { purpose: 'test', 'multi-word': 'some value' });
    assert.equal(head.StorageClass, 'STANDARD_IA');
  });

  test('the Content-Type the uploader sends is stored', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'typed.json' }), { expiresIn: 300 });
    const response = await fetch(url, { method: 'PUT', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 200);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'typed.json' }))).ContentType, 'application/json');
  });

  test('keys with spaces, plus signs and unicode work through presigned URLs', async () => {
    for (const key of ['dir/with space.txt', 'plus+sign', '\u00fcber/\u65e5\u672c/\u{1F600}']) {
      const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
      assert.equal((await fetch(put, { method: 'PUT', body: key })).status, 200, key);
      const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
      const response = await fetch(get);
      assert.equal(response.status, 200, key);
      assert.equal(await response.text(), key);
    }
  });
});

describe('presigned URL failures', () => {
  test('an expired URL is 403 AccessDenied', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 1 });
    await sleep(2000);
    const body = await expectError(await fetch(url), 403, 'AccessDenied');
    assert.match(xmlValue(body, 'Message') ?? '', /expired/i);
  });

  test('a URL valid for zero seconds is 403 AccessDenied "Request has expired"', async () => {
    const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 0 });
    assert.match(get, /[?&]X-Amz-Expires=0(&|$)/);
    assert.equal(xmlValue(await expectError(await fetch(get), 403, 'AccessDenied'), 'Message'), 'Request has expired');
    const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 0 });
    await expectError(await fetch(put, { method: 'PUT', body: 'overwrite attempt' }), 403, 'AccessDenied');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'hello, presigned world');
  });

  test('a negative X-Amz-Expires is 400 AuthorizationQueryParametersError and writes nothing', async () => {
    const get = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: -7 });
    const body = await expectError(await fetch(get), 400, 'AuthorizationQueryParametersError');
    assert.equal(xmlValue(body, 'Message'), 'X-Amz-Expires must be non-negative');
    const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'negative-expiry' }), { expiresIn: -1000 });
    await expectError(await fetch(put, { method: 'PUT', body: 'never stored' }), 400, 'AuthorizationQueryParametersError');
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'negative-expiry' })), 'NotFound', 404);
  });

  test('a tampered signature is 403 SignatureDoesNotMatch', async () => {
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 300 }));
    const signature = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
    await expectError(await fetch(url), 403, 'SignatureDoesNotMatch');
  });

  test('a URL used for another key is 403 SignatureDoesNotMatch', async () => {
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 300 }));
    url.pathname = url.pathname.replace('hello.txt', 'uploaded.bin');
    await expectError(await fetch(url), 403, 'SignatureDoesNotMatch');
  });

  test('a GET URL used to PUT is 403 SignatureDoesNotMatch and writes nothing', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }), { expiresIn: 300 });
    await expectError(await fetch(url, { method: 'PUT', body: 'overwrite attempt' }), 403, 'SignatureDoesNotMatch');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'hello, presigned world');
  });

  test('a hoisted parameter changed after signing is 403 SignatureDoesNotMatch', async () => {
    const url = new URL(await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'meta-tamper', Metadata: { role: 'user' } }), { expiresIn: 300 }));
    url.searchParams.set('x-amz-meta-role', 'admin');
    await expectError(await fetch(url, { method: 'PUT', body: 'x' }), 403, 'SignatureDoesNotMatch');
  });
});
