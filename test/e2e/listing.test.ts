/**
 * ListObjects (v1) and ListObjectsV2 through the AWS SDK for JavaScript v3:
 * prefixes, delimiters, markers and continuation tokens, paging, FetchOwner,
 * KeyCount, EncodingType=url, and S3's UTF-8 byte order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, type ListObjectsCommandOutput,
  type ListObjectsV2CommandOutput, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, startServer, type RunningServer } from './harness.js';
import { uniqueBucket } from './s3-helpers.js';

let server: RunningServer;
let s3: S3Client;

const tree = uniqueBucket('list-tree');
const TREE_KEYS = ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd/e/f', 'e'];
const paging = uniqueBucket('list-paging');
const PAGING_KEYS = Array.from({ length: 25 }, (_, i) => `key-${String(i).padStart(2, '0')}`);
const utf8 = uniqueBucket('list-utf8');
const UTF8_KEYS = ['a', 'Z', '\u00e9', '\u{1F600}', '\uFF61'];
/** S3's order is the keys' UTF-8 bytes: 'Z' 5A < 'a' 61 < 'é' C3A9 < '｡' EFBDA1 < '😀' F09F9880. */
const UTF8_ORDER = ['Z', 'a', '\u00e9', '\uFF61', '\u{1F600}'];
const encoded = uniqueBucket('list-encoded');
const ENCODED_KEYS = ['enc/a b', 'enc/c+d', 'enc/ctl\u0001char', 'enc/100%', 'enc/\u00e9t\u00e9', 'enc/x&y<z>', 'enc/dir one/file', 'enc/q?h#'];

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  const fill = async (bucket: string, keys: readonly string[]): Promise<void> => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await Promise.all(keys.map((key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))));
  };
  await fill(tree, TREE_KEYS);
  await fill(paging, PAGING_KEYS);
  await fill(utf8, UTF8_KEYS);
  await fill(encoded, ENCODED_KEYS);
});

after(async () => {
  s3?.destroy();
  await server?.stop();
});

const keysOf = (out: ListObjectsCommandOutput | ListObjectsV2CommandOutput): string[] => (out.Contents ?? []).map((o) => o.Key!);
const prefixesOf = (out: ListObjectsCommandOutput | ListObjectsV2CommandOutput): string[] => (out.CommonPrefixes ?? []).map((p) => p.Prefix!);

/** Decodes EncodingType=url values the way S3's own SDKs do (form encoding: '+' is a space). */
const urlDecode = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));

