/**
 * Object Lock through the AWS SDK for JavaScript v3: a bucket created with lock
 * enabled is versioned for good, its default retention applies to new versions,
 * and a version under retention or legal hold cannot be deleted (GOVERNANCE: only
 * with x-amz-bypass-governance-retention) or have its retention shortened.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  DeleteObjectsCommand, GetBucketVersioningCommand, GetObjectCommand, GetObjectLegalHoldCommand, GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand, PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand, PutObjectRetentionCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { newBucket, rejectsWith, uniqueBucket } from './s3-helpers.js';

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

const FAR = new Date(Date.UTC(2099, 0, 1));
const DAY = 86_400_000;

async function lockedBucket(prefix: string): Promise<string> {
  const name = uniqueBucket(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
  return name;
}

describe('lock configuration', () => {
  test('a bucket created with Object Lock is versioned and cannot be suspended', async () => {
    const name = await lockedBucket('lock-create');
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, 'Enabled');
    const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: name }));
    assert.deepEqual(config.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
    await rejectsWith(s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Suspended' } })), 'InvalidBucketState', 409);
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, 'Enabled');
  });

  test('a default retention reads back and applies to new versions; bad ones are refused', async () => {
    const name = await lockedBucket('lock-default');
    await s3.send(new PutObjectLockConfigurationCommand({
      Bucket: name, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2 } } },
    }));
    const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: name }));
    assert.deepEqual(config.ObjectLockConfiguration?.Rule?.DefaultRetention, { Mode: 'GOVERNANCE', Days: 2 });
    const before = Date.now();
    const put = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: name, Key: 'k' }));
    assert.equal(head.ObjectLockMode, 'GOVERNANCE');
    const until = head.ObjectLockRetainUntilDate!.getTime();
    assert.ok(until >= before + 2 * DAY - 1000 && until <= Date.now() + 2 * DAY + 1000, `retain until ${head.ObjectLockRetainUntilDate?.toISOString()}`);
    await rejectsWith(s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId })), 'AccessDenied', 403);

    const bad = (Rule: object) => s3.send(new PutObjectLockConfigurationCommand({ Bucket: name, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule } }));
    await rejectsWith(bad({ DefaultRetention: { Mode: 'GOVERNANCE', Days: 1, Years: 1 } }), 'MalformedXML', 400);
    await rejectsWith(bad({ DefaultRetention: { Mode: 'GOVERNANCE', Days: 0 } }), 'InvalidRetentionPeriod', 400);
    await rejectsWith(bad({ DefaultRetention: { Mode: 'FOREVER', Days: 1 } }), 'MalformedXML', 400);
  });

  test('without lock: no configuration (404), and turning it on needs versioning Enabled', async () => {
    const name = await newBucket(s3, 'lock-none');
    await rejectsWith(s3.send(new GetObjectLockConfigurationCommand({ Bucket: name })), 'ObjectLockConfigurationNotFoundError', 404);
    const enable = () => s3.send(new PutObjectLockConfigurationCommand({ Bucket: name, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
    await rejectsWith(enable(), 'InvalidBucketState', 409);
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
    await rejectsWith(s3.send(new PutObjectRetentionCommand({ Bucket: name, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: FAR } })), 'InvalidRequest', 400);
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: FAR })), 'InvalidRequest', 400);
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    await enable();
    assert.equal((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: name }))).ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  });
});

describe('retention', () => {
  test('GOVERNANCE: a delete of the version is refused until bypassed; a plain delete only makes a marker', async () => {
    const name = await lockedBucket('lock-governance');
    const put = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'kept' }));
    await s3.send(new PutObjectRetentionCommand({ Bucket: name, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: FAR } }));
    assert.deepEqual((await s3.send(new GetObjectRetentionCommand({ Bucket: name, Key: 'k' }))).Retention, { Mode: 'GOVERNANCE', RetainUntilDate: FAR });
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
    assert.equal(marker.DeleteMarker, true);
    await rejectsWith(s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId })), 'AccessDenied', 403);
    const multi = await s3.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: [{ Key: 'k', VersionId: put.VersionId }] } }));
    assert.deepEqual(multi.Errors?.map((e) => [e.Key, e.VersionId, e.Code]), [['k', put.VersionId, 'AccessDenied']]);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId }))).Body!.transformToString(), 'kept');
    // Shortening needs the bypass too.
    await rejectsWith(s3.send(new PutObjectRetentionCommand({
      Bucket: name, Key: 'k', VersionId: put.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + DAY) },
    })), 'AccessDenied', 403);
    const bypassed = await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId, BypassGovernanceRetention: true }));
    assert.equal(bypassed.$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId })), 'NoSuchVersion', 404);
  });

  test('COMPLIANCE: no bypass; extending is allowed, shortening or weakening is not', async () => {
    const name = await lockedBucket('lock-compliance');
    const soon = new Date(Math.ceil((Date.now() + 30 * DAY) / 1000) * 1000);
    const put = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: soon }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: name, Key: 'k' }));
    assert.equal(head.ObjectLockMode, 'COMPLIANCE');
    assert.equal(head.ObjectLockRetainUntilDate?.getTime(), soon.getTime());
    await rejectsWith(s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId, BypassGovernanceRetention: true })), 'AccessDenied', 403);
    await rejectsWith(s3.send(new PutObjectRetentionCommand({
      Bucket: name, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: FAR }, BypassGovernanceRetention: true,
    })), 'AccessDenied', 403);
    await s3.send(new PutObjectRetentionCommand({ Bucket: name, Key: 'k', Retention: { Mode: 'COMPLIANCE', RetainUntilDate: FAR } }));
    assert.equal((await s3.send(new GetObjectRetentionCommand({ Bucket: name, Key: 'k' }))).Retention?.RetainUntilDate?.getTime(), FAR.getTime());
  });

  test('a version without retention has none to get (404); a past date is refused', async () => {
    const name = await lockedBucket('lock-noretention');
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
    await rejectsWith(s3.send(new GetObjectRetentionCommand({ Bucket: name, Key: 'k' })), 'NoSuchObjectLockConfiguration', 404);
    await rejectsWith(s3.send(new PutObjectRetentionCommand({
      Bucket: name, Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() - DAY) },
    })), 'InvalidArgument', 400);
    await rejectsWith(s3.send(new PutObjectCommand({
      Bucket: name, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE',
    })), 'InvalidArgument', 400);
  });
});

describe('legal hold', () => {
  test('blocks every delete of the version, even with bypass, until it is off', async () => {
    const name = await lockedBucket('lock-hold');
    const put = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }));
    assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: name, Key: 'k' }))).LegalHold?.Status, 'ON');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: name, Key: 'k' }))).ObjectLockLegalHoldStatus, 'ON');
    await rejectsWith(s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId, BypassGovernanceRetention: true })), 'AccessDenied', 403);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: name, Key: 'k', LegalHold: { Status: 'OFF' } }));
    assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: name, Key: 'k' }))).LegalHold?.Status, 'OFF');
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId }));
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: name, Key: 'k' })), 'NotFound', 404);
  });
});

describe('lock headers on copy and multipart', () => {
  test('CopyObject and CompleteMultipartUpload give the new version the lock the request asks for', async () => {
    const name = await lockedBucket('lock-writes');
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'src', Body: 'source' }));
    const copy = await s3.send(new CopyObjectCommand({
      Bucket: name, Key: 'copy', CopySource: `${name}/src`, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: FAR,
    }));
    const copyHead = await s3.send(new HeadObjectCommand({ Bucket: name, Key: 'copy' }));
    assert.equal(copyHead.ObjectLockMode, 'GOVERNANCE');
    await rejectsWith(s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'copy', VersionId: copy.VersionId })), 'AccessDenied', 403);

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: name, Key: 'mp', ObjectLockLegalHoldStatus: 'ON' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: name, Key: 'mp', UploadId, PartNumber: 1, Body: 'part' }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: name, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: name, Key: 'mp', VersionId: done.VersionId }))).LegalHold?.Status, 'ON');
    await rejectsWith(s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'mp', VersionId: done.VersionId })), 'AccessDenied', 403);
  });
});
