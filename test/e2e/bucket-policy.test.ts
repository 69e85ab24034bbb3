/**
 * The bucket policy operations through @aws-sdk/client-s3 against a real server:
 * the document round-trips byte for byte, bad documents get MalformedPolicy,
 * only the owner manages the policy, GetBucketPolicyStatus reports public access,
 * and the condition keys that need the object (existing tags), the key (s3:prefix
 * for a missing key) or the copy source are evaluated.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteBucketPolicyCommand, GetBucketPolicyCommand, GetBucketPolicyStatusCommand,
  GetObjectCommand, HeadObjectCommand, PutBucketAclCommand, PutBucketPolicyCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { createAccount, expectAllowed, expectError, withHeaders, type Account } from './acl-helpers.js';

const OTHER: Account = {
  id: '0a1b2c3d4e5f6789'.repeat(4), name: 'Other', email: 'other@example.com',
  key: { accessKeyId: 'BUCKETPOLICYOTHER001', secretAccessKey: 'bucket-policy-other-secret-00000000000000' },
};

let server: RunningServer;
let owner: S3Client;
let other: S3Client;

const doc = (bucket: string, statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements.map((s) => ({ Principal: '*', Resource: `arn:aws:s3:::${bucket}/*`, ...s })) });

before(async () => {
  server = await startServer();
  await createAccount(server.dataDir, OTHER);
  owner = s3Client(server);
  other = s3Client(server, { ...OTHER.key });
});

after(async () => {
  await server.stop();
});

test('a policy round-trips as sent; only the owner may put, get or delete it', async () => {
  await owner.send(new CreateBucketCommand({ Bucket: 'pol-crud' }));
  await expectError(owner.send(new GetBucketPolicyCommand({ Bucket: 'pol-crud' })), 404, 'NoSuchBucketPolicy');
  // Whitespace and field order are the caller's: GetBucketPolicy answers them unchanged.
  const text = `{ "Statement": [ {"Effect":"Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pol-crud/*"} ],\n  "Version": "2012-10-17" }`;
  await expectAllowed(owner.send(new PutBucketPolicyCommand({ Bucket: 'pol-crud', Policy: text })));
  assert.equal((await owner.send(new GetBucketPolicyCommand({ Bucket: 'pol-crud' }))).Policy, text);
  await expectError(other.send(new GetBucketPolicyCommand({ Bucket: 'pol-crud' })), 403, 'AccessDenied');
  await expectError(other.send(new PutBucketPolicyCommand({ Bucket: 'pol-crud', Policy: text })), 403, 'AccessDenied');
  await expectError(other.send(new DeleteBucketPolicyCommand({ Bucket: 'pol-crud' })), 403, 'AccessDenied');
  await expectAllowed(owner.send(new DeleteBucketPolicyCommand({ Bucket: 'pol-crud' })));
  await expectError(owner.send(new GetBucketPolicyCommand({ Bucket: 'pol-crud' })), 404, 'NoSuchBucketPolicy');
});

test('bad documents are refused with MalformedPolicy naming the fault, and the stored policy is kept', async () => {
  await owner.send(new CreateBucketCommand({ Bucket: 'pol-bad' }));
  const good = doc('pol-bad', [{ Effect: 'Allow', Action: 's3:GetObject' }]);
  await owner.send(new PutBucketPolicyCommand({ Bucket: 'pol-bad', Policy: good }));
  const cases: [string, RegExp][] = [
    ['not json', /invalid Json/],
    [doc('pol-bad', [{ Effect: 'Allow', Action: 'iam:CreateUser' }]), /invalid action/],
    [doc('pol-bad', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::someone-else/*' }]), /invalid resource/],
    [doc('pol-bad', [{ Effect: 'Allow', Action: 's3:GetObject', Condition: { StringMaybe: { 'aws:Referer': 'x' } } }]), /Invalid Condition type/],
    [doc('pol-bad', [{ Effect: 'Allow', Action: 's3:GetObject', Sid: 'x'.repeat(20 * 1024) }]), /20480 bytes/],
  ];
  for (const [text, message] of cases) {
    const e = await expectError(owner.send(new PutBucketPolicyCommand({ Bucket: 'pol-bad', Policy: text })), 400, 'MalformedPolicy');
    assert.match(e.message, message);
  }
  // A Content-MD5 that does not match the body is BadDigest, as for every upload.
  const wrongMd5 = withHeaders(new PutBucketPolicyCommand({ Bucket: 'pol-bad', Policy: doc('pol-bad', [{ Effect: 'Deny', Action: 's3:*' }]) }), { 'Content-MD5': '1B2M2Y8AsgTpgAmY7PhCfg==' });
  await expectError(owner.send(wrongMd5), 400, 'BadDigest');
  assert.equal((await owner.send(new GetBucketPolicyCommand({ Bucket: 'pol-bad' }))).Policy, good);
});

test('GetBucketPolicyStatus: public through the ACL or an unconditional Allow for everyone, not through an address-bound one', async () => {
  const status = async (bucket: string): Promise<boolean | undefined> => (await owner.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic;
  await owner.send(new CreateBucketCommand({ Bucket: 'pol-status' }));
  assert.equal(await status('pol-status'), false);
  await owner.send(new PutBucketPolicyCommand({ Bucket: 'pol-status', Policy: doc('pol-status', [{ Effect: 'Allow', Action: 's3:GetObject', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }]) }));
  assert.equal(await status('pol-status'), false);
  await owner.send(new PutBucketPolicyCommand({ Bucket: 'pol-status', Policy: doc('pol-status', [{ Effect: 'Allow', Action: 's3:GetObject' }]) }));
  assert.equal(await status('pol-status'), true);
  await owner.send(new DeleteBucketPolicyCommand({ Bucket: 'pol-status' }));
  await owner.send(new PutBucketAclCommand({ Bucket: 'pol-status', ACL: 'public-read' }));
  assert.equal(await status('pol-status'), true);
});

test('s3:ExistingObjectTag decides on the object\'s current tags', async () => {
  await owner.send(new CreateBucketCommand({ Bucket: 'pol-tags' }));
  for (const [key, value] of [['open', 'public'], ['closed', 'private']] as const) {
    await owner.send(new PutObjectCommand({ Bucket: 'pol-tags', Key: key, Body: key }));
    await owner.send(new PutObjectTaggingCommand({ Bucket: 'pol-tags', Key: key, Tagging: { TagSet: [{ Key: 'security', Value: value }] } }));
  }
  await owner.send(new PutBucketPolicyCommand({ Bucket: 'pol-tags', Policy: doc('pol-tags', [{ Effect: 'Allow', Action: 's3:GetObject', Condition: { StringEquals: { 's3:ExistingObjectTag/security': 'public' } } }]) }));
  const got = await expectAllowed(other.send(new GetObjectCommand({ Bucket: 'pol-tags', Key: 'open' })));
  assert.equal(await got.Body?.transformToString(), 'open');
  await expectError(other.send(new GetObjectCommand({ Bucket: 'pol-tags', Key: 'closed' })), 403, 'AccessDenied');
  // Retagging changes the answer at once.
  await owner.send(new PutObjectTaggingCommand({ Bucket: 'pol-tags', Key: 'closed', Tagging: { TagSet: [{ Key: 'security', Value: 'public' }] } }));
  await expectAllowed(other.send(new GetObjectCommand({ Bucket: 'pol-tags', Key: 'closed' })));
});

test('a missing key is 404 to a caller the policy lets list there (s3:prefix), 403 to others', async () => {
  await owner.send(new CreateBucketCommand({ Bucket: 'pol-prefix' }));
  await owner.send(new PutBucketPolicyCommand({ Bucket: 'pol-prefix', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{
    Effect: 'Allow', Principal: { AWS: OTHER.id }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::pol-prefix', Condition: { StringLike: { 's3:prefix': 'public/*' } },
  }] }) }));
  await expectError(other.send(new HeadObjectCommand({ Bucket: 'pol-prefix', Key: 'public/nothing' })), 404, undefined);
  await expectError(other.send(new HeadObjectCommand({ Bucket: 'pol-prefix', Key: 'private/nothing' })), 403, undefined);
});

test('CopyObject reads its source under the source bucket\'s policy and writes under the target\'s, with s3:x-amz-copy-source', async () => {
  await owner.send(new CreateBucketCommand({ Bucket: 'pol-src' }));
  await owner.send(new PutObjectCommand({ Bucket: 'pol-src', Key: 'public/a', Body: 'a' }));
  await owner.send(new PutObjectCommand({ Bucket: 'pol-src', Key: 'private/b', Body: 'b' }));
  await owner.send(new PutBucketPolicyCommand({ Bucket: 'pol-src', Policy: doc('pol-src', [{ Effect: 'Allow', Action: 's3:GetObject' }]) }));
  await owner.send(new CreateBucketCommand({ Bucket: 'pol-dst' }));
  await owner.send(new PutBucketPolicyCommand({ Bucket: 'pol-dst', Policy: doc('pol-dst', [{ Effect: 'Allow', Action: 's3:PutObject', Condition: { StringLike: { 's3:x-amz-copy-source': 'pol-src/public/*' } } }]) }));
  await expectAllowed(other.send(new CopyObjectCommand({ Bucket: 'pol-dst', Key: 'copied', CopySource: 'pol-src/public/a' })));
  assert.equal(await (await owner.send(new GetObjectCommand({ Bucket: 'pol-dst', Key: 'copied' }))).Body?.transformToString(), 'a');
  await expectError(other.send(new CopyObjectCommand({ Bucket: 'pol-dst', Key: 'copied2', CopySource: 'pol-src/private/b' })), 403, 'AccessDenied');
  await expectError(other.send(new PutObjectCommand({ Bucket: 'pol-dst', Key: 'direct', Body: 'x' })), 403, 'AccessDenied');
});