describe('ListObjects (v1)', () => {
  test('lists every key in order with size, ETag, LastModified, StorageClass and Owner', async () => {
    const out = await s3.send(new ListObjectsCommand({ Bucket: tree }));
    assert.deepEqual(keysOf(out), TREE_KEYS);
    assert.equal(out.IsTruncated, false);
    assert.equal(out.Name, tree);
    assert.equal(out.MaxKeys, 1000);
    const first = out.Contents![0]!;
    assert.equal(first.Size, 3);
    assert.match(first.ETag ?? '', /^"[0-9a-f]{32}"$/);
    assert.ok(first.LastModified instanceof Date);
    assert.equal(first.StorageClass, 'STANDARD');
    assert.match(first.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
  });

  test('an empty Delimiter rolls nothing up and is left out of the answer; v1 without one answers an empty one (the seed)', async () => {
    for (const delimiter of [{ Delimiter: '' }, {}]) {
      const v1 = await s3.send(new ListObjectsCommand({ Bucket: tree, ...delimiter }));
      const v2 = await s3.send(new ListObjectsV2Command({ Bucket: tree, ...delimiter }));
      for (const out of [v1, v2]) {
        assert.deepEqual(keysOf(out), TREE_KEYS);
        assert.deepEqual(prefixesOf(out), []);
      }
      assert.equal(v1.Delimiter, 'Delimiter' in delimiter ? undefined : '', JSON.stringify(delimiter));
      assert.equal(v2.Delimiter, undefined, JSON.stringify(delimiter));
    }
  });

  test('Prefix limits the keys', async () => {
    assert.deepEqual(keysOf(await s3.send(new ListObjectsCommand({ Bucket: tree, Prefix: 'a/' }))), ['a/1', 'a/2', 'a/b/3']);
    assert.deepEqual(keysOf(await s3.send(new ListObjectsCommand({ Bucket: tree, Prefix: 'zzz' }))), []);
  });

  test('Delimiter rolls keys up into CommonPrefixes', async () => {
    const out = await s3.send(new ListObjectsCommand({ Bucket: tree, Delimiter: '/' }));
    assert.deepEqual(keysOf(out), ['c', 'e']);
    assert.deepEqual(prefixesOf(out), ['a/', 'b/', 'd/']);
    assert.equal(out.Delimiter, '/');
    const nested = await s3.send(new ListObjectsCommand({ Bucket: tree, Delimiter: '/', Prefix: 'a/' }));
    assert.deepEqual(keysOf(nested), ['a/1', 'a/2']);
    assert.deepEqual(prefixesOf(nested), ['a/b/']);
    assert.equal(nested.Prefix, 'a/');
  });

  test('Marker starts after the given key', async () => {
    const out = await s3.send(new ListObjectsCommand({ Bucket: tree, Marker: 'a/b/3' }));
    assert.deepEqual(keysOf(out), ['b/1', 'c', 'd/e/f', 'e']);
    assert.equal(out.Marker, 'a/b/3');
    // A marker need not be a key.
    assert.deepEqual(keysOf(await s3.send(new ListObjectsCommand({ Bucket: tree, Marker: 'b' }))), ['b/1', 'c', 'd/e/f', 'e']);
  });

  test('with a delimiter, a truncated page gives NextMarker and paging never repeats a prefix', async () => {
    const pages: Array<{ keys: string[]; prefixes: string[]; next: string | undefined; truncated: boolean | undefined }> = [];
    let marker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: tree, Delimiter: '/', MaxKeys: 2, ...(marker ? { Marker: marker } : {}) }));
      pages.push({ keys: keysOf(out), prefixes: prefixesOf(out), next: out.NextMarker, truncated: out.IsTruncated });
      if (!out.IsTruncated) break;
      assert.ok(out.NextMarker, 'a truncated page with a delimiter has NextMarker');
      marker = out.NextMarker;
    }
    assert.deepEqual(pages, [
      { keys: [], prefixes: ['a/', 'b/'], next: 'b/', truncated: true },
      { keys: ['c'], prefixes: ['d/'], next: 'd/', truncated: true },
      { keys: ['e'], prefixes: [], next: undefined, truncated: false },
    ]);
  });

  test('without a delimiter there is no NextMarker: the last key is the next marker', async () => {
    const out = await s3.send(new ListObjectsCommand({ Bucket: tree, MaxKeys: 3 }));
    assert.equal(out.IsTruncated, true);
    assert.equal(out.NextMarker, undefined);
    assert.deepEqual(keysOf(out), ['a/1', 'a/2', 'a/b/3']);
  });

  test('pages through 25 keys with MaxKeys 7: 7, 7, 7, 4', async () => {
    const sizes: number[] = [];
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: paging, MaxKeys: 7, ...(marker ? { Marker: marker } : {}) }));
      assert.equal(out.MaxKeys, 7);
      const keys = keysOf(out);
      sizes.push(keys.length);
      seen.push(...keys);
      if (!out.IsTruncated) break;
      marker = out.NextMarker ?? keys[keys.length - 1];
      assert.ok(sizes.length < 10, 'paging ends');
    }
    assert.deepEqual(sizes, [7, 7, 7, 4]);
    assert.deepEqual(seen, PAGING_KEYS);
  });

  test('MaxKeys above 1000 is accepted (a page never holds more than 1000)', async () => {
    const out = await s3.send(new ListObjectsCommand({ Bucket: paging, MaxKeys: 5000 }));
    assert.equal(out.Contents?.length, 25);
    assert.equal(out.IsTruncated, false);
  });
});

