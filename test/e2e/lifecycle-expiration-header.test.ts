/**
 * x-amz-expiration through the AWS SDK for JavaScript v3: PutObject, CopyObject,
 * CompleteMultipartUpload, GetObject and HeadObject of an object a rule will
 * expire say when (S3's day rounding: up to the next midnight UTC) and which
 * rule; objects no expiration rule matches get no header. With a shortened day
 * the date is the one the lifecycle worker will act on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectTaggingCommand, GetObjectCommand,
  HeadObjectCommand, PutObjectCommand, PutObjectTaggingCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { midnightUtc, putLifecycle } from './lifecycle-helpers.js';
import { newBucket } from './s3-helpers.js';

/** The two parts of S3's header value. */
function parseExpiration(header: string | undefined): { date: number; ruleId: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^expiry-date="([^"]+)", rule-id="([^"]*)"$/.exec(header);
  assert.ok(m, `x-amz-expiration as S3 writes it: ${header}`);
  return { date: Date.parse(m[1]!), ruleId: m[2]! };
}

describe('with full-length days', () => {
  let server: RunningServer;
  let s3: S3Client;
  let bucket = '';
  const DATE = midnightUtc(40);

  before(async () => {
    server = await startServer();
    s3 = s3Client(server);
    bucket = await newBucket(s3, 'lc-header');
    await putLifecycle(s3, bucket, [
      { ID: 'later', Status: 'Enabled', Filter: { Prefix: 'days1/' }, Expiration: { Days: 5 } },
      { ID: 'days1', Status: 'Enabled', Filter: { Prefix: 'days1/' }, Expiration: { Days: 1 } },
      { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'off/' }, Expiration: { Days: 1 } },
      { ID: 'tiering only', Status: 'Enabled', Filter: { Prefix: 'ia/' }, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }] },
      { ID: 'dated', Status: 'Enabled', Filter: { Prefix: 'dated/' }, Expiration: { Date: DATE } },
      { ID: 'tag "k" é', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, Expiration: { Days: 3 } },
    ]);
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  test('PutObject, HeadObject and GetObject name the earliest matching rule and its midnight', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'days1/a', Body: 'a' }));
    const expected = { date: midnightUtc(2).getTime(), ruleId: 'days1' };
    assert.deepEqual(parseExpiration(put.Expiration), expected);
    assert.deepEqual(parseExpiration((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'days1/a' }))).Expiration), expected);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'days1/a' }));
    await got.Body?.transformToByteArray();
    assert.deepEqual(parseExpiration(got.Expiration), expected);
  });

  test('CopyObject and CompleteMultipartUpload report the expiration of the object they wrote', async () => {
    const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'days1/copy', CopySource: `${bucket}/days1/a` }));
    assert.equal(parseExpiration(copied.Expiration)?.ruleId, 'days1');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'dated/mpu' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'dated/mpu', UploadId, PartNumber: 1, Body: 'p' }));
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'dated/mpu', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
    }));
    assert.deepEqual(parseExpiration(done.Expiration), { date: DATE.getTime(), ruleId: 'dated' });
  });

  test('no header for objects no enabled expiration rule matches', async () => {
    for (const key of ['plain', 'off/x', 'ia/x']) {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      assert.equal(put.Expiration, undefined, key);
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Expiration, undefined, key);
    }
  });

  test('a tag filter follows the object\'s tags; a rule ID is carried in printable ASCII', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 't', Tagging: 'k=v' }));
    assert.deepEqual(parseExpiration(put.Expiration), { date: midnightUtc(4).getTime(), ruleId: 'tag %22k%22 %C3%A9' });
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tagged' }))).Expiration, undefined);
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }));
    assert.equal(parseExpiration((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tagged' }))).Expiration)?.ruleId, 'tag %22k%22 %C3%A9');
  });
});

describe('with a shortened day', () => {
  test('the date is when the worker will expire the object: exactly n short days after its creation', async () => {
    const daySeconds = 30;
    const server = await startServer({ args: ['--lifecycle-day-seconds', String(daySeconds)] });
    const s3 = s3Client(server);
    try {
      const bucket = await newBucket(s3, 'lc-header-short');
      await putLifecycle(s3, bucket, [{ ID: 'two', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 2 } }]);
      const sent = Date.now();
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'soon', Body: 's' }));
      const answered = Date.now();
      const notice = parseExpiration(put.Expiration)!;
      assert.equal(notice.ruleId, 'two');
      // The header's date has whole seconds.
      assert.ok(notice.date >= Math.floor((sent + 2 * daySeconds * 1000) / 1000) * 1000, `${new Date(notice.date).toISOString()} too early`);
      assert.ok(notice.date <= answered + 2 * daySeconds * 1000, `${new Date(notice.date).toISOString()} too late`);
    } finally {
      s3.destroy();
      await server.stop();
    }
  });
});
