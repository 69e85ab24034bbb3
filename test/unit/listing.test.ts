import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareUtf8, listPage, prefixSuccessor } from '../../src/store/listing.js';
import { SqliteMetadata } from '../../src/store/sqlite/metadata.js';
import type { ObjectRecord, ObjectSummary } from '../../src/store/types.js';

const OWNER = 'a'.repeat(64);

function record(bucket: string, key: string): ObjectRecord {
  return {
    bucket, key, versionId: 'null', size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e', lastModified: new Date(0),
    owner: OWNER, storageClass: 'STANDARD', headers: { contentType: 'binary/octet-stream' }, userMetadata: {},
    acl: { owner: OWNER, grants: [] }, tags: [], data: { kind: 'inline', bytes: Buffer.alloc(0) },
  };
}

async function withMetadata(fn: (m: SqliteMetadata) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-unit-'));
  const m = new SqliteMetadata(join(dir, 'metadata.sqlite'));
  try {
    await m.createAccount({ id: OWNER, displayName: 'o', email: 'o@example.com', createdAt: new Date() });
    await fn(m);
  } finally {
    await m.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fill(m: SqliteMetadata, bucket: string, keys: readonly string[]): Promise<void> {
  await m.createBucket({ name: bucket, owner: OWNER, createdAt: new Date(), location: '', acl: { owner: OWNER, grants: [] }, configs: {} });
  for (let i = 0; i < keys.length; i += 5000) {
    await Promise.all(keys.slice(i, i + 5000).map((k) => m.putObject(record(bucket, k))));
  }
}

function scanOf(keys: string[]) {
  const sorted = [...keys].sort(compareUtf8);
  return function* (from: string, inclusive: boolean): Iterable<ObjectSummary> {
    for (const key of sorted) {
      const c = compareUtf8(key, from);
      if (c > 0 || (inclusive && c === 0)) yield { key, versionId: 'null', size: 0, etag: '', lastModified: new Date(0), owner: OWNER, storageClass: 'STANDARD' };
    }
  };
}

test('prefixSuccessor is the first string after every string with that prefix', () => {
  assert.equal(prefixSuccessor('a/'), 'a0');
  assert.equal(prefixSuccessor('photos/2024/'), 'photos/20240');
  assert.equal(prefixSuccessor('\u{d7ff}'), '\u{e000}');
  assert.equal(prefixSuccessor('x\u{10ffff}'), 'y');
  assert.equal(prefixSuccessor(''), undefined);
});

test('keys list in UTF-8 byte order, not UTF-16 order', async () => {
  const keys = ['\u{ff61}', '\u{1f600}', 'a', 'z'];
  const page = await listPage(scanOf(keys), { prefix: '', delimiter: '', after: '', maxKeys: 10 });
  assert.deepEqual(page.entries.map((o) => o.key), ['a', 'z', '\u{ff61}', '\u{1f600}']);
});

test('delimiter roll-up, markers inside a common prefix, and truncation', async () => {
  const keys = ['a/1', 'a/2', 'b', 'c/x/1', 'c/y', 'd'];
  const scan = scanOf(keys);
  const all = await listPage(scan, { prefix: '', delimiter: '/', after: '', maxKeys: 1000 });
  assert.deepEqual(all.commonPrefixes, ['a/', 'c/']);
  assert.deepEqual(all.entries.map((o) => o.key), ['b', 'd']);
  assert.equal(all.isTruncated, false);

  const first = await listPage(scan, { prefix: '', delimiter: '/', after: '', maxKeys: 2 });
  assert.deepEqual([...first.commonPrefixes, ...first.entries.map((o) => o.key)], ['a/', 'b']);
  assert.equal(first.isTruncated, true);
  assert.equal(first.last, 'b');
  const second = await listPage(scan, { prefix: '', delimiter: '/', after: 'a/', maxKeys: 1 });
  assert.deepEqual(second.entries.map((o) => o.key), ['b']);
  const inside = await listPage(scan, { prefix: '', delimiter: '/', after: 'c/x/1', maxKeys: 10 });
  assert.deepEqual(inside.entries.map((o) => o.key), ['d']);
  assert.deepEqual(inside.commonPrefixes, []);

  const nested = await listPage(scan, { prefix: 'c/', delimiter: '/', after: '', maxKeys: 10 });
  assert.deepEqual(nested.commonPrefixes, ['c/x/']);
  assert.deepEqual(nested.entries.map((o) => o.key), ['c/y']);
  const exact = await listPage(scan, { prefix: '', delimiter: '', after: '', maxKeys: 6 });
  assert.equal(exact.isTruncated, false);
  assert.equal(exact.entries.length, 6);
});

test('a delimiter page from 200,000 keys reads about as many rows as from 2,000 (invariant 5)', async () => {
  const rowsFor = async (filesPerDir: number): Promise<{ rows: number; prefixes: number }> => {
    let result = { rows: 0, prefixes: 0 };
    await withMetadata(async (m) => {
      const keys: string[] = [];
      for (let d = 0; d < 1000; d++) for (let f = 0; f < filesPerDir; f++) keys.push(`dir-${String(d).padStart(4, '0')}/file-${f}`);
      await fill(m, 'big', keys);
      const before = m.stats.rowsScanned;
      const page = await m.listObjects('big', { prefix: '', delimiter: '/', after: '', maxKeys: 1000 });
      result = { rows: m.stats.rowsScanned - before, prefixes: page.commonPrefixes.length };
    });
    return result;
  };
  const small = await rowsFor(2);
  const large = await rowsFor(200);
  assert.equal(small.prefixes, 1000);
  assert.equal(large.prefixes, 1000);
  // One row per common prefix, whatever lies beneath it.
  assert.ok(large.rows <= 1001, `rows scanned for 200,000 keys: ${large.rows}`);
  assert.equal(large.rows, small.rows);
});

test('a ListObjects page over keys with 100 versions each reads as many rows as over unversioned keys (invariant 5)', async () => {
  const keys = Array.from({ length: 150 }, (_, i) => `key-${String(i).padStart(4, '0')}`);
  let unversioned = 0;
  await withMetadata(async (m) => {
    await fill(m, 'plain', keys);
    const before = m.stats.rowsScanned;
    const page = await m.listObjects('plain', { prefix: '', delimiter: '', after: '', maxKeys: 50 });
    assert.equal(page.objects.length, 50);
    unversioned = m.stats.rowsScanned - before;
  });
  await withMetadata(async (m) => {
    await fill(m, 'versioned', []);
    await m.putBucketConfig('versioned', 'versioning', () => 'Enabled');
    for (let v = 0; v < 100; v++) await Promise.all(keys.map((k) => m.putObject(record('versioned', k))));
    // Every third key is deleted: its delete marker is current, and ListObjects never reads it.
    const deleted = keys.filter((_, i) => i % 3 === 0);
    await m.deleteObjects('versioned', deleted.map((key) => ({ key })));
    const before = m.stats.rowsScanned;
    const page = await m.listObjects('versioned', { prefix: '', delimiter: '', after: '', maxKeys: 50 });
    assert.equal(page.objects.length, 50);
    assert.ok(page.objects.every((o) => !deleted.includes(o.key) && o.isLatest));
    assert.equal(m.stats.rowsScanned - before, unversioned, 'rows scanned for a page over 15,000 versions');

    // A ListObjectVersions page reads its page (and one row to know it is truncated), wherever it starts.
    const start = m.stats.rowsScanned;
    const versions = await m.listObjectVersions('versioned', { prefix: '', delimiter: '', keyMarker: '', versionIdMarker: '', maxKeys: 100 });
    assert.equal(versions.versions.length, 100);
    assert.ok(m.stats.rowsScanned - start <= 101, `rows scanned for a page of versions: ${m.stats.rowsScanned - start}`);
    const middle = m.stats.rowsScanned;
    const next = await m.listObjectVersions('versioned', {
      prefix: '', delimiter: '', keyMarker: versions.nextKeyMarker!, versionIdMarker: versions.nextVersionIdMarker!, maxKeys: 100,
    });
    assert.equal(next.versions.length, 100);
    assert.ok(m.stats.rowsScanned - middle <= 101, `rows scanned for a later page: ${m.stats.rowsScanned - middle}`);
    const firstIds = new Set(versions.versions.map((v) => `${v.key}/${v.versionId}`));
    assert.ok(next.versions.every((v) => !firstIds.has(`${v.key}/${v.versionId}`)), 'pages do not overlap');
  });
});