describe('ListObjectsV2', () => {
  test('ContinuationToken pages through 25 keys with MaxKeys 7, KeyCount per page', async () => {
    const counts: number[] = [];
    const seen: string[] = [];
    let token: string | undefined;
    for (;;) {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: paging, MaxKeys: 7, ...(token ? { ContinuationToken: token } : {}) }));
      assert.equal(out.ContinuationToken, token);
      assert.equal(out.KeyCount, out.Contents?.length ?? 0);
      counts.push(out.KeyCount ?? -1);
      seen.push(...keysOf(out));
      if (!out.IsTruncated) {
        assert.equal(out.NextContinuationToken, undefined);
        break;
      }
      assert.ok(out.NextContinuationToken, 'a truncated page has NextContinuationToken');
      token = out.NextContinuationToken;
      assert.ok(counts.length < 10, 'paging ends');
    }
    assert.deepEqual(counts, [7, 7, 7, 4]);
    assert.deepEqual(seen, PAGING_KEYS);
  });

  test('StartAfter starts after the given key and is echoed', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: paging, StartAfter: 'key-10' }));
    assert.deepEqual(keysOf(out), PAGING_KEYS.slice(11));
    assert.equal(out.StartAfter, 'key-10');
    assert.equal(out.KeyCount, 14);
  });

  test('a ContinuationToken takes over from StartAfter', async () => {
    const first = await s3.send(new ListObjectsV2Command({ Bucket: paging, StartAfter: 'key-03', MaxKeys: 2 }));
    assert.deepEqual(keysOf(first), ['key-04', 'key-05']);
    const second = await s3.send(new ListObjectsV2Command({
      Bucket: paging, StartAfter: 'key-03', MaxKeys: 2, ContinuationToken: first.NextContinuationToken!,
    }));
    assert.deepEqual(keysOf(second), ['key-06', 'key-07']);
  });

  test('FetchOwner true adds Owner (ID and DisplayName); without it there is no Owner', async () => {
    const withOwner = await s3.send(new ListObjectsV2Command({ Bucket: tree, FetchOwner: true }));
    for (const o of withOwner.Contents ?? []) {
      assert.match(o.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
      assert.equal(o.Owner?.DisplayName, 'root');
    }
    for (const fetchOwner of [false, undefined]) {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: tree, ...(fetchOwner !== undefined ? { FetchOwner: fetchOwner } : {}) }));
      assert.equal(out.Contents?.length, TREE_KEYS.length);
      for (const o of out.Contents ?? []) assert.equal(o.Owner, undefined);
    }
  });

  test('KeyCount counts keys and common prefixes', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: tree, Delimiter: '/' }));
    assert.deepEqual(keysOf(out), ['c', 'e']);
    assert.deepEqual(prefixesOf(out), ['a/', 'b/', 'd/']);
    assert.equal(out.KeyCount, 5);
  });

  test('paging with a delimiter counts prefixes against MaxKeys and never repeats one', async () => {
    const seenKeys: string[] = [];
    const seenPrefixes: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: tree, Delimiter: '/', MaxKeys: 1, ...(token ? { ContinuationToken: token } : {}) }));
      assert.equal(out.KeyCount, 1);
      seenKeys.push(...keysOf(out));
      seenPrefixes.push(...prefixesOf(out));
      if (!out.IsTruncated) break;
      token = out.NextContinuationToken;
    }
    assert.deepEqual(seenKeys, ['c', 'e']);
    assert.deepEqual(seenPrefixes, ['a/', 'b/', 'd/']);
  });

  test('a delimiter other than / works', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: paging, Delimiter: '-' }));
    assert.deepEqual(prefixesOf(out), ['key-']);
    assert.deepEqual(keysOf(out), []);
    assert.equal(out.KeyCount, 1);
  });

  test('an empty bucket lists nothing, not truncated', async () => {
    const empty = uniqueBucket('list-empty');
    await s3.send(new CreateBucketCommand({ Bucket: empty }));
    const out = await s3.send(new ListObjectsV2Command({ Bucket: empty }));
    assert.equal(out.KeyCount, 0);
    assert.equal(out.Contents, undefined);
    assert.equal(out.IsTruncated, false);
  });
});

