/**
 * Versioning groundwork through the AWS SDK for JavaScript v3: a bucket that
 * never had versioning enabled reports no Status, lists each object as its only
 * version `null` (latest), and accepts `versionId=null` wherever a version is named.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetBucketVersioningCommand, GetObjectCommand,
  HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Hex, rejectsWith, uniqueBucket } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('versions');
const KEYS = ['v/a', 'v/b', 'v/c/d', 'v/e'];

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of KEYS) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

describe('GetBucketVersioning', () => {
  test('a new bucket has no Status and no MFADelete', async () => {
    const fresh = uniqueBucket('versioning-new');
    await s3.send(new CreateBucketCommand({ Bucket: fresh }));
    const out = await s3.send(new GetBucketVersioningCommand({ Bucket: fresh }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.Status, undefined);
    assert.equal(out.MFADelete, undefined);
  });

  test('a missing bucket is NoSuchBucket (404)', async () => {
    await rejectsWith(s3.send(new GetBucketVersioningCommand({ Bucket: uniqueBucket('nope') })), 'NoSuchBucket', 404);
  });
});

describe('ListObjectVersions', () => {
  test("each object is one version: VersionId 'null', IsLatest true, with its ETag, size and owner", async () => {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'v/' }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(out.Versions?.map((v) => v.Key), KEYS);
    for (const v of out.Versions ?? []) {
      assert.equal(v.VersionId, 'null');
      assert.equal(v.IsLatest, true);
      assert.equal(v.ETag, `"${md5Hex(`body of ${v.Key!}`)}"`);
      assert.equal(v.Size, `body of ${v.Key!}`.length);
      assert.equal(v.StorageClass, 'STANDARD');
      assert.ok(v.LastModified instanceof Date);
      assert.match(v.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
    }
    assert.equal(out.DeleteMarkers, undefined);
    assert.equal(out.IsTruncated, false);
  });

  test('Delimiter gives CommonPrefixes', async () => {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'v/', Delimiter: '/' }));
    assert.deepEqual(out.Versions?.map((v) => v.Key), ['v/a', 'v/b', 'v/e']);
    assert.deepEqual(out.CommonPrefixes?.map((p) => p.Prefix), ['v/c/']);
  });

  test('MaxKeys pages with NextKeyMarker and NextVersionIdMarker', async () => {
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const out = await s3.send(new ListObjectVersionsCommand({
        Bucket: bucket, Prefix: 'v/', MaxKeys: 3,
        ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
        ...(versionIdMarker !== undefined ? { VersionIdMarker: versionIdMarker } : {}),
      }));
      seen.push(...(out.Versions ?? []).map((v) => v.Key!));
      if (!out.IsTruncated) break;
      assert.ok(out.NextKeyMarker, 'a truncated page has NextKeyMarker');
      assert.equal(out.NextVersionIdMarker, 'null');
      keyMarker = out.NextKeyMarker;
      versionIdMarker = out.NextVersionIdMarker;
    }
    assert.deepEqual(seen, KEYS);
  });
});

describe("versionId 'null'", () => {
  test("GetObject and HeadObject with VersionId 'null' return the object", async () => {
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'v/a', VersionId: 'null' }));
    assert.equal((await bodyBytes(get.Body)).toString(), 'body of v/a');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'v/a', VersionId: 'null' }));
    assert.equal(head.ETag, `"${md5Hex('body of v/a')}"`);
  });

  test("DeleteObject with VersionId 'null' removes the object (204), and again on an absent key", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del/one', Body: 'x' }));
    const out = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/one', VersionId: 'null' }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'del/one' })), 'NotFound', 404);
    const again = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/one', VersionId: 'null' }));
    assert.equal(again.$metadata.httpStatusCode, 204);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'del/' }));
    assert.equal(versions.Versions, undefined);
    assert.equal(versions.DeleteMarkers, undefined, 'an unversioned bucket gets no delete marker');
  });

  test("DeleteObjects with VersionId 'null' removes the objects", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del/two', Body: 'x' }));
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'del/two', VersionId: 'null' }] } }));
    assert.deepEqual(out.Deleted?.map((d) => d.Key), ['del/two']);
    await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'del/two' })), 'NotFound', 404);
  });
});
