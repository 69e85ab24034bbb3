/**
 * Versioning through the AWS SDK for JavaScript v3: a bucket that never had
 * versioning enabled reports no Status and lists each object as its only version
 * `null`; once Enabled every write is a new version, deletes make delete markers,
 * and every object operation can address a version by id; Suspended writes and
 * deletes replace the `null` version.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand,
  DeleteObjectCommand, DeleteObjectsCommand, GetBucketVersioningCommand, GetObjectAclCommand, GetObjectCommand,
  GetObjectTaggingCommand, HeadObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutBucketVersioningCommand,
  PutObjectAclCommand, PutObjectCommand, PutObjectTaggingCommand, type S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { anonymousClient, assertUnsigned } from './acl-helpers.js';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Hex, newBucket, rejectsWith, rejectsWithStatus, uniqueBucket, type SdkError } from './s3-helpers.js';

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

/** The headers of an S3 error response, as the SDK keeps them on the error. */
function errorHeaders(err: SdkError): Record<string, string> {
  return ((err as { $response?: { headers?: Record<string, string> } }).$response?.headers) ?? {};
}

async function versionedBucket(prefix: string, status: 'Enabled' | 'Suspended' = 'Enabled'): Promise<string> {
  const name = await newBucket(s3, prefix);
  await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
  return name;
}

async function text(out: { Body?: { transformToString(): Promise<string> } }): Promise<string> {
  return out.Body!.transformToString();
}

describe('PutBucketVersioning', () => {
  test('Enabled, then Suspended, reads back; there is no way back to unversioned', async () => {
    const name = await newBucket(s3, 'versioning-status');
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, 'Enabled');
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, 'Suspended');
    await rejectsWith(s3.send(new PutBucketVersioningCommand({
      Bucket: name, VersioningConfiguration: { Status: 'Off' as 'Enabled' },
    })), 'IllegalVersioningConfigurationException', 400);
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, 'Suspended');
  });

  test('only the bucket owner may set it', async () => {
    const name = await newBucket(s3, 'versioning-owner');
    const anonymous = anonymousClient(server);
    try {
      await rejectsWith(anonymous.client.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } })), 'AccessDenied', 403);
      assertUnsigned(anonymous.sent);
    } finally {
      anonymous.client.destroy();
    }
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, undefined);
  });
});

