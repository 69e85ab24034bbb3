/**
 * Character references in request documents, as XML 1.0 defines them: `&#34;`
 * and `&#x22;` are the character `"` wherever they appear. Raw signed requests
 * carry them in CompleteMultipartUpload and DeleteObjects; the AWS SDK for
 * JavaScript v3 sends newlines in keys as `&#x0A;`. References XML forbids are
 * MalformedXML and change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand,
  UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Base64, newBucket, patternBytes, signedFetch, xmlValue, xmlValues } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;
let bucket = '';

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  bucket = await newBucket(s3, 'xml-refs');
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

async function keys(prefix: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
}

async function deleteRaw(xml: string): Promise<{ status: number; text: string }> {
  const res = await signedFetch(server, { method: 'POST', path: `/${bucket}`, query: { delete: '' }, body: xml, headers: { 'content-md5': md5Base64(xml) } });
  return { status: res.status, text: await res.text() };
}

test('CompleteMultipartUpload reads ETags quoted with &#34; and &#x22; (as rclone writes them)', async () => {
  const key = 'mpu/quoted';
  const parts = [patternBytes(5 * 1024 * 1024, 1), patternBytes(1000, 2)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const etags: string[] = [];
  for (const [i, Body] of parts.entries()) {
    etags.push((await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body }))).ETag!);
  }
  const bare = etags.map((e) => e.replace(/"/g, ''));
  const xml = '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    + `<Part><PartNumber>1</PartNumber><ETag>&#34;${bare[0]}&#34;</ETag></Part>`
    + `<Part><PartNumber>2</PartNumber><ETag>&#x22;${bare[1]}&#x22;</ETag></Part></CompleteMultipartUpload>`;
  const res = await signedFetch(server, { method: 'POST', path: `/${bucket}/mpu/quoted`, query: { uploadId: UploadId! }, body: xml });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(xmlValue(text, 'ETag') ?? '', /^&quot;[0-9a-f]{32}-2&quot;$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat(parts)));
});

test('DeleteObjects deletes the key a reference names, not its literal spelling', async () => {
  for (const key of ["del/it's", 'del/it&#39;s', 'del/"q"']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  const { status, text } = await deleteRaw('<Delete><Object><Key>del/it&#39;s</Key></Object><Object><Key>del/&#x22;q&#34;</Key></Object></Delete>');
  assert.equal(status, 200, text);
  assert.deepEqual(xmlValues(text, 'Key').sort(), ['del/&quot;q&quot;', 'del/it&apos;s']);
  // The key spelled with the reference's characters is another object, and stays.
  assert.deepEqual(await keys('del/'), ['del/it&#39;s']);
});

test('the SDK\'s &#x0A; and &#x0D; in DeleteObjects keys are newlines', async () => {
  const lineKeys = ['lines/a\nb', 'lines/c\r\nd'];
  for (const key of lineKeys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
  const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: lineKeys.map((Key) => ({ Key })) } }));
  assert.deepEqual(out.Deleted?.map((d) => d.Key).sort(), lineKeys);
  assert.deepEqual(out.Errors ?? [], []);
  assert.deepEqual(await keys('lines/'), []);
});

test('references XML does not allow are MalformedXML and delete nothing', async () => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep/ab', Body: 'x' }));
  for (const ref of ['&#0;', '&#x1;', '&#xD800;', '&#x110000;', '&#x;', '&#X61;', '&#97']) {
    const { status, text } = await deleteRaw(`<Delete><Object><Key>keep/a${ref}b</Key></Object><Object><Key>keep/ab</Key></Object></Delete>`);
    assert.equal(status, 400, ref);
    assert.equal(xmlValue(text, 'Code'), 'MalformedXML', ref);
  }
  assert.deepEqual(await keys('keep/'), ['keep/ab']);
});
