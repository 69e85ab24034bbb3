/**
 * Lifecycle through the AWS SDK for JavaScript v3 against a server whose
 * lifecycle day lasts 0.2 s: configurations and S3's validation errors, storage
 * classes, rules executed per filter kind (prefix, tag, and, size bounds) against
 * tags given every way an object gets them,
 * Date-based rules, aborts of stale multipart uploads, and RestoreObject.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand, DeleteBucketLifecycleCommand,
  DeleteObjectTaggingCommand,
  GetBucketLifecycleConfigurationCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectVersionsCommand, ListObjectsCommand,
  ListObjectsV2Command, ListPartsCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand, PutObjectTaggingCommand, RestoreObjectCommand,
  UploadPartCommand, type S3Client, type StorageClass,
} from '@aws-sdk/client-s3';
import { runCairn, s3Client, startServer, type RunningServer } from './harness.js';
import { putLifecycle } from './lifecycle-helpers.js';
import { bodyBytes, md5Base64, newBucket, rejectsWith, signedFetch, xmlValue } from './s3-helpers.js';

const DAY_SECONDS = 0.2;
let server: RunningServer;
let s3: S3Client;

before(async () => {
  server = await startServer({
    args: [
      '--lifecycle-day-seconds', String(DAY_SECONDS), '--lifecycle-interval', '0.1', '--gc-grace', '0',
      // Bulk restores outlast the test (200 s); Expedited ones take about a millisecond.
      '--restore-bulk-seconds', String(86_400 * 1000),
    ],
  });
  s3 = s3Client(server);
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function classesOf(bucket: string): Promise<Record<string, string>> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return Object.fromEntries((out.Contents ?? []).map((o) => [o.Key!, o.StorageClass!]));
}

/** Sends a raw lifecycle document, expecting an S3 error code and status. */
async function rejectsDocument(bucket: string, xml: string, code: string, status: number, headers: Record<string, string> = {}): Promise<void> {
  const res = await signedFetch(server, { method: 'PUT', path: `/${bucket}`, query: { lifecycle: '' }, body: xml, headers });
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(xmlValue(text, 'Code'), code, text);
}

const rule = (body: string): string => `<LifecycleConfiguration><Rule>${body}</Rule></LifecycleConfiguration>`;

