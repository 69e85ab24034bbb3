/**
 * Conditional writes through the AWS SDK for JavaScript v3: PutObject and
 * CompleteMultipartUpload with If-None-Match: * and If-Match, and a race of
 * concurrent create-only PUTs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, patternBytes, rejectsWith, uniqueBucket, type SdkError } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('cond-write');

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function text(key: string): Promise<string> {
  return (await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).toString();
}

describe("If-None-Match: '*'", () => {
  test('creates a new key, then 412 PreconditionFailed once it exists; the first body stays', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'create-only', Body: 'first', IfNoneMatch: '*' }));
    assert.equal(first.$metadata.httpStatusCode, 200);
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'create-only', Body: 'second', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
    assert.equal(await text('create-only'), 'first');
  });

  test('also for bodies above the inline threshold', async () => {
    const body = patternBytes(100_000, 4);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'create-only-large', Body: body, IfNoneMatch: '*' }));
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'create-only-large', Body: patternBytes(100_000, 5), IfNoneMatch: '*',
    })), 'PreconditionFailed', 412);
    assert.deepEqual(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'create-only-large' }))).Body), body);
  });
});

describe('If-Match', () => {
  test('the current ETag replaces the object; another ETag is 412 and changes nothing', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v1' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v2', IfMatch: v1.ETag! }));
    assert.equal(v2.$metadata.httpStatusCode, 200);
    assert.equal(await text('cas'), 'v2');
    // v1's ETag is stale now.
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas', Body: 'v3', IfMatch: v1.ETag! })), 'PreconditionFailed', 412);
    assert.equal(await text('cas'), 'v2');
  });

  test('the ETag without quotes is accepted too', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas-bare', Body: 'v1' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cas-bare', Body: 'v2', IfMatch: v1.ETag!.replace(/"/g, '') }));
    assert.equal(await text('cas-bare'), 'v2');
  });
});

describe('If-Match on PutObject of a missing key', () => {
  test("'*' and an ETag are both 404 NoSuchKey, and nothing is stored", async () => {
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'never', Body: 'x', IfMatch: '*' })), 'NoSuchKey', 404);
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'never', Body: 'x', IfMatch: '"0123456789abcdef0123456789abcdef"' })), 'NoSuchKey', 404);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'never' })), 'NoSuchKey', 404);
  });
});

describe('CompleteMultipartUpload', () => {
  /** An upload of `key` with one part holding `body`, ready to complete. */
  async function prepared(key: string, body: string) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: body }));
    const complete = (conditions: { IfMatch?: string; IfNoneMatch?: string }) => s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, ...conditions,
    }));
    const partsLeft = async () => (await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }))).Parts?.length ?? 0;
    return { complete, partsLeft };
  }

  test("If-None-Match: '*' completes a new key; once it exists, 412 and the upload stays open", async () => {
    const first = await prepared('mp-create-only', 'first');
    await first.complete({ IfNoneMatch: '*' });
    assert.equal(await text('mp-create-only'), 'first');
    const second = await prepared('mp-create-only', 'second');
    await rejectsWith(second.complete({ IfNoneMatch: '*' }), 'PreconditionFailed', 412);
    assert.equal(await text('mp-create-only'), 'first');
    assert.equal(await second.partsLeft(), 1, 'a failed condition leaves the upload as it was');
  });

  test('If-Match: the current ETag completes; a stale one is 412; a missing key is 404 NoSuchKey', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'mp-cas', Body: 'v1' }));
    const done = await (await prepared('mp-cas', 'v2')).complete({ IfMatch: v1.ETag! });
    assert.equal(await text('mp-cas'), 'v2');
    await rejectsWith((await prepared('mp-cas', 'v3')).complete({ IfMatch: v1.ETag! }), 'PreconditionFailed', 412);
    await (await prepared('mp-cas', 'v4')).complete({ IfMatch: done.ETag! });
    assert.equal(await text('mp-cas'), 'v4');
    await (await prepared('mp-cas', 'v5')).complete({ IfMatch: '*' });
    assert.equal(await text('mp-cas'), 'v5');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'mp-cas' }));
    await rejectsWith((await prepared('mp-cas', 'v6')).complete({ IfMatch: '*' }), 'NoSuchKey', 404);
    await rejectsWith((await prepared('mp-cas', 'v7')).complete({ IfMatch: done.ETag! }), 'NoSuchKey', 404);
  });

  test('If-None-Match with an ETag is 501 NotImplemented, as S3 answers', async () => {
    await rejectsWith((await prepared('mp-none-match-etag', 'x')).complete({ IfNoneMatch: '"0123456789abcdef0123456789abcdef"' }), 'NotImplemented', 501);
  });
});

describe('race', () => {
  test("10 concurrent If-None-Match: '*' PUTs of one new key: exactly one 200 and nine 412", async () => {
    const bodies = Array.from({ length: 10 }, (_, i) => `writer ${i}`);
    const results = await Promise.allSettled(bodies.map((body) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'race', Body: body, IfNoneMatch: '*' }))));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as SdkError] : []));
    assert.equal(winners.length, 1, `one winner, got ${winners.length}`);
    assert.equal(losers.length, 9);
    for (const err of losers) {
      assert.equal(err.$metadata.httpStatusCode, 412, `${err.name}: ${err.message}`);
      assert.equal(err.name, 'PreconditionFailed');
    }
    // What is stored is the winner's body.
    assert.equal(await text('race'), bodies[winners[0]!]);
  });
});
