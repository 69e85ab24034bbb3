/**
 * GetObject and HeadObject through the AWS SDK for JavaScript v3: byte ranges,
 * conditional reads with S3's precedence, Response* header overrides, missing
 * keys and buckets, and `versionId=null`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, patternBytes, rejectsWith, rejectsWithStatus, uniqueBucket } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('get');
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';
/** Above the inline threshold, so ranges are read from a blob file. */
const LARGE = patternBytes(100_000, 9);
let etag = '';
let lastModified = new Date(0);

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'alphabet', Body: ALPHABET, ContentType: 'text/plain' }));
  etag = put.ETag!;
  lastModified = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'alphabet' }))).LastModified!;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'large', Body: LARGE }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function getText(input: Omit<ConstructorParameters<typeof GetObjectCommand>[0], 'Bucket'>): Promise<{ text: string; out: Awaited<ReturnType<typeof getObject>> }> {
  const out = await getObject(input);
  return { text: (await bodyBytes(out.Body)).toString(), out };
}

function getObject(input: Omit<ConstructorParameters<typeof GetObjectCommand>[0], 'Bucket'>) {
  return s3.send(new GetObjectCommand({ Bucket: bucket, ...input }));
}

describe('Range', () => {
  test('bytes=0-9 is 206 with Content-Range and the first ten bytes', async () => {
    const { text, out } = await getText({ Key: 'alphabet', Range: 'bytes=0-9' });
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(text, 'abcdefghij');
    assert.equal(out.ContentRange, 'bytes 0-9/26');
    assert.equal(out.ContentLength, 10);
    assert.equal(out.ETag, etag);
    assert.equal(out.AcceptRanges, 'bytes');
  });

  test('bytes=5- is everything from offset 5', async () => {
    const { text, out } = await getText({ Key: 'alphabet', Range: 'bytes=5-' });
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(text, ALPHABET.slice(5));
    assert.equal(out.ContentRange, 'bytes 5-25/26');
    assert.equal(out.ContentLength, 21);
  });

  test('bytes=-5 is the last five bytes', async () => {
    const { text, out } = await getText({ Key: 'alphabet', Range: 'bytes=-5' });
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(text, 'vwxyz');
    assert.equal(out.ContentRange, 'bytes 21-25/26');
  });

  test('a range whose end is past the end is cut to the object', async () => {
    const { text, out } = await getText({ Key: 'alphabet', Range: 'bytes=20-1000' });
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(text, 'uvwxyz');
    assert.equal(out.ContentRange, 'bytes 20-25/26');
  });

  test('a suffix longer than the object is the whole object, still 206', async () => {
    const { text, out } = await getText({ Key: 'alphabet', Range: 'bytes=-100' });
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(text, ALPHABET);
    assert.equal(out.ContentRange, 'bytes 0-25/26');
  });

  test('a range that starts past the end is 416 InvalidRange', async () => {
    await rejectsWith(getObject({ Key: 'alphabet', Range: 'bytes=26-' }), 'InvalidRange', 416);
    await rejectsWith(getObject({ Key: 'alphabet', Range: 'bytes=100-200' }), 'InvalidRange', 416);
  });

  test('ranges of an object stored in a blob file, across its whole length', async () => {
    for (const [start, end] of [[0, 0], [1, 65_536], [65_535, 65_537], [99_990, 99_999]] as const) {
      const out = await getObject({ Key: 'large', Range: `bytes=${start}-${end}` });
      assert.equal(out.ContentRange, `bytes ${start}-${end}/${LARGE.length}`);
      assert.deepEqual(await bodyBytes(out.Body), LARGE.subarray(start, end + 1));
    }
  });

  test('HeadObject with a Range reports the range', async () => {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'alphabet', Range: 'bytes=0-9' }));
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(out.ContentLength, 10);
    assert.equal(out.ContentRange, 'bytes 0-9/26');
  });
});