describe('lifecycle configuration', () => {
  test('a bucket without one answers NoSuchLifecycleConfiguration; put, get and delete round-trip every filter kind', async () => {
    const bucket = await newBucket(s3, 'lc-config');
    await rejectsWith(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), 'NoSuchLifecycleConfiguration', 404);
    await putLifecycle(s3, bucket, [
      { ID: 'prefix', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }, { Days: 90, StorageClass: 'GLACIER' }], Expiration: { Days: 120 } },
      { ID: 'tag', Status: 'Disabled', Filter: { Tag: { Key: 'class', Value: 'temp' } }, Expiration: { Days: 7 } },
      { ID: 'and', Status: 'Enabled', Filter: { And: { Prefix: 'a/', Tags: [{ Key: 'k', Value: 'v' }], ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 1000 } }, Transitions: [{ Days: 1, StorageClass: 'GLACIER_IR' }] },
      { ID: 'bigger', Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 1_000_000 }, Transitions: [{ Days: 0, StorageClass: 'DEEP_ARCHIVE' }] },
      { ID: 'smaller', Status: 'Enabled', Filter: { ObjectSizeLessThan: 5 }, Expiration: { Date: new Date('2100-01-01T00:00:00Z') } },
      { ID: 'uploads', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 }, NoncurrentVersionExpiration: { NoncurrentDays: 10 } },
      { ID: 'dated', Status: 'Enabled', Filter: { Prefix: 'd/' }, Transitions: [{ Date: new Date('2030-06-01T00:00:00Z'), StorageClass: 'GLACIER' }], NoncurrentVersionTransitions: [{ NoncurrentDays: 30, StorageClass: 'STANDARD_IA' }] },
    ]);
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    const byId = new Map((got.Rules ?? []).map((r) => [r.ID, r]));
    assert.equal(byId.size, 7);
    const prefix = byId.get('prefix')!;
    assert.equal(prefix.Filter?.Prefix, 'logs/');
    assert.deepEqual(prefix.Transitions?.map((t) => [t.Days, t.StorageClass]), [[30, 'STANDARD_IA'], [90, 'GLACIER']]);
    assert.equal(prefix.Expiration?.Days, 120);
    assert.equal(byId.get('tag')!.Status, 'Disabled');
    assert.deepEqual(byId.get('tag')!.Filter?.Tag, { Key: 'class', Value: 'temp' });
    const and = byId.get('and')!.Filter?.And;
    assert.equal(and?.Prefix, 'a/');
    assert.deepEqual(and?.Tags, [{ Key: 'k', Value: 'v' }]);
    assert.equal(and?.ObjectSizeGreaterThan, 10);
    assert.equal(and?.ObjectSizeLessThan, 1000);
    assert.equal(byId.get('bigger')!.Filter?.ObjectSizeGreaterThan, 1_000_000);
    assert.equal(byId.get('bigger')!.Transitions?.[0]?.Days, 0);
    assert.equal(byId.get('smaller')!.Filter?.ObjectSizeLessThan, 5);
    assert.equal(byId.get('smaller')!.Expiration?.Date?.toISOString(), '2100-01-01T00:00:00.000Z');
    assert.equal(byId.get('uploads')!.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 3);
    assert.equal(byId.get('uploads')!.NoncurrentVersionExpiration?.NoncurrentDays, 10);
    assert.equal(byId.get('dated')!.Transitions?.[0]?.Date?.toISOString(), '2030-06-01T00:00:00.000Z');
    assert.equal(byId.get('dated')!.NoncurrentVersionTransitions?.[0]?.StorageClass, 'STANDARD_IA');

    const deleted = await s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), 'NoSuchLifecycleConfiguration', 404);
  });

  test('S3\'s validation errors', async () => {
    const bucket = await newBucket(s3, 'lc-errors');
    await rejectsDocument(bucket, '<LifecycleConfiguration><Rule>', 'MalformedXML', 400);
    await rejectsDocument(bucket, '<LifecycleConfiguration></LifecycleConfiguration>', 'MalformedXML', 400);
    await rejectsDocument(bucket, rule('<ID>x</ID><Filter/><Expiration><Days>1</Days></Expiration>'), 'MalformedXML', 400);
    await rejectsDocument(bucket, rule('<Status>On</Status><Filter/><Expiration><Days>1</Days></Expiration>'), 'MalformedXML', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Prefix>a</Prefix><Filter><Prefix>a</Prefix></Filter><Expiration><Days>1</Days></Expiration>'), 'MalformedXML', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><Days>1</Days></Expiration>'), 'MalformedXML', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter/><Transition><Days>1</Days><StorageClass>COLD</StorageClass></Transition>'), 'MalformedXML', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter/><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>'), 'MalformedXML', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter/>'), 'InvalidRequest', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter/><Transition><Days>10</Days><StorageClass>STANDARD_IA</StorageClass></Transition>'), 'InvalidArgument', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter/><Expiration><Days>0</Days></Expiration>'), 'InvalidArgument', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter/><Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>'), 'InvalidArgument', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter/><Transition><Days>40</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>40</Days></Expiration>'), 'InvalidArgument', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter/><Transition><Days>40</Days><StorageClass>GLACIER</StorageClass></Transition><Transition><Days>50</Days><StorageClass>GLACIER</StorageClass></Transition>'), 'InvalidRequest', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>'), 'InvalidRequest', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter><Expiration><Days>1</Days></Expiration>'), 'InvalidRequest', 400);
    await rejectsDocument(bucket, rule('<Status>Enabled</Status><Filter><And><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Expiration><Days>1</Days></Expiration>'), 'InvalidArgument', 400);
    // NewerNoncurrentVersions keeps 1 to 100 versions.
    for (const newer of ['0', '101']) {
      await rejectsDocument(bucket, rule(`<Status>Enabled</Status><Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>${newer}</NewerNoncurrentVersions></NoncurrentVersionExpiration>`), 'InvalidArgument', 400);
      await rejectsDocument(bucket, rule(`<Status>Enabled</Status><Filter/><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><StorageClass>GLACIER</StorageClass><NewerNoncurrentVersions>${newer}</NewerNoncurrentVersions></NoncurrentVersionTransition>`), 'InvalidArgument', 400);
    }
    const twice = '<Rule><ID>same</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>';
    await rejectsDocument(bucket, `<LifecycleConfiguration>${twice}${twice}</LifecycleConfiguration>`, 'InvalidArgument', 400);
    const valid = rule('<ID>ok</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration>');
    await rejectsDocument(bucket, valid, 'BadDigest', 400, { 'content-md5': md5Base64('something else') });
    await rejectsDocument(bucket, valid, 'InvalidDigest', 400, { 'content-md5': 'not-an-md5' });
    await rejectsDocument(bucket, `<LifecycleConfiguration>${'<Rule/>'.repeat(200_000)}</LifecycleConfiguration>`, 'MalformedXML', 400);
    // None of these left a configuration behind.
    await rejectsWith(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), 'NoSuchLifecycleConfiguration', 404);
    const ok = await signedFetch(server, { method: 'PUT', path: `/${bucket}`, query: { lifecycle: '' }, body: valid, headers: { 'content-md5': md5Base64(valid) } });
    assert.equal(ok.status, 200);
    // The configuration goes with its bucket: a bucket created again under the name has none.
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await rejectsWith(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), 'NoSuchLifecycleConfiguration', 404);
  });

  test('only the bucket owner configures lifecycle', async () => {
    const bucket = await newBucket(s3, 'lc-owner');
    const other = { accessKeyId: 'CAIRNLIFECYCLEOTHER1', secretAccessKey: 'lifecycle-other-secret-0000000000000000' };
    const created = await runCairn(['admin', 'account', 'create', '--data', server.dataDir, '--id', 'c'.repeat(64), '--name', 'other',
      '--email', 'lifecycle-other@example.com', '--access-key', other.accessKeyId, '--secret-key', other.secretAccessKey]);
    assert.equal(created.code, 0, created.stderr);
    const stranger = s3Client(server, other);
    try {
      await rejectsWith(stranger.send(new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket, LifecycleConfiguration: { Rules: [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }] },
      })), 'AccessDenied', 403);
      await rejectsWith(stranger.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), 'AccessDenied', 403);
      await rejectsWith(stranger.send(new DeleteBucketLifecycleCommand({ Bucket: bucket })), 'AccessDenied', 403);
    } finally {
      stranger.destroy();
    }
  });
});

