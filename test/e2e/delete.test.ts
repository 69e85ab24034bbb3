/**
 * DeleteObject and DeleteObjects through the AWS SDK for JavaScript v3.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command,
  PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { patternBytes, rejectsWith, uniqueBucket } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('delete');

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function keys(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

async function putAll(names: readonly string[]): Promise<void> {
  for (const key of names) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
}

describe('DeleteObject', () => {
  test('deletes an object: 204, then GetObject is NoSuchKey', async () => {
    await putAll(['single/small']);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single/large', Body: patternBytes(100_000) }));
    for (const key of ['single/small', 'single/large']) {
      const out = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(out.$metadata.httpStatusCode, 204);
      await rejectsWith(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })), 'NoSuchKey', 404);
    }
    assert.deepEqual(await keys('single/'), []);
  });

  test('a key that does not exist is still 204', async () => {
    const out = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never/existed' }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    // And deleting twice is fine.
    await putAll(['twice']);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'twice' }));
    assert.equal((await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'twice' }))).$metadata.httpStatusCode, 204);
  });

  test('a missing bucket is NoSuchBucket (404)', async () => {
    await rejectsWith(s3.send(new DeleteObjectCommand({ Bucket: uniqueBucket('gone'), Key: 'k' })), 'NoSuchBucket', 404);
  });
});

describe('DeleteObjects', () => {
  test('Quiet false lists every deleted key, including keys that did not exist', async () => {
    await putAll(['multi/a', 'multi/b', 'multi/c', 'multi/keep']);
    const out = await s3.send(new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: [{ Key: 'multi/a' }, { Key: 'multi/b' }, { Key: 'multi/c' }, { Key: 'multi/absent' }], Quiet: false },
    }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual((out.Deleted ?? []).map((d) => d.Key).sort(), ['multi/a', 'multi/absent', 'multi/b', 'multi/c']);
    assert.equal(out.Errors, undefined);
    assert.deepEqual(await keys('multi/'), ['multi/keep']);
  });

  test('Quiet true deletes but lists nothing', async () => {
    await putAll(['quiet/a', 'quiet/b']);
    const out = await s3.send(new DeleteObjectsCommand({
      Bucket: bucket, Delete: { Objects: [{ Key: 'quiet/a' }, { Key: 'quiet/b' }], Quiet: true },
    }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.Deleted, undefined);
    assert.equal(out.Errors, undefined);
    assert.deepEqual(await keys('quiet/'), []);
  });

  test('keys that need XML escaping, unicode and spaces are deleted by name', async () => {
    const odd = ['xml/a&b', 'xml/<tag>', 'xml/"quoted"', "xml/it's", 'xml/sp ace', 'xml/\u00e9\u{1F600}', 'xml/trailing/'];
    await putAll(odd);
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: odd.map((Key) => ({ Key })) } }));
    assert.deepEqual((out.Deleted ?? []).map((d) => d.Key).sort(), [...odd].sort());
    assert.deepEqual(await keys('xml/'), []);
  });

  test("a VersionId of 'null' deletes the object and is echoed", async () => {
    await putAll(['ver/a']);
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'ver/a', VersionId: 'null' }] } }));
    assert.deepEqual(out.Deleted?.map((d) => [d.Key, d.VersionId]), [['ver/a', 'null']]);
    assert.deepEqual(await keys('ver/'), []);
  });

  test('1000 keys are accepted', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ Key: `thousand/${String(i).padStart(4, '0')}` }));
    await putAll(many.slice(0, 5).map((o) => o.Key));
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: many, Quiet: false } }));
    assert.equal(out.Deleted?.length, 1000);
    assert.deepEqual(await keys('thousand/'), []);
  });

  test('more than 1000 keys is MalformedXML (400) and deletes nothing', async () => {
    await putAll(['toomany/0000']);
    const many = Array.from({ length: 1001 }, (_, i) => ({ Key: `toomany/${String(i).padStart(4, '0')}` }));
    await rejectsWith(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: many } })), 'MalformedXML', 400);
    assert.deepEqual(await keys('toomany/'), ['toomany/0000']);
  });

  test('a missing bucket is NoSuchBucket (404)', async () => {
    await rejectsWith(s3.send(new DeleteObjectsCommand({ Bucket: uniqueBucket('gone'), Delete: { Objects: [{ Key: 'k' }] } })), 'NoSuchBucket', 404);
  });
});
