/**
 * CopyObject through the AWS SDK for JavaScript v3: COPY and REPLACE metadata
 * directives, x-amz-copy-source-if-* conditions, copying onto itself, across
 * buckets, missing sources, and keys with special characters in the copy source.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand, CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Hex, patternBytes, rejectsWith, uniqueBucket } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const src = uniqueBucket('copy-src');
const dst = uniqueBucket('copy-dst');
const BODY = 'the source object body';
let sourceEtag = '';
let sourceModified = new Date(0);

/** x-amz-copy-source as S3 wants it: bucket/key, URL-encoded (slashes may stay). */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: src }));
  await s3.send(new CreateBucketCommand({ Bucket: dst }));
  const put = await s3.send(new PutObjectCommand({
    Bucket: src, Key: 'source', Body: BODY,
    ContentType: 'text/plain', CacheControl: 'max-age=10', ContentDisposition: 'inline', ContentLanguage: 'de',
    Metadata: { origin: 'source', shared: 'from-source' },
  }));
  sourceEtag = put.ETag!;
  sourceModified = (await s3.send(new HeadObjectCommand({ Bucket: src, Key: 'source' }))).LastModified!;
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function text(bucket: string, key: string): Promise<string> {
  return (await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).toString();
}

describe('metadata directives', () => {
  test('COPY (the default) copies bytes, ETag, content headers and user metadata', async () => {
    const out = await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'copied', CopySource: copySource(src, 'source') }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.CopyObjectResult?.ETag, sourceEtag);
    assert.ok(out.CopyObjectResult?.LastModified instanceof Date);
    const h = await s3.send(new HeadObjectCommand({ Bucket: dst, Key: 'copied' }));
    assert.equal(h.ETag, sourceEtag);
    assert.equal(h.ContentType, 'text/plain');
    assert.equal(h.CacheControl, 'max-age=10');
    assert.equal(h.ContentDisposition, 'inline');
    assert.equal(h.ContentLanguage, 'de');
    assert.deepEqual(h.Metadata, { origin: 'source', shared: 'from-source' });
    assert.equal(await text(dst, 'copied'), BODY);
  });

  test('with COPY, metadata sent with the request is ignored', async () => {
    await s3.send(new CopyObjectCommand({
      Bucket: dst, Key: 'copied-ignoring', CopySource: copySource(src, 'source'),
      MetadataDirective: 'COPY', Metadata: { ignored: 'yes' }, ContentType: 'application/ignored',
    }));
    const h = await s3.send(new HeadObjectCommand({ Bucket: dst, Key: 'copied-ignoring' }));
    assert.deepEqual(h.Metadata, { origin: 'source', shared: 'from-source' });
    assert.equal(h.ContentType, 'text/plain');
  });

  test('REPLACE takes content headers and metadata from the request only', async () => {
    await s3.send(new CopyObjectCommand({
      Bucket: dst, Key: 'replaced', CopySource: copySource(src, 'source'),
      MetadataDirective: 'REPLACE', Metadata: { fresh: 'value' }, ContentType: 'application/json',
    }));
    const h = await s3.send(new HeadObjectCommand({ Bucket: dst, Key: 'replaced' }));
    assert.deepEqual(h.Metadata, { fresh: 'value' });
    assert.equal(h.ContentType, 'application/json');
    assert.equal(h.CacheControl, undefined);
    assert.equal(h.ContentLanguage, undefined);
    assert.equal(h.ETag, sourceEtag);
    assert.equal(await text(dst, 'replaced'), BODY);
  });

  test('a StorageClass given with the copy applies to the new object', async () => {
    await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'copied-ia', CopySource: copySource(src, 'source'), StorageClass: 'STANDARD_IA' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: dst, Key: 'copied-ia' }))).StorageClass, 'STANDARD_IA');
  });
});