describe('storage classes', () => {
  test('accepted on PUT, copy and multipart, reported by HEAD and listings; others are InvalidStorageClass', async () => {
    const bucket = await newBucket(s3, 'lc-classes');
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', StorageClass: 'FROZEN' as StorageClass })), 'InvalidStorageClass', 400);
    await rejectsWith(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'x', StorageClass: 'FROZEN' as StorageClass })), 'InvalidStorageClass', 400);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'std', Body: 'standard' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ia', Body: 'one zone', StorageClass: 'ONEZONE_IA' }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/std`, StorageClass: 'INTELLIGENT_TIERING' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'std' }))).StorageClass, undefined);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ia' }))).StorageClass, 'ONEZONE_IA');
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy' }))).StorageClass, 'INTELLIGENT_TIERING');
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', StorageClass: 'GLACIER_IR' }));
    const listedUploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.equal(listedUploads.Uploads?.[0]?.StorageClass, 'GLACIER_IR');
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId!, PartNumber: 1, Body: 'part' }));
    assert.equal((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId! }))).StorageClass, 'GLACIER_IR');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: upload.UploadId!, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
    const expected = { copy: 'INTELLIGENT_TIERING', ia: 'ONEZONE_IA', mp: 'GLACIER_IR', std: 'STANDARD' };
    assert.deepEqual(await classesOf(bucket), expected);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket }));
    assert.deepEqual(Object.fromEntries((v1.Contents ?? []).map((o) => [o.Key, o.StorageClass])), expected);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    assert.deepEqual(Object.fromEntries((versions.Versions ?? []).map((o) => [o.Key, o.StorageClass])), expected);
  });
});

