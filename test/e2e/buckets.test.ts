/**
 * Bucket operations through the AWS SDK for JavaScript v3: CreateBucket (naming
 * rules, LocationConstraint, re-creating an owned bucket and its ACL), HeadBucket,
 * GetBucketLocation, ListBuckets (and its pages), DeleteBucket, and
 * x-amz-expected-bucket-owner on every kind of bucket and object operation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, DeleteBucketCommand, GetBucketAclCommand, GetBucketLocationCommand, GetBucketTaggingCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutBucketAclCommand, PutObjectCommand, DeleteObjectCommand,
  S3Client, type BucketLocationConstraint, type ListBucketsCommandOutput,
} from '@aws-sdk/client-s3';
import { ALL_USERS, anonymousClient, assertUnsigned, expectAllowed, expectError } from './acl-helpers.js';
import { ROOT_KEY, runCairn, s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, rejectsWith, uniqueBucket } from './s3-helpers.js';

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

  test('re-creating your own bucket in us-east-1 gives it the request\'s ACL, private when it names none; objects stay', async () => {
    const name = uniqueBucket('again-acl');
    await s3.send(new CreateBucketCommand({ Bucket: name, ACL: 'public-read' }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'kept', Body: 'x' }));
    const groups = async (): Promise<string[]> => ((await s3.send(new GetBucketAclCommand({ Bucket: name }))).Grants ?? [])
      .map((g) => `${g.Grantee?.Type}:${g.Grantee?.URI ?? 'owner'}:${g.Permission}`);
    assert.deepEqual(await groups(), [`Group:${ALL_USERS}:READ`, 'CanonicalUser:owner:FULL_CONTROL']);

    assert.equal((await s3.send(new CreateBucketCommand({ Bucket: name }))).$metadata.httpStatusCode, 200);
    assert.deepEqual(await groups(), ['CanonicalUser:owner:FULL_CONTROL']);
    assert.equal((await s3.send(new CreateBucketCommand({ Bucket: name, ACL: 'public-read-write' }))).$metadata.httpStatusCode, 200);
    assert.deepEqual(await groups(), [`Group:${ALL_USERS}:READ`, `Group:${ALL_USERS}:WRITE`, 'CanonicalUser:owner:FULL_CONTROL']);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: name }));
    assert.deepEqual((listed.Contents ?? []).map((o) => o.Key), ['kept']);
  });

  test('outside us-east-1 re-creating your own bucket is 409 BucketAlreadyOwnedByYou and leaves its ACL', async () => {
    const regional = await startServer({ args: ['--region', 'eu-west-1'] });
    const eu = new S3Client({ endpoint: regional.endpoint, region: 'eu-west-1', forcePathStyle: true, credentials: ROOT_KEY, maxAttempts: 1 });
    try {
      const name = uniqueBucket('owned');
      await eu.send(new CreateBucketCommand({ Bucket: name, ACL: 'public-read', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      await rejectsWith(eu.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })), 'BucketAlreadyOwnedByYou', 409);
      const acl = await eu.send(new GetBucketAclCommand({ Bucket: name }));
      assert.deepEqual(acl.Grants?.map((g) => g.Grantee?.URI ?? g.Grantee?.Type), [ALL_USERS, 'CanonicalUser']);
    } finally {
      eu.destroy();
      await regional.stop();
    }
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

describe('ListBuckets pages', () => {
  const names = (out: ListBucketsCommandOutput): string[] => (out.Buckets ?? []).map((b) => b.Name!);

  test('max-buckets cuts pages in name order, continuation-token resumes, prefix narrows and is echoed', async () => {
    const prefix = uniqueBucket('pages');
    const mine = [`${prefix}-c`, `${prefix}-a`, `${prefix}-b`];
    for (const name of mine) await s3.send(new CreateBucketCommand({ Bucket: name }));
    const sorted = [...mine].sort();

    const first = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2 }));
    assert.deepEqual(names(first), sorted.slice(0, 2));
    assert.equal(first.Prefix, prefix);
    assert.ok(first.ContinuationToken, 'a truncated page carries a continuation token');
    assert.match(first.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
    const second = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2, ContinuationToken: first.ContinuationToken }));
    assert.deepEqual(names(second), sorted.slice(2));
    assert.equal(second.ContinuationToken, undefined, 'the last page has no token');

    // One at a time, each page's token leads to the next bucket.
    const walked: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 1, ContinuationToken: token }));
      walked.push(...names(page));
      token = page.ContinuationToken;
    } while (token !== undefined && walked.length < 10);
    assert.deepEqual(walked, sorted);

    // Exactly max-buckets left: no token.
    assert.equal((await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 3 }))).ContinuationToken, undefined);
    // Without max-buckets every bucket comes in one page, with no Prefix element unless one was asked.
    const all = await s3.send(new ListBucketsCommand({}));
    assert.equal(all.ContinuationToken, undefined);
    assert.equal(all.Prefix, undefined);
    for (const name of mine) assert.ok(names(all).includes(name));
    assert.deepEqual(names(await s3.send(new ListBucketsCommand({ Prefix: `${prefix}-b` }))), [`${prefix}-b`]);
    assert.deepEqual(names(await s3.send(new ListBucketsCommand({ Prefix: `${prefix}-none` }))), []);
  });

  test('bucket-region keeps the buckets of that region', async () => {
    const prefix = uniqueBucket('regions');
    await s3.send(new CreateBucketCommand({ Bucket: `${prefix}-home` }));
    await s3.send(new CreateBucketCommand({ Bucket: `${prefix}-eu`, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    const eu = await s3.send(new ListBucketsCommand({ Prefix: prefix, BucketRegion: 'eu-west-1' }));
    assert.deepEqual(eu.Buckets?.map((b) => [b.Name, b.BucketRegion]), [[`${prefix}-eu`, 'eu-west-1']]);
    const home = await s3.send(new ListBucketsCommand({ Prefix: prefix, BucketRegion: 'us-east-1' }));
    assert.deepEqual(names(home), [`${prefix}-home`]);
  });

  test('a max-buckets outside 1-10000 or a token Cairn did not issue is 400 InvalidArgument', async () => {
    for (const MaxBuckets of [0, 10001, -1]) {
      await rejectsWith(s3.send(new ListBucketsCommand({ MaxBuckets })), 'InvalidArgument', 400);
    }
    for (const ContinuationToken of ['not a token!', 'x'.repeat(500), '']) {
      await rejectsWith(s3.send(new ListBucketsCommand({ MaxBuckets: 1, ContinuationToken })), 'InvalidArgument', 400)
        .catch((err: unknown) => { throw new Error(`token ${JSON.stringify(ContinuationToken.slice(0, 20))}: ${String(err)}`); });
    }
  });
});

describe('x-amz-expected-bucket-owner', () => {
  test('the owner\'s own id lets every operation through; any other id is 403 AccessDenied and changes nothing', async () => {
    const bucket = uniqueBucket('expected');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const me = (await s3.send(new ListBucketsCommand({}))).Owner!.ID!;
    const wrong = `${me}0`;

    await expectAllowed(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'right owner', ExpectedBucketOwner: me })));
    await expectAllowed(s3.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: me })));
    const read = await expectAllowed(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', ExpectedBucketOwner: me })));
    assert.equal((await bodyBytes(read.Body)).toString(), 'right owner');

    await expectError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'wrong owner', ExpectedBucketOwner: wrong })), 403, 'AccessDenied');
    await expectError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', ExpectedBucketOwner: wrong })), 403, 'AccessDenied');
    await expectError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', ExpectedBucketOwner: wrong })), 403, undefined);
    await expectError(s3.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: wrong })), 403, undefined);
    await expectError(s3.send(new ListObjectsV2Command({ Bucket: bucket, ExpectedBucketOwner: wrong })), 403, 'AccessDenied');
    await expectError(s3.send(new GetBucketAclCommand({ Bucket: bucket, ExpectedBucketOwner: wrong })), 403, 'AccessDenied');
    await expectError(s3.send(new GetBucketTaggingCommand({ Bucket: bucket, ExpectedBucketOwner: wrong })), 403, 'AccessDenied');
    await expectError(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', ExpectedBucketOwner: wrong })), 403, 'AccessDenied');
    await expectError(s3.send(new DeleteBucketCommand({ Bucket: bucket, ExpectedBucketOwner: wrong })), 403, 'AccessDenied');

    const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.equal((await bodyBytes(kept.Body)).toString(), 'right owner', 'the refused PUT and DELETE left the object as it was');
  });

  test('anonymous callers on a public-read-write bucket: a wrong owner is refused even where the ACL would allow', async () => {
    const bucket = uniqueBucket('expected-anon');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' }));
    const me = (await s3.send(new ListBucketsCommand({}))).Owner!.ID!;
    const anon = anonymousClient(server);
    try {
      await expectAllowed(anon.client.send(new ListObjectsV2Command({ Bucket: bucket, ExpectedBucketOwner: me })));
      await expectAllowed(anon.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'by-anyone', Body: 'x', ExpectedBucketOwner: me })));
      await expectError(anon.client.send(new ListObjectsV2Command({ Bucket: bucket, ExpectedBucketOwner: `${me}foo` })), 403, 'AccessDenied');
      await expectError(anon.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'refused', Body: 'x', ExpectedBucketOwner: `${me}foo` })), 403, 'AccessDenied');
      assertUnsigned(anon.sent);
    } finally {
      anon.client.destroy();
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual((listed.Contents ?? []).map((o) => o.Key), ['by-anyone']);
  });

  test('a missing bucket is still NoSuchBucket', async () => {
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: uniqueBucket('expected-none'), Key: 'k', ExpectedBucketOwner: 'someone' })), 'NotFound', 404);
    await rejectsWith(s3.send(new ListObjectsV2Command({ Bucket: uniqueBucket('expected-none'), ExpectedBucketOwner: 'someone' })), 'NoSuchBucket', 404);
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
