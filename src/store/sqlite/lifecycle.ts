import type Database from 'better-sqlite3';
import { S3Error } from '../../errors.js';
import type {
  Expiry, LifecycleConfiguration, LifecycleCursor, LifecycleMetadata, ObjectIdentity, ScannedVersion, VersionPosition,
} from '../lifecycle-types.js';
import type { BlobId, BucketName, DeleteOutcome, DeleteTarget, ObjectRecord, RestoreState } from '../types.js';
import type { GroupCommit } from './group-commit.js';
import { SELECT_WITH_BODY, toHead, toRecord, type HeadRow, type ObjectRow } from './metadata.js';

const SAME_OBJECT = 'bucket = @bucket AND key = @key AND version_id = @versionId AND etag = @etag AND last_modified = @lastModified';

/** A version row as the lifecycle scan reads it: with its successor's creation time and whether it is alone. */
interface VersionRow extends HeadRow { successor_modified: number | null; alone: number }

function identity(o: ObjectIdentity): Record<string, string | number> {
  return { bucket: o.bucket, key: o.key, versionId: o.versionId, etag: o.etag, lastModified: o.lastModified.getTime() };
}

/** Lifecycle state in the embedded SQLite store; writes share the metadata's group commit. */
export class SqliteLifecycle implements LifecycleMetadata {
  private readonly q;

  /**
   * `remove` deletes one target inside the caller's transaction as DeleteObject does
   * (version rules, locks): expiring a current object of a versioned bucket makes a delete marker.
   */
  constructor(db: Database.Database, private readonly writes: GroupCommit, private readonly remove: (bucket: BucketName, target: DeleteTarget) => DeleteOutcome) {
    this.q = {
      config: db.prepare<[string], { config: string }>('SELECT config FROM bucket_lifecycle WHERE bucket = ?'),
      putConfig: db.prepare(`INSERT INTO bucket_lifecycle (bucket, config) VALUES (?, ?)
        ON CONFLICT(bucket) DO UPDATE SET config = excluded.config`),
      deleteConfig: db.prepare('DELETE FROM bucket_lifecycle WHERE bucket = ?'),
      bucketExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM buckets WHERE name = ?'),
      configured: db.prepare<[string, number], { bucket: string; config: string }>(
        'SELECT bucket, config FROM bucket_lifecycle WHERE bucket >= ? ORDER BY bucket LIMIT ?'),
      // One walk of the history index; the successor and the older-version probe are one seek each.
      scan: db.prepare<{ bucket: string; key: string; below: number; limit: number }, VersionRow>(`SELECT o.*,
          (SELECT s.last_modified FROM objects s INDEXED BY objects_history
            WHERE s.bucket = o.bucket AND s.key = o.key AND s.id > o.id ORDER BY s.id LIMIT 1) AS successor_modified,
          (o.is_latest = 1 AND NOT EXISTS (SELECT 1 FROM objects p INDEXED BY objects_history
            WHERE p.bucket = o.bucket AND p.key = o.key AND p.id < o.id)) AS alone
        FROM objects o INDEXED BY objects_history
        WHERE o.bucket = @bucket AND o.key >= @key AND (o.key > @key OR o.id < @below)
        ORDER BY o.key, o.id DESC LIMIT @limit`),
      hasOther: db.prepare<[string, string, number], { one: number }>(
        'SELECT 1 AS one FROM objects INDEXED BY objects_history WHERE bucket = ? AND key = ? AND id <> ? LIMIT 1'),
      pendingArchives: db.prepare<[number], ObjectRow>(
        `${SELECT_WITH_BODY} WHERE o.cold IS NULL AND o.storage_class IN ('GLACIER', 'DEEP_ARCHIVE') LIMIT ?`),
      restores: db.prepare<[string, string, string, number], ObjectRow>(
        `${SELECT_WITH_BODY} WHERE o.restore IS NOT NULL AND (o.bucket > ? OR (o.bucket = ? AND o.key > ?)) ORDER BY o.bucket, o.key LIMIT ?`),
      object: db.prepare<Record<string, string | number>, HeadRow>(`SELECT * FROM objects WHERE ${SAME_OBJECT}`),
      cursor: db.prepare<[], { bucket: string; key: string }>('SELECT bucket, key FROM lifecycle_cursor WHERE id = 1'),
      setCursor: db.prepare(`INSERT INTO lifecycle_cursor (id, bucket, key) VALUES (1, ?, ?)
        ON CONFLICT(id) DO UPDATE SET bucket = excluded.bucket, key = excluded.key`),
      clearCursor: db.prepare('DELETE FROM lifecycle_cursor'),
      setClass: db.prepare(`UPDATE objects SET storage_class = @storageClass WHERE ${SAME_OBJECT}`),
      archive: db.prepare(`UPDATE objects SET cold = @cold, extents = NULL WHERE ${SAME_OBJECT}`),
      dropBody: db.prepare('DELETE FROM object_bodies WHERE id = ?'),
      setRestore: db.prepare(`UPDATE objects SET restore = @restore WHERE ${SAME_OBJECT}`),
      insertBlob: db.prepare('INSERT OR IGNORE INTO blobs (id) VALUES (?)'),
      killBlob: db.prepare('UPDATE blobs SET dead = ? WHERE id = ?'),
    };
  }

