/**
 * Lifecycle rules as the AWS SDK for JavaScript v3 sees them run, on servers
 * whose lifecycle day lasts 0.2 s: Expiration by a Date in the past, storage
 * class edge cases, the versioning-only actions kept as given, and requests
 * served while a pass works through a large bucket.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetBucketLifecycleConfigurationCommand,
  GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectVersionsCommand, ListObjectsCommand,
  ListPartsCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand, UploadPartCommand,
  type LifecycleRule, type S3Client, type StorageClass,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { lifecycleCounts, midnightUtc, putAll, putLifecycle, storageClassesOf } from './lifecycle-helpers.js';
import { waitFor } from './production-helpers.js';
import { bodyBytes, newBucket, patternBytes, rejectsWith } from './s3-helpers.js';

const SHORT_DAY = ['--lifecycle-day-seconds', '0.2', '--gc-grace', '0'];

let server: RunningServer;
let s3: S3Client;

before(async () => {
  server = await startServer({ args: [...SHORT_DAY, '--lifecycle-interval', '0.1'] });
  s3 = s3Client(server);
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function bytesOf(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  return bodyBytes((await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
}

describe('Date-based expiration', () => {
  test('an Expiration Date in the past deletes every matching object on the next pass and leaves the others', async () => {
    const bucket = await newBucket(s3, 'lc-exp-date');
    // Objects written after the date expire too: a Date rule covers everything its filter matches from that day on.
    const objects = new Map<string, Buffer>([
      ['old/small', patternBytes(100, 1)], ['old/nested/big', patternBytes(200 * 1024, 2)],
      ['oldish', patternBytes(100, 3)], ['later/one', patternBytes(100, 4)], ['keep', patternBytes(50 * 1024, 5)],
    ]);
    await putAll(s3, bucket, objects);
    await putLifecycle(s3, bucket, [
      { ID: 'past', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Date: midnightUtc(-1) } },
      { ID: 'future', Status: 'Enabled', Filter: { Prefix: 'later/' }, Expiration: { Date: midnightUtc(30) } },
    ]);
    const left = await waitFor('the expired objects to go', async () => {
      const now = await storageClassesOf(s3, bucket);
      return now.has('old/small') || now.has('old/nested/big') ? undefined : now;
    });
    assert.deepEqual([...left.keys()], ['keep', 'later/one', 'oldish']);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'old/nested/big' })), 'NoSuchKey', 404);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'old/small' })), 'NotFound', 404);
    // Several lifecycle days later the others are still there, whole.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const key of ['keep', 'later/one', 'oldish']) assert.ok((await bytesOf(s3, bucket, key)).equals(objects.get(key)!), key);
  });
});

describe('storage class edge cases', () => {
  test('REDUCED_REDUNDANCY by copy and multipart is reported by HEAD, GET and every listing, and moves down by rule', async () => {
    const bucket = await newBucket(s3, 'lc-rrs');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'source', StorageClass: 'REDUCED_REDUNDANCY' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/src`, StorageClass: 'REDUCED_REDUNDANCY' }));
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', StorageClass: 'REDUCED_REDUNDANCY' }));
    assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.[0]?.StorageClass, 'REDUCED_REDUNDANCY');
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId!, PartNumber: 1, Body: 'part' }));
    assert.equal((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId! }))).StorageClass, 'REDUCED_REDUNDANCY');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId!, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
    for (const key of ['src', 'copy', 'mp']) {
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).StorageClass, 'REDUCED_REDUNDANCY', key);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(got.StorageClass, 'REDUCED_REDUNDANCY', key);
      await bodyBytes(got.Body);
    }
    const expected = { copy: 'REDUCED_REDUNDANCY', mp: 'REDUCED_REDUNDANCY', src: 'REDUCED_REDUNDANCY' };
    assert.deepEqual(Object.fromEntries(await storageClassesOf(s3, bucket)), expected);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket }));
    assert.deepEqual(Object.fromEntries((v1.Contents ?? []).map((o) => [o.Key, o.StorageClass])), expected);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    assert.deepEqual(Object.fromEntries((versions.Versions ?? []).map((o) => [o.Key, o.StorageClass])), expected);

    // REDUCED_REDUNDANCY sits at the top of the transition waterfall, with STANDARD.
    await putLifecycle(s3, bucket, [{ ID: 'down', Status: 'Enabled', Filter: { Prefix: 'mp' }, Transitions: [{ Days: 1, StorageClass: 'GLACIER_IR' }] }]);
    await waitFor('the transition', async () => ((await storageClassesOf(s3, bucket)).get('mp') === 'GLACIER_IR' ? true : undefined));
    assert.deepEqual(Object.fromEntries(await storageClassesOf(s3, bucket)), { ...expected, mp: 'GLACIER_IR' });
  });

  test('a copy without x-amz-storage-class is STANDARD, whatever the source\'s class', async () => {
    const bucket = await newBucket(s3, 'lc-copy-class');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ia', Body: 'infrequent', StorageClass: 'ONEZONE_IA' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'plain', CopySource: `${bucket}/ia` }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }))).StorageClass, undefined);
    // In place with new metadata, too: the class must be given again to be kept.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'ia', CopySource: `${bucket}/ia`, MetadataDirective: 'REPLACE', Metadata: { note: 'x' } }));
    assert.deepEqual(Object.fromEntries(await storageClassesOf(s3, bucket)), { ia: 'STANDARD', plain: 'STANDARD' });
  });

  test('CopyObject and CreateMultipartUpload with an unknown class are InvalidStorageClass (400) and create nothing', async () => {
    const bucket = await newBucket(s3, 'lc-bad-class');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'source', StorageClass: 'STANDARD_IA' }));
    for (const bogus of ['FROZEN', 'standard_ia']) {
      const storageClass = bogus as StorageClass;
      await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst', CopySource: `${bucket}/src`, StorageClass: storageClass })), 'InvalidStorageClass', 400);
      // Onto itself, where a valid class would change the object in place.
      await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'src', CopySource: `${bucket}/src`, StorageClass: storageClass })), 'InvalidStorageClass', 400);
      await rejectsWith(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', StorageClass: storageClass })), 'InvalidStorageClass', 400);
    }
    assert.deepEqual(Object.fromEntries(await storageClassesOf(s3, bucket)), { src: 'STANDARD_IA' });
    assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads, undefined);
    assert.equal((await bytesOf(s3, bucket, 'src')).toString(), 'source');
  });
});

describe('versioning-only actions', () => {
  test('ExpiredObjectDeleteMarker and NoncurrentVersion* round-trip unchanged and leave current objects alone', async () => {
    const bucket = await newBucket(s3, 'lc-noncurrent');
    const rules: LifecycleRule[] = [
      { ID: 'markers', Status: 'Enabled', Filter: { Prefix: 'm/' }, Expiration: { ExpiredObjectDeleteMarker: true } },
      { ID: 'markers-off', Status: 'Enabled', Filter: { Prefix: 'n/' }, Expiration: { ExpiredObjectDeleteMarker: false } },
      {
        ID: 'noncurrent', Status: 'Enabled', Filter: { Prefix: 'v/' },
        NoncurrentVersionTransitions: [
          { NoncurrentDays: 0, StorageClass: 'GLACIER_IR', NewerNoncurrentVersions: 2 },
          { NoncurrentDays: 1, StorageClass: 'DEEP_ARCHIVE' },
        ],
        NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 3 },
      },
      { ID: 'noncurrent-expiry', Status: 'Disabled', Filter: { And: { Prefix: 'w/', ObjectSizeGreaterThan: 5 } }, NoncurrentVersionExpiration: { NoncurrentDays: 7 } },
      // A canary: once it has acted, two lifecycle days have passed over every object below.
      { ID: 'canary', Status: 'Enabled', Filter: { Prefix: 'canary' }, Expiration: { Days: 2 } },
    ];
    await putLifecycle(s3, bucket, rules);
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    assert.deepEqual(got.Rules, rules);

    for (const key of ['m/object', 'n/object', 'v/object', 'w/object', 'canary']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
    await waitFor('the canary to expire', async () => ((await storageClassesOf(s3, bucket)).has('canary') ? undefined : true));
    assert.deepEqual(Object.fromEntries(await storageClassesOf(s3, bucket)), {
      'm/object': 'STANDARD', 'n/object': 'STANDARD', 'v/object': 'STANDARD', 'w/object': 'STANDARD',
    });
    assert.deepEqual((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules, rules);
  });
});

describe('a pass over a large bucket', () => {
  test('GET and PUT are served, and succeed, while a pass transitions 2500 objects', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cairn-lc-large-'));
    const bucket = 'large-pass';
    const objects = new Map<string, Buffer>();
    for (let i = 0; i < 2500; i++) objects.set(`data/${String(i).padStart(5, '0')}`, patternBytes(i % 50 === 0 ? 20 * 1024 : 200, i + 1));
    const keys = [...objects.keys()];
    const args = [...SHORT_DAY, '--lifecycle-interval', '0.1'];
    try {
      // Filled under full-length days, so nothing is due yet: a rule's day 0 ends at the next midnight UTC.
      const filling = await startServer({ dataDir, args: ['--gc-grace', '0'] });
      const fill = s3Client(filling);
      await fill.send(new CreateBucketCommand({ Bucket: bucket }));
      await putAll(fill, bucket, objects);
      await fill.send(new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket, LifecycleConfiguration: { Rules: [{ ID: 'ir', Status: 'Enabled', Filter: { Prefix: 'data/' }, Transitions: [{ Days: 0, StorageClass: 'GLACIER_IR' }] }] },
      }));
      fill.destroy();
      await filling.stop();

      const serving = await startServer({ dataDir, args });
      const client = s3Client(serving);
      try {
        const progress = async (): Promise<number> => (await lifecycleCounts(serving)).transitions('GLACIER_IR');
        const written = new Map<string, Buffer>();
        let duringPass = 0;
        await Promise.all(Array.from({ length: 4 }, async (_, c) => {
          for (let i = 0; ; i++) {
            const before = await progress();
            if (before >= objects.size) return;
            const key = keys[(c * 613 + i * 97) % keys.length]!;
            const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
            assert.ok(got.StorageClass === undefined || got.StorageClass === 'GLACIER_IR', `${key}: ${got.StorageClass}`);
            assert.ok((await bodyBytes(got.Body)).equals(objects.get(key)!), key);
            const fresh = `live/${c}-${i}`;
            const body = patternBytes(300, c * 10_000 + i);
            await client.send(new PutObjectCommand({ Bucket: bucket, Key: fresh, Body: body }));
            written.set(fresh, body);
            // Both requests ran between a first and a last object of the pass.
            if (before > 0 && await progress() < objects.size) duringPass++;
          }
        }));
        assert.ok(duringPass >= 10, `GET and PUT pairs served while the pass was half-way: ${duringPass}`);

        const classes = await storageClassesOf(client, bucket);
        assert.equal(classes.size, objects.size + written.size);
        for (const key of keys) assert.equal(classes.get(key), 'GLACIER_IR', key);
        for (const [key, body] of written) {
          assert.equal(classes.get(key), 'STANDARD', key);
          assert.ok((await bytesOf(client, bucket, key)).equals(body), key);
        }
        assert.equal(await progress(), objects.size, 'each object transitioned once');
      } finally {
        client.destroy();
        await serving.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