describe('rules at work (one day lasts 0.2 s)', () => {
  test('prefix, tag, and, size bounds, Date and Disabled rules each act on exactly their objects', async () => {
    const bucket = await newBucket(s3, 'lc-filters');
    const yesterday = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000);
    await putLifecycle(s3, bucket, [
      { ID: 'prefix', Status: 'Enabled', Filter: { Prefix: 'p/' }, Transitions: [{ Days: 1, StorageClass: 'INTELLIGENT_TIERING' }] },
      { ID: 'tag', Status: 'Enabled', Filter: { Tag: { Key: 'class', Value: 'temp' } }, Expiration: { Days: 1 } },
      { ID: 'and', Status: 'Enabled', Filter: { And: { Prefix: 'a/', ObjectSizeGreaterThan: 10, ObjectSizeLessThan: 100 } }, Transitions: [{ Days: 1, StorageClass: 'GLACIER_IR' }] },
      { ID: 'big', Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 1000 }, Transitions: [{ Days: 2, StorageClass: 'GLACIER_IR' }] },
      { ID: 'tiny', Status: 'Enabled', Filter: { ObjectSizeLessThan: 2 }, Expiration: { Days: 1 } },
      { ID: 'dated', Status: 'Enabled', Filter: { Prefix: 'd/' }, Transitions: [{ Date: yesterday, StorageClass: 'INTELLIGENT_TIERING' }], Expiration: { Date: new Date('2100-01-01T00:00:00Z') } },
      { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'off/' }, Expiration: { Days: 1 } },
    ]);
    const objects: Record<string, string> = {
      'p/one': 'prefixed object', 'q/one': 'not under p/',
      't/untagged': 'a tag rule needs the tag',
      'a/small': 'tiny', 'a/mid': 'between ten and a hundred bytes', 'a/big': 'x'.repeat(200),
      'large': 'y'.repeat(2000), '1': 'z',
      'd/dated': 'moved by date', 'off/kept': 'disabled rule',
    };
    for (const [key, body] of Object.entries(objects)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const expected = {
      '1': undefined, 'a/big': 'STANDARD', 'a/mid': 'GLACIER_IR', 'a/small': 'STANDARD', 'd/dated': 'INTELLIGENT_TIERING',
      large: 'GLACIER_IR', 'off/kept': 'STANDARD', 'p/one': 'INTELLIGENT_TIERING', 'q/one': 'STANDARD', 't/untagged': 'STANDARD',
    };
    const want = JSON.stringify(Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)));
    const reached = await waitFor('the rules to act', async () => {
      const now = await classesOf(bucket);
      return JSON.stringify(now) === want ? now : undefined;
    });
    // Several more days later nothing else changed.
    await new Promise((resolve) => setTimeout(resolve, 10 * DAY_SECONDS * 1000));
    assert.deepEqual(await classesOf(bucket), reached);
  });

  test('Tag and And (prefix + tags) rules act on exactly the objects carrying the tags', async () => {
    const bucket = await newBucket(s3, 'lc-tags');
    const put = (Key: string, Tagging?: string): Promise<unknown> => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key, ...(Tagging ? { Tagging } : {}) }));
    await put('tmp/temp', 'class=temp');
    await put('tmp/keep', 'class=keep');
    await put('tmp/case', 'class=Temp');
    await put('untagged');
    await put('tagged-later');
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged-later', Tagging: { TagSet: [{ Key: 'other', Value: '1' }, { Key: 'class', Value: 'temp' }] } }));
    await put('untagged-later', 'class=temp');
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'untagged-later' }));
    await put('logs/both', 'tier=cold&team=a');
    await put('logs/more', 'extra=1&team=a&tier=cold');
    await put('logs/one', 'tier=cold');
    await put('logs/wrong', 'tier=cold&team=b');
    await put('other/both', 'tier=cold&team=a');
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'logs/multipart', Tagging: 'tier=cold&team=a' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'logs/multipart', UploadId: upload.UploadId!, PartNumber: 1, Body: 'part' }));
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'logs/multipart', UploadId: upload.UploadId!, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
    }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'logs/copied', CopySource: `${bucket}/other/both` }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'logs/retagged', CopySource: `${bucket}/other/both`, TaggingDirective: 'REPLACE', Tagging: 'tier=warm' }));
    // The rules come once every object has its final tags, so no pass can see one half-made.
    await putLifecycle(s3, bucket, [
      { ID: 'temp', Status: 'Enabled', Filter: { Tag: { Key: 'class', Value: 'temp' } }, Expiration: { Days: 1 } },
      { ID: 'cold-logs', Status: 'Enabled', Filter: { And: { Prefix: 'logs/', Tags: [{ Key: 'tier', Value: 'cold' }, { Key: 'team', Value: 'a' }] } }, Transitions: [{ Days: 1, StorageClass: 'GLACIER_IR' }] },
    ]);
    const want = JSON.stringify({
      'logs/both': 'GLACIER_IR', 'logs/copied': 'GLACIER_IR', 'logs/more': 'GLACIER_IR', 'logs/multipart': 'GLACIER_IR', 'logs/one': 'STANDARD',
      'logs/retagged': 'STANDARD', 'logs/wrong': 'STANDARD', 'other/both': 'STANDARD', 'tmp/case': 'STANDARD', 'tmp/keep': 'STANDARD',
      'untagged': 'STANDARD', 'untagged-later': 'STANDARD',
    });
    const reached = await waitFor('the tag rules to act', async () => {
      const now = await classesOf(bucket);
      return JSON.stringify(now) === want ? now : undefined;
    });
    // Several more days later nothing else changed.
    await new Promise((resolve) => setTimeout(resolve, 10 * DAY_SECONDS * 1000));
    assert.deepEqual(await classesOf(bucket), reached);
  });

  test('AbortIncompleteMultipartUpload aborts stale uploads under its prefix only', async () => {
    const bucket = await newBucket(s3, 'lc-abort');
    await putLifecycle(s3, bucket, [{ ID: 'abort', Status: 'Enabled', Filter: { Prefix: 'mp/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
    const stale = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/stale' }));
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/stale', UploadId: stale.UploadId!, PartNumber: 1, Body: 'part' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'keep/upload' }));
    await waitFor('the stale upload to be aborted', async () => {
      const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
      return uploads.length === 1 ? uploads : undefined;
    });
    const left = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
    assert.deepEqual(left.map((u) => u.Key), ['keep/upload']);
    await rejectsWith(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/stale', UploadId: stale.UploadId!, PartNumber: 2, Body: 'late' })), 'NoSuchUpload', 404);
  });
});

describe('RestoreObject', () => {
  test('status codes, x-amz-restore, and reads of archived objects', async () => {
    const bucket = await newBucket(s3, 'lc-restore');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'standard', Body: 'hot' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'slow', Body: 'archived, bulk', StorageClass: 'DEEP_ARCHIVE' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fast', Body: 'archived, expedited', StorageClass: 'GLACIER' }));

    await rejectsWith(s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'standard', RestoreRequest: { Days: 1 } })), 'InvalidObjectState', 403);
    await rejectsWith(s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'missing', RestoreRequest: { Days: 1 } })), 'NoSuchKey', 404);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'slow' })), 'InvalidObjectState', 403);
    await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copied', CopySource: `${bucket}/slow` })), 'InvalidObjectState', 403);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'slow' }));
    assert.equal(head.StorageClass, 'DEEP_ARCHIVE');
    assert.equal(head.Restore, undefined);

    const days0 = await signedFetch(server, { method: 'POST', path: `/${bucket}/slow`, query: { restore: '' }, body: '<RestoreRequest><Days>0</Days></RestoreRequest>' });
    assert.equal(days0.status, 400);
    assert.equal(xmlValue(await days0.text(), 'Code'), 'InvalidArgument');

    const started = await s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'slow', RestoreRequest: { Days: 2, GlacierJobParameters: { Tier: 'Bulk' } } }));
    assert.equal(started.$metadata.httpStatusCode, 202);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'slow' }))).Restore, 'ongoing-request="true"');
    await rejectsWith(s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'slow', RestoreRequest: { Days: 2 } })), 'RestoreAlreadyInProgress', 409);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'slow' })), 'InvalidObjectState', 403);

    const fast = await s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'fast', RestoreRequest: { Days: 100, GlacierJobParameters: { Tier: 'Expedited' } } }));
    assert.equal(fast.$metadata.httpStatusCode, 202);
    const restored = await waitFor('the expedited restore', async () => {
      const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fast' }));
      return h.Restore?.startsWith('ongoing-request="false"') ? h.Restore : undefined;
    });
    const expiry = /expiry-date="([^"]+)"/.exec(restored)?.[1];
    assert.ok(expiry !== undefined && expiry.endsWith(' GMT') && !Number.isNaN(Date.parse(expiry)), restored);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'fast' }));
    assert.equal(got.StorageClass, 'GLACIER');
    assert.equal(got.Restore, restored);
    assert.equal((await bodyBytes(got.Body)).toString(), 'archived, expedited');

    const again = await s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'fast', RestoreRequest: { Days: 200 } }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    const extended = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fast' }))).Restore!;
    const newExpiry = /expiry-date="([^"]+)"/.exec(extended)![1]!;
    assert.ok(Date.parse(newExpiry) > Date.parse(expiry), `${newExpiry} after ${expiry}`);
    // A restored copy may be copied out of the archive, to a readable class.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'thawed', CopySource: `${bucket}/fast`, StorageClass: 'STANDARD' }));
    assert.equal((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'thawed' }))).Body)).toString(), 'archived, expedited');
  });
});