  async getConfiguration(bucket: BucketName): Promise<LifecycleConfiguration | undefined> {
    const row = this.q.config.get(bucket);
    return row && JSON.parse(row.config) as LifecycleConfiguration;
  }

  async putConfiguration(bucket: BucketName, config: LifecycleConfiguration): Promise<void> {
    await this.writes.run(() => {
      if (!this.q.bucketExists.get(bucket)) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
      this.q.putConfig.run(bucket, JSON.stringify(config));
    });
  }

  async deleteConfiguration(bucket: BucketName): Promise<void> {
    await this.writes.run(() => this.q.deleteConfig.run(bucket));
  }

  async configuredBuckets(from: BucketName, limit: number): Promise<{ bucket: BucketName; config: LifecycleConfiguration }[]> {
    return this.q.configured.all(from, limit).map((r) => ({ bucket: r.bucket, config: JSON.parse(r.config) as LifecycleConfiguration }));
  }

  async scanVersions(bucket: BucketName, from: VersionPosition, limit: number): Promise<ScannedVersion[]> {
    const rows = this.q.scan.all({ bucket, key: from.key, below: from.below ?? Number.MAX_SAFE_INTEGER, limit });
    return rows.map((r) => ({
      ...toHead(r),
      isLatest: r.is_latest === 1,
      // A noncurrent row always has a successor; its own creation would be the earliest it could have been replaced.
      ...(r.is_latest === 1 ? {} : { noncurrentSince: new Date(r.successor_modified ?? r.last_modified) }),
      alone: r.alone === 1,
      seq: r.id,
    }));
  }

  async pendingArchives(limit: number): Promise<ObjectRecord[]> {
    return this.q.pendingArchives.all(limit).map(toRecord);
  }

  async restores(after: LifecycleCursor | undefined, limit: number): Promise<ObjectRecord[]> {
    return this.q.restores.all(after?.bucket ?? '', after?.bucket ?? '', after?.key ?? '', limit).map(toRecord);
  }

  async getCursor(): Promise<LifecycleCursor | undefined> {
    return this.q.cursor.get();
  }

  async setCursor(cursor: LifecycleCursor | undefined): Promise<void> {
    await this.writes.run(() => this.saveCursor(cursor));
  }

  private saveCursor(cursor: LifecycleCursor | undefined): void {
    if (cursor) this.q.setCursor.run(cursor.bucket, cursor.key);
    else this.q.clearCursor.run();
  }

  async setStorageClass(object: ObjectIdentity, storageClass: string, cursor: LifecycleCursor): Promise<boolean> {
    return this.writes.run(() => {
      this.saveCursor(cursor);
      return this.q.setClass.run({ ...identity(object), storageClass }).changes > 0;
    });
  }

  async expire(object: ObjectIdentity, expiry: Expiry, cursor: LifecycleCursor): Promise<boolean> {
    return this.writes.run(() => {
      this.saveCursor(cursor);
      const row = this.q.object.get(identity(object));
      if (!row || !this.standsAs(row, expiry)) return false;
      const outcome = this.remove(row.bucket, expiry === 'current' ? { key: row.key } : { key: row.key, versionId: row.version_id });
      return outcome.error === undefined;
    });
  }

  /** Whether the row still stands as the worker saw it: a write or delete since may have changed its place. */
  private standsAs(row: HeadRow, expiry: Expiry): boolean {
    switch (expiry) {
      case 'current': return row.is_latest === 1 && row.delete_marker === 0;
      case 'noncurrent': return row.is_latest === 0;
      case 'lone-marker': return row.is_latest === 1 && row.delete_marker === 1 && !this.q.hasOther.get(row.bucket, row.key, row.id);
    }
  }

  async archive(object: ObjectIdentity, coldFile: BlobId): Promise<boolean> {
    return this.writes.run(() => {
      const row = this.q.object.get(identity(object));
      if (!row || row.cold !== null) return false;
      // Only the object's own bytes leave; a restored copy stays until it expires.
      const own = row.extents === null ? [] : (JSON.parse(row.extents) as { blob: string }[]).map((e) => e.blob);
      this.kill(own);
      this.q.insertBlob.run(coldFile);
      this.q.archive.run({ ...identity(object), cold: coldFile });
      this.q.dropBody.run(row.id);
      return true;
    });
  }

  async setRestore(object: ObjectIdentity, restore: RestoreState): Promise<boolean> {
    return this.writes.run(() => {
      const row = this.q.object.get(identity(object));
      if (!row) return false;
      const previous = row.restore === null ? undefined : (JSON.parse(row.restore) as RestoreState).copy;
      if (previous !== undefined && previous !== restore.copy) this.kill([previous]);
      if (restore.copy !== undefined) this.q.insertBlob.run(restore.copy);
      this.q.setRestore.run({ ...identity(object), restore: JSON.stringify(restore) });
      return true;
    });
  }

  async dropRestore(object: ObjectIdentity, now: number): Promise<boolean> {
    return this.writes.run(() => {
      const row = this.q.object.get(identity(object));
      if (!row || row.restore === null) return false;
      const { copy, expiresAt } = JSON.parse(row.restore) as RestoreState;
      if (expiresAt === undefined || expiresAt > now) return false;
      if (copy !== undefined) this.kill([copy]);
      this.q.setRestore.run({ ...identity(object), restore: null });
      return true;
    });
  }

  private kill(ids: readonly BlobId[]): void {
    for (const id of ids) this.q.killBlob.run(Date.now(), id);
  }
}
