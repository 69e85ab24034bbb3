/**
 * Bucket operations through the AWS SDK for JavaScript v3: CreateBucket (naming
 * rules, LocationConstraint, re-creating an owned bucket), HeadBucket,
 * GetBucketLocation, ListBuckets, DeleteBucket.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, DeleteBucketCommand, GetBucketLocationCommand, HeadBucketCommand, ListBucketsCommand,
  PutObjectCommand, DeleteObjectCommand, type BucketLocationConstraint, type S3Client,
} from '@aws-sdk/client-s3';
import { runCairn, s3Client, startServer, type RunningServer } from './harness.js';
import { rejectsWith, uniqueBucket } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

describe('CreateBucket', () => {
  test('creates a bucket and answers 200 with its Location', async () => {
    const name = uniqueBucket('create');
    const out = await s3.send(new CreateBucketCommand({ Bucket: name }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.Location, `/${name}`);
    const head = await s3.send(new HeadBucketCommand({ Bucket: name }));
    assert.equal(head.$metadata.httpStatusCode, 200);
  });

  test('names that break the naming rules are InvalidBucketName (400)', async () => {
    const bad = [
      'ab', // too short
      'a'.repeat(64), // too long
      'UpperCase-bucket', // upper case
      'under_score', // underscore
      '-leading-hyphen',
      'trailing-hyphen-',
      '.leading-dot',
      'double..dots',
      'dot-.hyphen',
      'hyphen-.dot',
      '192.168.5.4', // an IP address
      'xn--reserved-prefix',
      'sthree-reserved',
      'reserved-suffix-s3alias',
      'reserved--ol-s3',
    ];
    for (const name of bad) {
      await rejectsWith(s3.send(new CreateBucketCommand({ Bucket: name })), 'InvalidBucketName', 400)
        .catch((err: unknown) => { throw new Error(`bucket name ${JSON.stringify(name)}: ${String(err)}`); });
    }
  });

  test('names at the limits of the rules are accepted', async () => {
    for (const name of ['abc', 'a'.repeat(63), 'with.dots.and-hyphens', '0digits9', '192.168.5.x4']) {
      const out = await s3.send(new CreateBucketCommand({ Bucket: name }));
      assert.equal(out.$metadata.httpStatusCode, 200, name);
    }
  });

  test('LocationConstraint is stored and GetBucketLocation returns it', async () => {
    for (const location of ['EU', 'eu-west-1', 'us-west-2'] as const) {
      const name = uniqueBucket(`loc-${location.toLowerCase()}`);
      await s3.send(new CreateBucketCommand({
        Bucket: name, CreateBucketConfiguration: { LocationConstraint: location as BucketLocationConstraint },
      }));
      const got = await s3.send(new GetBucketLocationCommand({ Bucket: name }));
      assert.equal(got.LocationConstraint, location);
    }
  });

  test('a bucket created without LocationConstraint is in us-east-1: GetBucketLocation is empty', async () => {
    const name = uniqueBucket('loc-default');
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    const got = await s3.send(new GetBucketLocationCommand({ Bucket: name }));
    // S3 answers <LocationConstraint/> for us-east-1; the SDK reads that as empty or absent.
    assert.ok(got.LocationConstraint === undefined || (got.LocationConstraint as string) === '', `got ${String(got.LocationConstraint)}`);
  });

  test('HeadBucket reports the bucket region (EU is eu-west-1)', async () => {
    const eu = uniqueBucket('region-eu');
    await s3.send(new CreateBucketCommand({ Bucket: eu, CreateBucketConfiguration: { LocationConstraint: 'EU' } }));
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket: eu }))).BucketRegion, 'eu-west-1');
    const plain = uniqueBucket('region-default');
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket: plain }))).BucketRegion, 'us-east-1');
  });

  test('creating a bucket you already own answers 200 in us-east-1 (the default region)', async () => {
    const name = uniqueBucket('again');
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'kept', Body: 'still here' }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: name }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    // The bucket and its content are untouched.
    const list = await s3.send(new ListBucketsCommand({}));
    assert.equal(list.Buckets?.filter((b) => b.Name === name).length, 1);
    await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: name })), 'BucketNotEmpty', 409);
  });

  test('a bucket owned by another account is BucketAlreadyExists (409)', async () => {
    const name = uniqueBucket('taken');
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    const other = { accessKeyId: 'CAIRNTESTOTHERKEY001', secretAccessKey: 'cairn-test-other-secret-key-00000000000' };
    const created = await runCairn([
      'admin', 'account', 'create', '--data', server.dataDir, '--id', 'b'.repeat(64), '--name', 'other',
      '--email', 'other@example.com', '--access-key', other.accessKeyId, '--secret-key', other.secretAccessKey,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const s3Other = s3Client(server, other);
    try {
      await rejectsWith(s3Other.send(new CreateBucketCommand({ Bucket: name })), 'BucketAlreadyExists', 409);
    } finally {
      s3Other.destroy();
    }
  });
});

describe('HeadBucket', () => {
  test('200 for an existing bucket, 404 NotFound for a missing one', async () => {
    const name = uniqueBucket('head');
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket: name }))).$metadata.httpStatusCode, 200);
    // HEAD has no body, so the SDK names the error after the status.
    await rejectsWith(s3.send(new HeadBucketCommand({ Bucket: uniqueBucket('missing') })), 'NotFound', 404);
  });
});

describe('ListBuckets', () => {
  test('lists the owner (ID and DisplayName) and every bucket with its CreationDate, sorted by name', async () => {
    const names = [uniqueBucket('zz-list'), uniqueBucket('aa-list'), uniqueBucket('mm-list')];
    const before = Date.now();
    for (const name of names) await s3.send(new CreateBucketCommand({ Bucket: name }));
    const out = await s3.send(new ListBucketsCommand({}));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.match(out.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
    assert.equal(out.Owner?.DisplayName, 'root');
    const listed = (out.Buckets ?? []).map((b) => b.Name!);
    for (const name of names) assert.ok(listed.includes(name), `${name} listed`);
    assert.deepEqual(listed, [...listed].sort(), 'sorted by name');
    for (const bucket of out.Buckets ?? []) {
      assert.ok(bucket.CreationDate instanceof Date && !Number.isNaN(bucket.CreationDate.getTime()), `${bucket.Name} has a CreationDate`);
    }
    for (const name of names) {
      const created = out.Buckets!.find((b) => b.Name === name)!.CreationDate!.getTime();
      // Whole-second slack: only that the date is this bucket's, not an ordering of clocks.
      assert.ok(created >= before - 1000 && created <= Date.now() + 1000, `${name} CreationDate ${created} is its creation time`);
    }
  });

  test('another account sees only its own buckets', async () => {
    const other = { accessKeyId: 'CAIRNTESTTHIRDKEY001', secretAccessKey: 'cairn-test-third-secret-key-00000000000' };
    const created = await runCairn([
      'admin', 'account', 'create', '--data', server.dataDir, '--id', 'c'.repeat(64), '--name', 'third',
      '--email', 'third@example.com', '--access-key', other.accessKeyId, '--secret-key', other.secretAccessKey,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const s3Third = s3Client(server, other);
    try {
      const mine = uniqueBucket('third');
      await s3Third.send(new CreateBucketCommand({ Bucket: mine }));
      const out = await s3Third.send(new ListBucketsCommand({}));
      assert.deepEqual(out.Buckets?.map((b) => b.Name), [mine]);
      assert.equal(out.Owner?.ID, 'c'.repeat(64));
      assert.equal(out.Owner?.DisplayName, 'third');
    } finally {
      s3Third.destroy();
    }
  });
});

describe('DeleteBucket', () => {
  test('BucketNotEmpty (409) while objects remain, then 204 once empty', async () => {
    const name = uniqueBucket('del');
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'obj', Body: 'x' }));
    await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: name })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'obj' }));
    const out = await s3.send(new DeleteBucketCommand({ Bucket: name }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new HeadBucketCommand({ Bucket: name })), 'NotFound', 404);
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(!(list.Buckets ?? []).some((b) => b.Name === name));
  });

  test('a missing bucket is NoSuchBucket (404)', async () => {
    const err = await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: uniqueBucket('never') })), 'NoSuchBucket', 404);
    assert.equal(err.Code, 'NoSuchBucket');
  });
});