describe('versioning Enabled', () => {
  test('every write gets its own 32-character version id; GET and HEAD read any version by id', async () => {
    const name = await versionedBucket('ver-enabled');
    const first = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'one' }));
    const second = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'two' }));
    assert.match(first.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.match(second.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(first.VersionId, second.VersionId);
    const current = await s3.send(new GetObjectCommand({ Bucket: name, Key: 'k' }));
    assert.equal(await text(current), 'two');
    assert.equal(current.VersionId, second.VersionId);
    const old = await s3.send(new GetObjectCommand({ Bucket: name, Key: 'k', VersionId: first.VersionId }));
    assert.equal(await text(old), 'one');
    assert.equal(old.VersionId, first.VersionId);
    const head = await s3.send(new HeadObjectCommand({ Bucket: name, Key: 'k', VersionId: first.VersionId }));
    assert.equal(head.ETag, `"${md5Hex('one')}"`);
    assert.equal(head.ContentLength, 3);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: name, Key: 'k', VersionId: 'A'.repeat(32) })), 'NoSuchVersion', 404);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: name }));
    assert.deepEqual(listed.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size]), [[second.VersionId, true, 3], [first.VersionId, false, 3]]);
  });

  test('DELETE makes a delete marker: GET 404 and GET of the marker 405, both with x-amz-delete-marker; deleting the marker brings the object back', async () => {
    const name = await versionedBucket('ver-marker');
    const put = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'gone', Body: 'still here' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'gone' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.equal(del.DeleteMarker, true);
    assert.match(del.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/);

    const missing = await rejectsWith(s3.send(new GetObjectCommand({ Bucket: name, Key: 'gone' })), 'NoSuchKey', 404);
    assert.equal(errorHeaders(missing)['x-amz-delete-marker'], 'true');
    const headMissing = await rejectsWithStatus(s3.send(new HeadObjectCommand({ Bucket: name, Key: 'gone' })), 404);
    assert.equal(errorHeaders(headMissing)['x-amz-delete-marker'], 'true');
    const byId = await rejectsWith(s3.send(new GetObjectCommand({ Bucket: name, Key: 'gone', VersionId: del.VersionId })), 'MethodNotAllowed', 405);
    assert.equal(errorHeaders(byId)['x-amz-delete-marker'], 'true');
    const headById = await rejectsWithStatus(s3.send(new HeadObjectCommand({ Bucket: name, Key: 'gone', VersionId: del.VersionId })), 405);
    assert.equal(errorHeaders(headById)['x-amz-delete-marker'], 'true');

    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: name }))).KeyCount, 0);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: name }));
    assert.deepEqual(versions.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest]), [['gone', del.VersionId, true]]);
    assert.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[put.VersionId, false]]);
    // The old version is still readable by id.
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: name, Key: 'gone', VersionId: put.VersionId }))), 'still here');

    const undo = await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'gone', VersionId: del.VersionId }));
    assert.equal(undo.DeleteMarker, true);
    assert.equal(undo.VersionId, del.VersionId);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: name, Key: 'gone' }))), 'still here');
  });

  test('deleting a version by id removes only it; the next newest becomes current', async () => {
    const name = await versionedBucket('ver-delete-id');
    const a = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'a' }));
    const b = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'b' }));
    const out = await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: b.VersionId }));
    assert.equal(out.VersionId, b.VersionId);
    assert.equal(out.DeleteMarker, undefined);
    const current = await s3.send(new GetObjectCommand({ Bucket: name, Key: 'k' }));
    assert.equal(await text(current), 'a');
    assert.equal(current.VersionId, a.VersionId);
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: name, Key: 'k', VersionId: b.VersionId })), 'NoSuchVersion', 404);
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: a.VersionId }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: name }));
    assert.equal(versions.Versions, undefined);
    // Nothing left: the bucket can go.
    await s3.send(new DeleteBucketCommand({ Bucket: name }));
  });

  test('a bucket with only a delete marker left is not empty', async () => {
    const name = await versionedBucket('ver-not-empty');
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'never-written' }));
    await rejectsWith(s3.send(new DeleteBucketCommand({ Bucket: name })), 'BucketNotEmpty', 409);
  });

  test('DeleteObjects removes named versions and makes markers for the rest, in one request', async () => {
    const name = await versionedBucket('ver-multi');
    const x1 = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'x', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'x', Body: '2' }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'y', Body: 'y' }));
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: [{ Key: 'x', VersionId: x1.VersionId }, { Key: 'y' }] } }));
    const byKey = new Map(out.Deleted?.map((d) => [d.Key, d]));
    assert.equal(byKey.get('x')?.VersionId, x1.VersionId);
    assert.equal(byKey.get('x')?.DeleteMarker, undefined);
    assert.equal(byKey.get('y')?.DeleteMarker, true);
    assert.match(byKey.get('y')?.DeleteMarkerVersionId ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.equal(out.Errors, undefined);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: name }));
    assert.deepEqual(versions.Versions?.map((v) => [v.Key, v.IsLatest]), [['x', true], ['y', false]]);
    assert.deepEqual(versions.DeleteMarkers?.map((m) => [m.Key, m.VersionId]), [['y', byKey.get('y')?.DeleteMarkerVersionId]]);
  });

  test('a multipart upload completes into a new version', async () => {
    const name = await versionedBucket('ver-multipart');
    const first = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'mp', Body: 'small first' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: name, Key: 'mp' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: name, Key: 'mp', UploadId, PartNumber: 1, Body: 'only part' }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: name, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    assert.match(done.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: name, Key: 'mp' }))), 'only part');
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: name, Key: 'mp', VersionId: first.VersionId }))), 'small first');
  });

  test('CopyObject reads a source version by id; copying an old version over its key restores it as a new version', async () => {
    const name = await versionedBucket('ver-copy');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'doc', Body: 'first draft', ContentType: 'text/plain' }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'doc', Body: 'second draft' }));
    const restored = await s3.send(new CopyObjectCommand({ Bucket: name, Key: 'doc', CopySource: `${name}/doc?versionId=${v1.VersionId}` }));
    assert.equal(restored.CopySourceVersionId, v1.VersionId);
    assert.match(restored.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/);
    const current = await s3.send(new GetObjectCommand({ Bucket: name, Key: 'doc' }));
    assert.equal(await text(current), 'first draft');
    assert.equal(current.ContentType, 'text/plain');
    assert.equal(current.VersionId, restored.VersionId);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: name }));
    assert.equal(versions.Versions?.length, 3);
    // Copying the current version onto itself unchanged is still refused.
    await rejectsWith(s3.send(new CopyObjectCommand({ Bucket: name, Key: 'doc', CopySource: `${name}/doc` })), 'InvalidRequest', 400);
  });

  test('ACL and tagging address a version by id', async () => {
    const name = await versionedBucket('ver-subresources');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: name, Key: 't', Body: '1' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: name, Key: 't', Body: '2' }));
    const tagged = await s3.send(new PutObjectTaggingCommand({ Bucket: name, Key: 't', VersionId: v1.VersionId, Tagging: { TagSet: [{ Key: 'old', Value: 'yes' }] } }));
    assert.equal(tagged.VersionId, v1.VersionId);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: name, Key: 't', VersionId: v1.VersionId }))).TagSet, [{ Key: 'old', Value: 'yes' }]);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: name, Key: 't' }))).TagSet, []);
    await s3.send(new PutObjectAclCommand({ Bucket: name, Key: 't', VersionId: v1.VersionId, ACL: 'public-read' }));
    const oldAcl = await s3.send(new GetObjectAclCommand({ Bucket: name, Key: 't', VersionId: v1.VersionId }));
    assert.ok(oldAcl.Grants?.some((g) => g.Grantee?.URI === 'http://acs.amazonaws.com/groups/global/AllUsers'));
    const currentAcl = await s3.send(new GetObjectAclCommand({ Bucket: name, Key: 't', VersionId: v2.VersionId }));
    assert.ok(!currentAcl.Grants?.some((g) => g.Grantee?.URI !== undefined));
  });
});