describe('EncodingType url', () => {
  const check = (out: ListObjectsCommandOutput | ListObjectsV2CommandOutput, expectedKeys: readonly string[]): void => {
    assert.equal(out.EncodingType, 'url');
    const raw = keysOf(out);
    // Every encoded key is printable ASCII without spaces: nothing XML 1.0 cannot carry.
    for (const k of raw) assert.match(k, /^[\x21-\x7e]+$/, `encoded key ${JSON.stringify(k)}`);
    // The SDK for JavaScript hands the encoded values over as they are; decoding gives the keys back.
    assert.deepEqual(raw.map(urlDecode), expectedKeys);
  };
  const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const sorted = [...ENCODED_KEYS].sort(byteCompare);

  test('ListObjectsV2 encodes keys, prefixes, common prefixes and StartAfter', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: encoded, EncodingType: 'url' }));
    check(out, sorted);
    assert.ok(keysOf(out).includes('enc/ctl%01char'), 'a control character is percent-encoded');
    const nested = await s3.send(new ListObjectsV2Command({
      Bucket: encoded, EncodingType: 'url', Prefix: 'enc/', Delimiter: '/', StartAfter: 'enc/a b',
    }));
    assert.equal(urlDecode(nested.Prefix!), 'enc/');
    assert.equal(urlDecode(nested.StartAfter!), 'enc/a b');
    assert.deepEqual(prefixesOf(nested).map(urlDecode), ['enc/dir one/']);
    assert.ok(!prefixesOf(nested)[0]!.includes(' '), 'the common prefix is encoded');
    check(nested, sorted.filter((k) => byteCompare(k, 'enc/a b') > 0 && !k.startsWith('enc/dir one/')));
  });

  test('ListObjects v1 encodes keys, Prefix and Marker', async () => {
    const out = await s3.send(new ListObjectsCommand({ Bucket: encoded, EncodingType: 'url', Prefix: 'enc/a b' }));
    check(out, ['enc/a b']);
    assert.equal(out.Prefix, 'enc/a+b');
    const marked = await s3.send(new ListObjectsCommand({ Bucket: encoded, EncodingType: 'url', Marker: 'enc/x&y<z>' }));
    check(marked, sorted.filter((k) => byteCompare(k, 'enc/x&y<z>') > 0));
    assert.deepEqual(keysOf(marked), ['enc/%C3%A9t%C3%A9']);
    assert.equal(urlDecode(marked.Marker!), 'enc/x&y<z>');
  });

  test('without EncodingType, keys come back as they are', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: encoded, Prefix: 'enc/x' }));
    assert.deepEqual(keysOf(out), ['enc/x&y<z>']);
    assert.equal(out.EncodingType, undefined);
  });
});

describe('UTF-8 byte order', () => {
  test('keys list in UTF-8 byte order (not JavaScript string order) in v1 and v2', async () => {
    assert.notDeepEqual([...UTF8_KEYS].sort(), UTF8_ORDER, 'the test keys tell the two orders apart');
    assert.deepEqual(keysOf(await s3.send(new ListObjectsV2Command({ Bucket: utf8 }))), UTF8_ORDER);
    assert.deepEqual(keysOf(await s3.send(new ListObjectsCommand({ Bucket: utf8 }))), UTF8_ORDER);
  });

  test('paging one key at a time keeps that order (continuation tokens and markers)', async () => {
    const byToken: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: utf8, MaxKeys: 1, ...(token ? { ContinuationToken: token } : {}) }));
      byToken.push(...keysOf(out));
      if (!out.IsTruncated) break;
      token = out.NextContinuationToken;
    }
    assert.deepEqual(byToken, UTF8_ORDER);
    const byMarker: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: utf8, MaxKeys: 1, ...(marker ? { Marker: marker } : {}) }));
      const keys = keysOf(out);
      byMarker.push(...keys);
      if (!out.IsTruncated) break;
      marker = keys[keys.length - 1];
    }
    assert.deepEqual(byMarker, UTF8_ORDER);
  });

  test('StartAfter and Marker compare in UTF-8 byte order', async () => {
    assert.deepEqual(keysOf(await s3.send(new ListObjectsV2Command({ Bucket: utf8, StartAfter: '\uFF61' }))), ['\u{1F600}']);
    assert.deepEqual(keysOf(await s3.send(new ListObjectsV2Command({ Bucket: utf8, StartAfter: '\u00e9' }))), ['\uFF61', '\u{1F600}']);
    assert.deepEqual(keysOf(await s3.send(new ListObjectsCommand({ Bucket: utf8, Marker: 'a' }))), ['\u00e9', '\uFF61', '\u{1F600}']);
  });
});
