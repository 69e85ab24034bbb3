/**
 * Keys are names, never paths (DESIGN.md invariant 3): keys with spaces, '+',
 * '%', unicode, '../', '//', a trailing '/', '?', '#' round-trip through PUT,
 * GET, HEAD, LIST, COPY and DELETE with the AWS SDK for JavaScript v3, and no
 * file named after a key appears in or around the data folder.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Hex, patternBytes, rejectsWith, uniqueBucket, walk } from './s3-helpers.js';

/** Appears in every key and nowhere else, so any file named after a key is found by it. */
const MARK = 'zqkeymark';

const KEYS = [
  `${MARK} with spaces`,
  `${MARK}+plus+signs`,
  `${MARK}%percent%25encoded`,
  `${MARK}-unicode-\u00fc\u00e9\u00df-\u65e5\u672c\u8a9e-\u{1F600}`,
  `../${MARK}-dotdot`,
  `../../../${MARK}-deep-dotdot`,
  `a/../${MARK}-inner-dotdot`,
  `./${MARK}-dot`,
  `${MARK}//double//slashes`,
  `${MARK}/trailing/`,
  `${MARK}?question=mark`,
  `${MARK}#hash`,
  `/${MARK}-leading-slash`,
  `${MARK}-tab\tand-newline\n`,
  `${MARK}-backslash\\..\\windows`,
];

let root: string;
let server: RunningServer;
let s3: S3Client;
const bucket = uniqueBucket('keys');
const copies = uniqueBucket('keys-copies');
/** Above the inline threshold, so each object is a blob file. */
const bodyFor = (i: number): Buffer => patternBytes(40 * 1024 + i, i + 1);

before(async () => {
  // The data folder sits three levels deep in a folder of its own, so "outside
  // the data folder" (even ../../..) can be searched completely.
  root = mkdtempSync(join(tmpdir(), 'cairn-keys-'));
  const dataDir = join(root, 'one', 'two', 'data');
  mkdirSync(dataDir, { recursive: true });
  server = await startServer({ dataDir });
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new CreateBucketCommand({ Bucket: copies }));
});

after(async () => {
  s3?.destroy();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const copySource = (b: string, key: string): string => `${b}/${encodeURIComponent(key)}`;

describe('keys are names', () => {
  test('every key round-trips through PUT, HEAD and GET', async () => {
    for (const [i, key] of KEYS.entries()) {
      const body = bodyFor(i);
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
        .catch((err: unknown) => { throw new Error(`PUT ${JSON.stringify(key)}: ${String(err)}`); });
      assert.equal(put.ETag, `"${md5Hex(body)}"`, key);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(head.ContentLength, body.length, key);
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.deepEqual(await bodyBytes(get.Body), body, key);
    }
  });

  test('LIST shows every key exactly as written, in UTF-8 byte order', async () => {
    const expected = [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(v2.Contents?.map((o) => o.Key), expected);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket }));
    assert.deepEqual(v1.Contents?.map((o) => o.Key), expected);
    for (const key of KEYS) {
      const byPrefix = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
      assert.deepEqual(byPrefix.Contents?.map((o) => o.Key), [key], `prefix ${JSON.stringify(key)}`);
    }
  });

  test('near-identical keys stay distinct', async () => {
    // Path normalisation would merge these; S3 keeps them apart.
    const pairs = [[`${MARK}-n/a/b`, `${MARK}-n/a//b`], [`${MARK}-n/x`, `${MARK}-n/./x`], [`${MARK}-n/y`, `${MARK}-n/y/`]] as const;
    for (const pair of pairs) {
      for (const key of pair) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      for (const key of pair) {
        const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        assert.equal((await bodyBytes(get.Body)).toString(), key);
      }
    }
    for (const pair of pairs) for (const key of pair) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  });

  test('every key can be a copy source and a copy destination', async () => {
    for (const [i, key] of KEYS.entries()) {
      await s3.send(new CopyObjectCommand({ Bucket: copies, Key: key, CopySource: copySource(bucket, key) }))
        .catch((err: unknown) => { throw new Error(`COPY ${JSON.stringify(key)}: ${String(err)}`); });
      const get = await s3.send(new GetObjectCommand({ Bucket: copies, Key: key }));
      assert.deepEqual(await bodyBytes(get.Body), bodyFor(i), key);
    }
  });

  test('nothing outside blobs/ is named after a key, and blobs/ holds only generated names', () => {
    const everything = walk(root);
    const named = everything.filter((p) => p.includes(MARK));
    assert.deepEqual(named, [], 'no path under the data folder or its parents carries a key');
    const blobsDir = join(server.dataDir, 'blobs');
    const blobs = walk(blobsDir);
    const files = blobs.filter((rel) => statSync(join(blobsDir, rel)).isFile());
    assert.ok(files.length >= KEYS.length, 'large objects are blob files');
    for (const rel of blobs) {
      // Files carry generated 32-hex-digit ids; folders are short hex fan-out names.
      if (files.includes(rel)) assert.match(basename(rel), /^[0-9a-f]{32}$/, rel);
      else assert.match(basename(rel), /^[0-9a-f]{1,4}$/, rel);
    }
    // Outside the data folder, nothing was created at all.
    assert.deepEqual(everything.filter((p) => !p.startsWith(join('one', 'two', 'data'))).sort(), ['one', join('one', 'two')]);
  });

  test('every key can be deleted, after which it is gone', async () => {
    for (const b of [bucket, copies]) {
      for (const key of KEYS) {
        const out = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: key }));
        assert.equal(out.$metadata.httpStatusCode, 204);
        await rejectsWith(s3.send(new HeadObjectCommand({ Bucket: b, Key: key })), 'NotFound', 404);
      }
      const left = await s3.send(new ListObjectsV2Command({ Bucket: b }));
      assert.equal(left.KeyCount, 0, `${b} is empty`);
    }
  });
});
