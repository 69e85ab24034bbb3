/**
 * A data folder written by an older Cairn opens in this one. Schema 9 moved
 * inline bodies out of the objects rows into object_bodies; a folder whose rows
 * still hold them (schema 8) must serve the same bytes after the upgrade, and
 * overwrites and deletes must then keep bodies and rows in step. Schema 11 made
 * the objects table hold versions: every object from before is its key's `null`
 * version, and enabling versioning afterwards keeps it as an older version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand,
} from '@aws-sdk/client-s3';
import { s3Client, startServer } from './harness.js';
import { md5Hex, newBucket } from './s3-helpers.js';
import { readMetadata } from './data-folder.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';

/**
 * Takes the version columns and indexes away (schema 11; one unique row per key again),
 * puts the bodies back into the rows and forgets the table, the configuration slot, the parts' CRC32C and the leases, as schema 8 stored them.
 */
function downgradeToSchema8(dataDir: string): void {
  const db = new Database(join(dataDir, 'metadata.sqlite'));
  try {
    db.transaction(() => {
      db.exec(`
        DROP INDEX objects_version;
        DROP INDEX objects_listed;
        DROP INDEX objects_history;
        ALTER TABLE objects DROP COLUMN is_latest;
        ALTER TABLE objects DROP COLUMN delete_marker;
        ALTER TABLE objects DROP COLUMN lock_mode;
        ALTER TABLE objects DROP COLUMN lock_until;
        ALTER TABLE objects DROP COLUMN legal_hold;
        ALTER TABLE uploads DROP COLUMN object_lock;
        CREATE UNIQUE INDEX objects_one_per_key ON objects(bucket, key);
        ALTER TABLE objects ADD COLUMN inline BLOB;
        UPDATE objects SET inline = (SELECT bytes FROM object_bodies WHERE object_bodies.id = objects.id);
        DROP TRIGGER objects_body_follows;
        DROP TABLE object_bodies;
        ALTER TABLE buckets DROP COLUMN configs;
        ALTER TABLE parts DROP COLUMN crc32c;
        DROP TABLE leases;
        PRAGMA user_version = 8;
      `);
    })();
  } finally {
    db.close();
  }
}

interface Layout {
  readonly version: number;
  readonly rowsWithBody: number;
  readonly bodies: number;
  /** Bodies whose object row is gone, or rows with extents that still have a body. */
  readonly strayBodies: number;
}

function layout(dataDir: string): Layout {
  return readMetadata(dataDir, (db) => ({
    version: db.pragma('user_version', { simple: true }) as number,
    rowsWithBody: (db.prepare('SELECT count(*) AS n FROM objects o JOIN object_bodies b ON b.id = o.id').get() as { n: number }).n,
    bodies: (db.prepare('SELECT count(*) AS n FROM object_bodies').get() as { n: number }).n,
    strayBodies: (db.prepare(`SELECT count(*) AS n FROM object_bodies b LEFT JOIN objects o ON o.id = b.id
      WHERE o.id IS NULL OR o.extents IS NOT NULL`).get() as { n: number }).n,
  }));
}

test('a schema 8 folder with inline rows upgrades and serves the same bytes', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-upgrade-'));
  try {
    const bodies = new Map<string, Buffer>([
      ['small', Buffer.from('an inline body')],
      ['empty', Buffer.alloc(0)],
      ['edge', Buffer.alloc(32 * 1024, 'e')],
      ['large', Buffer.alloc(200 * 1024, 'L')],
    ]);
    let bucket = '';
    const first = await startServer({ dataDir });
    try {
      const s3 = s3Client(first);
      bucket = await newBucket(s3, 'upgrade');
      for (const [Key, Body] of bodies) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentType: 'text/x-kept', Metadata: { kept: Key } }));
      }
      s3.destroy();
    } finally {
      await first.stop();
    }
    downgradeToSchema8(dataDir);

    const second = await startServer({ dataDir });
    try {
      assert.deepEqual(layout(dataDir), { version: SCHEMA_VERSION, rowsWithBody: 3, bodies: 3, strayBodies: 0 });
      const s3 = s3Client(second);
      for (const [Key, body] of bodies) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key }));
        assert.equal(head.ContentLength, body.length, Key);
        assert.equal(head.ETag, `"${md5Hex(body)}"`, Key);
        assert.equal(head.ContentType, 'text/x-kept');
        assert.deepEqual(head.Metadata, { kept: Key });
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), Key);
      }

      // Inline over inline, blob over inline, inline over blob, and a delete.
      const next = new Map<string, Buffer>([
        ['small', Buffer.from('a second inline body')],
        ['edge', Buffer.alloc(40 * 1024, 'b')],
        ['large', Buffer.from('now small enough to be inline')],
      ]);
      for (const [Key, Body] of next) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'empty' }));
      assert.deepEqual(layout(dataDir), { version: SCHEMA_VERSION, rowsWithBody: 2, bodies: 2, strayBodies: 0 });
      for (const [Key, body] of next) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), Key);
      }
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'empty' })), { name: 'NotFound' });

      // The upgraded objects are 'null' versions: versioning keeps them under new writes.
      const before = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      assert.deepEqual(before.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]), [['edge', 'null', true], ['large', 'null', true], ['small', 'null', true]]);
      await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: 'versioned' }));
      assert.match(put.VersionId ?? '', /^[A-Za-z0-9_-]{32}$/);
      const old = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small', VersionId: 'null' }));
      assert.equal(await old.Body!.transformToString(), 'a second inline body');
      assert.equal(old.VersionId, 'null');
      const current = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small' }));
      assert.equal(await current.Body!.transformToString(), 'versioned');
      assert.equal(current.VersionId, put.VersionId);
      const after = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'small' }));
      assert.deepEqual(after.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[put.VersionId, true], ['null', false]]);
      s3.destroy();
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