describe('copy-source conditions', () => {
  const hourAgo = (): Date => new Date(sourceModified.getTime() - 3600_000);
  const hourAhead = (): Date => new Date(sourceModified.getTime() + 3600_000);
  const copy = (extra: Partial<ConstructorParameters<typeof CopyObjectCommand>[0]>) =>
    s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'conditional', CopySource: copySource(src, 'source'), ...extra }));

  test('CopySourceIfMatch: the ETag copies, another ETag is 412 PreconditionFailed', async () => {
    assert.equal((await copy({ CopySourceIfMatch: sourceEtag })).$metadata.httpStatusCode, 200);
    await rejectsWith(copy({ CopySourceIfMatch: '"00000000000000000000000000000000"' }), 'PreconditionFailed', 412);
  });

  test('CopySourceIfNoneMatch: the ETag is 412, another ETag copies', async () => {
    await rejectsWith(copy({ CopySourceIfNoneMatch: sourceEtag }), 'PreconditionFailed', 412);
    assert.equal((await copy({ CopySourceIfNoneMatch: '"00000000000000000000000000000000"' })).$metadata.httpStatusCode, 200);
  });

  test('CopySourceIfModifiedSince: at Last-Modified is 412, before it copies', async () => {
    await rejectsWith(copy({ CopySourceIfModifiedSince: sourceModified }), 'PreconditionFailed', 412);
    assert.equal((await copy({ CopySourceIfModifiedSince: hourAgo() })).$metadata.httpStatusCode, 200);
  });

  test('CopySourceIfUnmodifiedSince: before Last-Modified is 412, after it copies', async () => {
    await rejectsWith(copy({ CopySourceIfUnmodifiedSince: hourAgo() }), 'PreconditionFailed', 412);
    assert.equal((await copy({ CopySourceIfUnmodifiedSince: hourAhead() })).$metadata.httpStatusCode, 200);
  });

  test('if-match true with if-unmodified-since false copies (S3 precedence)', async () => {
    assert.equal((await copy({ CopySourceIfMatch: sourceEtag, CopySourceIfUnmodifiedSince: hourAgo() })).$metadata.httpStatusCode, 200);
  });

  test('if-none-match false with if-modified-since true is 412 (S3 precedence)', async () => {
    await rejectsWith(copy({ CopySourceIfNoneMatch: sourceEtag, CopySourceIfModifiedSince: hourAgo() }), 'PreconditionFailed', 412);
  });
});

describe('copying onto itself', () => {
  test('without REPLACE is InvalidRequest (400)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'self', Body: 'me', Metadata: { v: '1' } }));
    await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: src, Key: 'self', CopySource: copySource(src, 'self') })), 'InvalidRequest', 400);
  });

  test('with REPLACE is allowed and changes the metadata', async () => {
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'self-replace', Body: 'me', Metadata: { v: '1' } }));
    const out = await s3.send(new CopyObjectCommand({
      Bucket: src, Key: 'self-replace', CopySource: copySource(src, 'self-replace'), MetadataDirective: 'REPLACE', Metadata: { v: '2' },
    }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: src, Key: 'self-replace' }))).Metadata, { v: '2' });
    assert.equal(await text(src, 'self-replace'), 'me');
  });
});

describe('sources', () => {
  test('copies across buckets, including an object stored in a blob file', async () => {
    const data = patternBytes(200_000, 13);
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'big', Body: data }));
    const out = await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'big-copy', CopySource: copySource(src, 'big') }));
    assert.equal(out.CopyObjectResult?.ETag, `"${md5Hex(data)}"`);
    assert.deepEqual(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: dst, Key: 'big-copy' }))).Body), data);
    // The source is untouched.
    assert.deepEqual(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: src, Key: 'big' }))).Body), data);
  });

  test('a missing source key is NoSuchKey (404)', async () => {
    await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'x', CopySource: copySource(src, 'does-not-exist') })), 'NoSuchKey', 404);
  });

  test('a missing source bucket is NoSuchBucket (404)', async () => {
    await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'x', CopySource: copySource(uniqueBucket('nobucket'), 'k') })), 'NoSuchBucket', 404);
  });

  test('a leading slash in the copy source is accepted', async () => {
    await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'leading-slash', CopySource: `/${copySource(src, 'source')}` }));
    assert.equal(await text(dst, 'leading-slash'), BODY);
  });

  test("CopySource '?versionId=null' names the only version of an unversioned object", async () => {
    await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'by-version', CopySource: `${copySource(src, 'source')}?versionId=null` }));
    assert.equal(await text(dst, 'by-version'), BODY);
  });

  test('keys with special characters in the copy source', async () => {
    const keys = [
      'with space', 'plus+sign', 'percent%25and%', 'question?mark', 'hash#tag', 'amp&er=sand', 'semi;colon',
      'unicode-\u00fc\u00e9-\u65e5\u672c-\u{1F600}', 'dir/sub dir/file+1.txt', 'trailing/', 'double//slash', '../dot-dot',
      "quote'apos\"", 'tilde~star*paren()', 'comma,colon:at@dollar$',
    ];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: src, Key: key, Body: `body of ${key}` }));
      await s3.send(new CopyObjectCommand({ Bucket: dst, Key: `copy/${key}`, CopySource: copySource(src, key) }))
        .catch((err: unknown) => { throw new Error(`copy of ${JSON.stringify(key)}: ${String(err)}`); });
      assert.equal(await text(dst, `copy/${key}`), `body of ${key}`, key);
    }
    // The whole source fully encoded (slashes too) names the same object.
    const key = keys[7]!;
    await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'fully-encoded', CopySource: encodeURIComponent(`${src}/${key}`) }));
    assert.equal(await text(dst, 'fully-encoded'), `body of ${key}`);
  });
});
