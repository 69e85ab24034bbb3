/**
 * Conditional writes through the AWS SDK for JavaScript v3: PutObject with
 * If-None-Match: * and If-Match, and a race of concurrent create-only PUTs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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