describe('versioning Suspended', () => {
  test('writes are the null version, replacing it; versions from before stay', async () => {
    const name = await versionedBucket('ver-suspended');
    const enabled = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'kept' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Suspended' } }));
    const first = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'null one' }));
    assert.equal(first.VersionId, undefined);
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'null two' }));
    const current = await s3.send(new GetObjectCommand({ Bucket: name, Key: 'k' }));
    assert.equal(await text(current), 'null two');
    assert.equal(current.VersionId, 'null');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: name }));
    assert.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest]), [['null', true], [enabled.VersionId, false]]);

    const del = await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.equal(del.VersionId, 'null');
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: name }));
    assert.deepEqual(after.Versions?.map((v) => v.VersionId), [enabled.VersionId]);
    assert.deepEqual(after.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest]), [['null', true]]);
  });
});

describe('ListObjectVersions paging', () => {
  test('key-marker and version-id-marker walk every version exactly once, newest first within a key', async () => {
    const name = await versionedBucket('ver-paging');
    const expected: [string, string][] = [];
    for (const key of ['a', 'b/1', 'b/2', 'c']) {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: `${key}${i}` }))).VersionId!);
      for (const id of ids.reverse()) expected.push([key, id]);
    }
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'c' }));
    expected.splice(expected.findIndex(([k]) => k === 'c'), 0, ['c', marker.VersionId!]);
    const seen: [string, string][] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let page = 0; page < 20; page++) {
      const out = await s3.send(new ListObjectVersionsCommand({
        Bucket: name, MaxKeys: 4, ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}), ...(versionIdMarker !== undefined ? { VersionIdMarker: versionIdMarker } : {}),
      }));
      const entries = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]
        .sort((x, y) => expected.findIndex(([, id]) => id === x.VersionId) - expected.findIndex(([, id]) => id === y.VersionId));
      assert.ok(entries.length <= 4);
      seen.push(...entries.map((v): [string, string] => [v.Key!, v.VersionId!]));
      if (!out.IsTruncated) break;
      keyMarker = out.NextKeyMarker;
      versionIdMarker = out.NextVersionIdMarker;
    }
    assert.deepEqual(seen, expected);

    const rolled = await s3.send(new ListObjectVersionsCommand({ Bucket: name, Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['b/']);
    assert.deepEqual([...new Set(rolled.Versions?.map((v) => v.Key))], ['a', 'c']);
    const encoded = await s3.send(new ListObjectVersionsCommand({ Bucket: name, Prefix: 'b/', EncodingType: 'url' }));
    assert.equal(encoded.EncodingType, 'url');
    assert.equal(encoded.Versions?.length, 6);
  });

  test('a version-id marker without a key marker is InvalidArgument', async () => {
    await rejectsWith(s3.send(new ListObjectVersionsCommand({ Bucket: bucket, VersionIdMarker: 'null' })), 'InvalidArgument', 400);
  });
});