describe('conditional reads', () => {
  const hourAgo = (): Date => new Date(lastModified.getTime() - 3600_000);
  const hourAhead = (): Date => new Date(lastModified.getTime() + 3600_000);

  test('If-Match with the ETag is 200; with another ETag 412 PreconditionFailed', async () => {
    assert.equal((await getText({ Key: 'alphabet', IfMatch: etag })).text, ALPHABET);
    assert.equal((await getText({ Key: 'alphabet', IfMatch: '*' })).text, ALPHABET);
    await rejectsWith(getObject({ Key: 'alphabet', IfMatch: '"0123456789abcdef0123456789abcdef"' }), 'PreconditionFailed', 412);
  });

  test('If-None-Match with the ETag is 304; with another ETag 200', async () => {
    await rejectsWithStatus(getObject({ Key: 'alphabet', IfNoneMatch: etag }), 304);
    await rejectsWithStatus(getObject({ Key: 'alphabet', IfNoneMatch: '*' }), 304);
    assert.equal((await getText({ Key: 'alphabet', IfNoneMatch: '"0123456789abcdef0123456789abcdef"' })).text, ALPHABET);
  });

  test('If-Modified-Since: 304 at or after Last-Modified, 200 before it', async () => {
    // Last-Modified itself, not a future date: servers may ignore an If-Modified-Since later than their clock.
    await rejectsWithStatus(getObject({ Key: 'alphabet', IfModifiedSince: lastModified }), 304);
    assert.equal((await getText({ Key: 'alphabet', IfModifiedSince: hourAgo() })).text, ALPHABET);
  });

  test('If-Unmodified-Since: 412 before Last-Modified, 200 at or after it', async () => {
    await rejectsWith(getObject({ Key: 'alphabet', IfUnmodifiedSince: hourAgo() }), 'PreconditionFailed', 412);
    assert.equal((await getText({ Key: 'alphabet', IfUnmodifiedSince: lastModified })).text, ALPHABET);
    assert.equal((await getText({ Key: 'alphabet', IfUnmodifiedSince: hourAhead() })).text, ALPHABET);
  });

  test('If-Match true and If-Unmodified-Since false: 200 (If-Match decides)', async () => {
    const { text, out } = await getText({ Key: 'alphabet', IfMatch: etag, IfUnmodifiedSince: hourAgo() });
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(text, ALPHABET);
  });

  test('If-None-Match false and If-Modified-Since true: 304 (If-None-Match decides)', async () => {
    await rejectsWithStatus(getObject({ Key: 'alphabet', IfNoneMatch: etag, IfModifiedSince: hourAgo() }), 304);
  });

  test('If-None-Match true and If-Modified-Since false: 200 (If-None-Match decides)', async () => {
    const { text } = await getText({ Key: 'alphabet', IfNoneMatch: '"ffffffffffffffffffffffffffffffff"', IfModifiedSince: lastModified });
    assert.equal(text, ALPHABET);
  });

  test('a failing If-Match wins over a matching If-None-Match: 412, not 304', async () => {
    await rejectsWith(getObject({ Key: 'alphabet', IfMatch: '"ffffffffffffffffffffffffffffffff"', IfNoneMatch: etag }), 'PreconditionFailed', 412);
  });

  test('HeadObject honours the same conditions (412 and 304 have no body)', async () => {
    await rejectsWithStatus(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'alphabet', IfMatch: '"ffffffffffffffffffffffffffffffff"' })), 412);
    await rejectsWithStatus(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'alphabet', IfNoneMatch: etag })), 304);
    const ok = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'alphabet', IfMatch: etag, IfModifiedSince: hourAgo() }));
    assert.equal(ok.$metadata.httpStatusCode, 200);
  });

  test('a condition and a Range together: the range is served when the condition holds', async () => {
    const { text, out } = await getText({ Key: 'alphabet', Range: 'bytes=0-2', IfMatch: etag });
    assert.equal(out.$metadata.httpStatusCode, 206);
    assert.equal(text, 'abc');
    await rejectsWith(getObject({ Key: 'alphabet', Range: 'bytes=0-2', IfMatch: '"ffffffffffffffffffffffffffffffff"' }), 'PreconditionFailed', 412);
  });
});

describe('Response* overrides', () => {
  test('ResponseContentType and the other overrides replace the stored headers in the response', async () => {
    const expires = new Date('2031-05-06T07:08:09Z');
    const { text, out } = await getText({
      Key: 'alphabet',
      ResponseContentType: 'application/x-override',
      ResponseContentLanguage: 'fr-CA',
      ResponseContentDisposition: 'attachment; filename="letters.txt"',
      ResponseContentEncoding: 'identity',
      ResponseCacheControl: 'no-store',
      ResponseExpires: expires,
    });
    assert.equal(text, ALPHABET);
    assert.equal(out.ContentType, 'application/x-override');
    assert.equal(out.ContentLanguage, 'fr-CA');
    assert.equal(out.ContentDisposition, 'attachment; filename="letters.txt"');
    assert.equal(out.ContentEncoding, 'identity');
    assert.equal(out.CacheControl, 'no-store');
    assert.equal(out.Expires?.getTime(), expires.getTime());
  });

  test('without overrides the stored Content-Type comes back', async () => {
    const { out } = await getText({ Key: 'alphabet' });
    assert.equal(out.ContentType, 'text/plain');
  });
});

describe('missing objects', () => {
  test('HeadObject on a missing key is 404 NotFound', async () => {
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' })), 'NotFound', 404);
  });

  test('GetObject on a missing key is 404 NoSuchKey, naming the key', async () => {
    const err = await rejectsWith(getObject({ Key: 'missing/key' }), 'NoSuchKey', 404);
    assert.equal(err.Code, 'NoSuchKey');
    assert.equal(err.Key, 'missing/key');
  });

  test('GetObject in a missing bucket is 404 NoSuchBucket', async () => {
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: uniqueBucket('absent'), Key: 'k' })), 'NoSuchBucket', 404);
  });
});

describe("versionId 'null'", () => {
  test("GET and HEAD accept VersionId 'null' in an unversioned bucket", async () => {
    const { text } = await getText({ Key: 'alphabet', VersionId: 'null' });
    assert.equal(text, ALPHABET);
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'alphabet', VersionId: 'null' }));
    assert.equal(h.ETag, etag);
  });

  test("DELETE accepts VersionId 'null' and removes the object", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'to-delete', Body: 'bye' }));
    const out = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'to-delete', VersionId: 'null' }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    await rejectsWith(getObject({ Key: 'to-delete' }), 'NoSuchKey', 404);
  });
});
