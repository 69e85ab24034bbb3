/** The Metadata contract on the embedded engine, and what only SQLite can show: the rows a listing page reads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadata } from '../../src/store/sqlite/metadata.js';
import type { ObjectRecord } from '../../src/store/types.js';
import { metadataContract } from './metadata-contract.js';

async function openInTempFolder(): Promise<{ metadata: SqliteMetadata; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-contract-'));
  const metadata = new SqliteMetadata(join(dir, 'metadata.sqlite'));
  return {
    metadata,
    async close() {
      await metadata.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

metadataContract('SQLite', openInTempFolder);

const OWNER = 'a'.repeat(64);

function record(key: string): ObjectRecord {
  return {
    bucket: 'b', key, versionId: 'null', size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e', lastModified: new Date(0),
    owner: OWNER, storageClass: 'STANDARD', headers: { contentType: 'binary/octet-stream' }, userMetadata: {},
    acl: { owner: OWNER, grants: [] }, tags: [], data: { kind: 'inline', bytes: Buffer.alloc(0) },
  };
}

test('SQLite: a ListObjectVersions page with a delimiter reads one row per common prefix, however many versions lie beneath', async () => {
  const { metadata: m, close } = await openInTempFolder();
  try {
    await m.createAccount({ id: OWNER, displayName: 'o', email: 'o@example.com', createdAt: new Date() });
    await m.createBucket({ name: 'b', owner: OWNER, createdAt: new Date(), location: '', acl: { owner: OWNER, grants: [] }, configs: {} });
    await m.putBucketConfig('b', 'versioning', () => 'Enabled');
    const keys = Array.from({ length: 40 }, (_, d) => Array.from({ length: 3 }, (_, f) => `dir-${String(d).padStart(2, '0')}/f${f}`)).flat();
    for (let v = 0; v < 50; v++) await Promise.all(keys.map((k) => m.putObject(record(k))));
    const before = m.stats.rowsScanned;
    const page = await m.listObjectVersions('b', { prefix: '', delimiter: '/', keyMarker: '', versionIdMarker: '', maxKeys: 30 });
    assert.equal(page.commonPrefixes.length, 30);
    assert.equal(page.isTruncated, true);
    // One row per prefix, and one more to learn the page is truncated: 6,000 versions lie beneath.
    assert.ok(m.stats.rowsScanned - before <= 31, `rows scanned: ${m.stats.rowsScanned - before}`);
  } finally {
    await close();
  }
});
