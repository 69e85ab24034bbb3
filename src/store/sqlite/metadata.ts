import Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { S3Error } from '../../errors.js';
import { listPage } from '../listing.js';
import { lockChangeRefused, removalBlocked, type LockState } from '../lock-rules.js';
import type {
  AccessKey, Account, AccountId, Acl, BlobExtent, BlobId, Bucket, BucketConfigKind, BucketName, Checksum, ChecksumAlgorithm, ContentHeaders, CorsRule, CreateBucketOutcome,
  DeleteOutcome, DeleteTarget, ListPage, ListQuery, LockChange, Metadata, ObjectHead, ObjectKey, ObjectRecord, ObjectSummary, Part, RestoreState,
  Retention, RetentionMode, TagPair, Upload, UploadListQuery, UploadPage, VersionId, VersionListQuery, VersionPage, WriteCondition,
} from '../types.js';
import { NULL_VERSION, planDelete, planWrite, versioningOf } from '../version-rules.js';
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from './schema.js';
import { GroupCommit } from './group-commit.js';
import { SqliteLifecycle } from './lifecycle.js';

/** An objects row as stored: everything but an inline body (object_bodies holds those). */
export interface HeadRow {
  id: number; bucket: string; key: string; version_id: string; size: number; etag: string; last_modified: number;
  owner: string; storage_class: string; headers: string; user_metadata: string; checksum: string | null;
  extents: string | null; acl: string | null; cold: string | null; restore: string | null; damaged: string | null;
  tags: string | null; is_latest: number; delete_marker: number; lock_mode: string | null; lock_until: number | null; legal_hold: number;
}
/** An objects row joined with its inline body, if it has one. */
export interface ObjectRow extends HeadRow { inline: Buffer | null; inline_crc32c: number | null }
/** Selects ObjectRows: append the WHERE clause. */
export const SELECT_WITH_BODY = 'SELECT o.*, b.bytes AS inline, b.crc32c AS inline_crc32c FROM objects o LEFT JOIN object_bodies b ON b.id = o.id';
type SummaryRow = Pick<HeadRow, 'id' | 'key' | 'version_id' | 'size' | 'etag' | 'last_modified' | 'owner' | 'storage_class' | 'is_latest' | 'delete_marker'>;
const SUMMARY_COLUMNS = 'id, key, version_id, size, etag, last_modified, owner, storage_class, is_latest, delete_marker';
interface UploadRow {
  upload_id: string; bucket: string; key: string; initiated: number; owner: string; storage_class: string;
  headers: string; user_metadata: string; checksum_algorithm: string | null; checksum_type: string | null; acl: string | null;
  tags: string | null; object_lock: string | null;
}
interface PartRow {
  upload_id: string; part_number: number; blob: string; size: number; etag: string; last_modified: number; checksum: string | null;
  crc32c: number | null;
}
interface AccountRow { id: string; display_name: string; email: string; created_at: number }
interface KeyRow { access_key_id: string; secret_key: string; account_id: string; created_at: number }
interface BucketRow { name: string; owner: string; created_at: number; location: string; acl: string | null; cors: string | null; configs: string | null }

/** The path of a database kept in memory (memory mode): no file, no WAL, gone when closed. */
export const MEMORY = ':memory:';

/** Counters that tests and metrics read: how much work listings really do. */
export interface SqliteStats {
  rowsScanned: number;
}

/**
 * Embedded metadata in one SQLite file in WAL mode. Writes go through group
 * commit, which answers only once the WAL is fsynced; reads run directly on the
 * same connection and see only committed state.
 */
export class SqliteMetadata implements Metadata {
  readonly stats: SqliteStats = { rowsScanned: 0 };
  readonly lifecycle: SqliteLifecycle;
  private readonly db: Database.Database;
  private readonly writes: GroupCommit;
  private readonly q;
  /**
   * Access keys and buckets are read on every request and rarely change. They are
   * cached until this connection writes them or another connection (an admin
   * command, another worker) commits anything, which PRAGMA data_version reveals.
   */
  private readonly keyCache = new Map<string, AccessKey | undefined>();
  private readonly bucketCache = new Map<string, Bucket>();
  /**
   * Object records, for the GETs (and HEADs) that come back to the same keys: a hit
   * skips the row read and its JSON parsing, about a quarter of a HEAD's CPU. Every commit
   * on this connection empties it, and so does one by another connection, so a
   * hit is always the row as last committed.
   */
  private readonly objectCache = new LRUCache<string, ObjectRecord>({
    max: OBJECT_CACHE_ENTRIES,
    maxSize: OBJECT_CACHE_BYTES,
    sizeCalculation: recordSize,
  });
  /** The same for HEADs of objects not in objectCache: records read without their inline body. */
  private readonly headCache = new LRUCache<string, ObjectHead>({
    max: OBJECT_CACHE_ENTRIES,
    maxSize: OBJECT_CACHE_BYTES / 4,
    sizeCalculation: headSize,
  });
  private seenVersion = -1;
  /** Set by refreshCaches until the event loop turns: a check made after the request arrived. */
  private checkedThisTurn = false;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // COMMIT writes the WAL; GroupCommit fsyncs it off the event loop before answering.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.writes = new GroupCommit(this.db, path === MEMORY ? undefined : `${path}-wal`, () => this.forgetObjects());
    const db = this.db;
    this.q = {
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      insertAccount: db.prepare('INSERT INTO accounts (id, display_name, email, created_at) VALUES (?, ?, ?, ?)'),
      account: db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE id = ?'),
      accountByEmail: db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE email = ? COLLATE NOCASE'),
      accounts: db.prepare<[], AccountRow>('SELECT * FROM accounts ORDER BY id'),
      ownsBuckets: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM buckets WHERE owner = ?'),
      deleteAccountKeys: db.prepare('DELETE FROM access_keys WHERE account_id = ?'),
      deleteAccount: db.prepare('DELETE FROM accounts WHERE id = ?'),
      insertKey: db.prepare('INSERT INTO access_keys (access_key_id, secret_key, account_id, created_at) VALUES (?, ?, ?, ?)'),
      deleteKey: db.prepare('DELETE FROM access_keys WHERE access_key_id = ?'),
      key: db.prepare<[string], KeyRow>('SELECT * FROM access_keys WHERE access_key_id = ?'),
      keysOf: db.prepare<[string], KeyRow>('SELECT * FROM access_keys WHERE account_id = ? ORDER BY created_at'),
      insertBucket: db.prepare('INSERT INTO buckets (name, owner, created_at, location, acl, configs) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING'),
      adjustStats: db.prepare('UPDATE buckets SET object_count = object_count + ?, byte_count = byte_count + ? WHERE name = ?'),
      stats: db.prepare<[], { name: string; object_count: number; byte_count: number }>('SELECT name, object_count, byte_count FROM buckets ORDER BY name'),
      setBucketAcl: db.prepare('UPDATE buckets SET acl = ? WHERE name = ?'),
      setBucketCors: db.prepare('UPDATE buckets SET cors = ? WHERE name = ?'),
      setBucketConfigs: db.prepare('UPDATE buckets SET configs = ? WHERE name = ?'),
      setObjectAcl: db.prepare('UPDATE objects SET acl = ? WHERE id = ?'),
      setObjectTags: db.prepare('UPDATE objects SET tags = ? WHERE id = ?'),
      setObjectLock: db.prepare('UPDATE objects SET lock_mode = ?, lock_until = ?, legal_hold = ? WHERE id = ?'),
      bucket: db.prepare<[string], BucketRow>('SELECT * FROM buckets WHERE name = ?'),
      bucketsOf: db.prepare<[string], BucketRow>('SELECT * FROM buckets WHERE owner = ? ORDER BY name'),
      bucketHasObjects: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM objects WHERE bucket = ? LIMIT 1'),
      deleteBucket: db.prepare('DELETE FROM buckets WHERE name = ?'),
      // The current version is its key's newest row: the first of objects_history.
      object: db.prepare<[string, string], ObjectRow>(
        `SELECT o.*, b.bytes AS inline FROM objects o INDEXED BY objects_history LEFT JOIN object_bodies b ON b.id = o.id
          WHERE o.bucket = ? AND o.key = ? AND o.is_latest = 1 ORDER BY o.id DESC LIMIT 1`),
      head: db.prepare<[string, string], HeadRow>(
        'SELECT * FROM objects INDEXED BY objects_history WHERE bucket = ? AND key = ? AND is_latest = 1 ORDER BY id DESC LIMIT 1'),
      version: db.prepare<[string, string, string], ObjectRow>(`${SELECT_WITH_BODY} WHERE o.bucket = ? AND o.key = ? AND o.version_id = ?`),
      versionHead: db.prepare<[string, string, string], HeadRow>('SELECT * FROM objects WHERE bucket = ? AND key = ? AND version_id = ?'),
      newestVersion: db.prepare<[string, string], { id: number }>(
        'SELECT id FROM objects INDEXED BY objects_history WHERE bucket = ? AND key = ? ORDER BY id DESC LIMIT 1'),
      setLatest: db.prepare('UPDATE objects SET is_latest = ? WHERE id = ?'),
      insertObject: db.prepare<Record<string, string | number | null>, number>(`INSERT INTO objects (bucket, key, version_id, size, etag, last_modified, owner, storage_class,
          headers, user_metadata, checksum, extents, acl, tags, is_latest, delete_marker, lock_mode, lock_until, legal_hold)
        VALUES (@bucket, @key, @version_id, @size, @etag, @last_modified, @owner, @storage_class,
          @headers, @user_metadata, @checksum, @extents, @acl, @tags, 1, @delete_marker, @lock_mode, @lock_until, @legal_hold)
        RETURNING id`).pluck(),
      putBody: db.prepare('INSERT INTO object_bodies (id, bytes, crc32c) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET bytes = excluded.bytes, crc32c = excluded.crc32c'),
      deleteRow: db.prepare('DELETE FROM objects WHERE id = ?'),
      objectsAfter: db.prepare<[string, string, string, number], ObjectRow>(
        `${SELECT_WITH_BODY} WHERE o.is_latest = 1 AND o.delete_marker = 0 AND (o.bucket > ? OR (o.bucket = ? AND o.key > ?)) ORDER BY o.bucket, o.key LIMIT ?`),
      markDamaged: db.prepare('UPDATE objects SET damaged = ? WHERE bucket = ? AND key = ? AND version_id = ? AND etag = ? AND last_modified = ?'),
      // Forced onto the index of listed keys: a page never reads older versions or delete markers.
      scanAfter: db.prepare<[string, string], SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM objects INDEXED BY objects_listed WHERE bucket = ? AND key > ? AND is_latest = 1 AND delete_marker = 0 ORDER BY key`),
      scanFrom: db.prepare<[string, string], SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM objects INDEXED BY objects_listed WHERE bucket = ? AND key >= ? AND is_latest = 1 AND delete_marker = 0 ORDER BY key`),
      versionsAfter: db.prepare<[string, string], SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM objects INDEXED BY objects_history WHERE bucket = ? AND key > ? ORDER BY key, id DESC`),
      versionsFrom: db.prepare<[string, string], SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM objects INDEXED BY objects_history WHERE bucket = ? AND key >= ? ORDER BY key, id DESC`),
      versionsOfKeyBelow: db.prepare<[string, string, number], SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM objects INDEXED BY objects_history WHERE bucket = ? AND key = ? AND id < ? ORDER BY id DESC`),
      insertUpload: db.prepare(`INSERT INTO uploads (upload_id, bucket, key, initiated, owner, storage_class, headers,
          user_metadata, checksum_algorithm, checksum_type, acl, tags, object_lock) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      upload: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE upload_id = ?'),
      deleteUpload: db.prepare('DELETE FROM uploads WHERE upload_id = ?'),
      uploadsOfBucket: db.prepare<[string], { upload_id: string }>('SELECT upload_id FROM uploads WHERE bucket = ?'),
      uploadsAfter: db.prepare<[string, string], UploadRow>('SELECT * FROM uploads WHERE bucket = ? AND key > ? ORDER BY key, upload_id'),
      uploadsFrom: db.prepare<[string, string], UploadRow>('SELECT * FROM uploads WHERE bucket = ? AND key >= ? ORDER BY key, upload_id'),
      uploadsOfKeyAfter: db.prepare<[string, string, string], UploadRow>(
        'SELECT * FROM uploads WHERE bucket = ? AND key = ? AND upload_id > ? ORDER BY upload_id'),
      part: db.prepare<[string, number], PartRow>('SELECT * FROM parts WHERE upload_id = ? AND part_number = ?'),
      upsertPart: db.prepare(`INSERT INTO parts (upload_id, part_number, blob, size, etag, last_modified, checksum, crc32c)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(upload_id, part_number) DO UPDATE SET blob = excluded.blob,
        size = excluded.size, etag = excluded.etag, last_modified = excluded.last_modified, checksum = excluded.checksum,
        crc32c = excluded.crc32c`),
      partsAfter: db.prepare<[string, number, number], PartRow>(
        'SELECT * FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?'),
      allParts: db.prepare<[string], PartRow>('SELECT * FROM parts WHERE upload_id = ? ORDER BY part_number'),
      deleteParts: db.prepare('DELETE FROM parts WHERE upload_id = ?'),
      insertBlob: db.prepare('INSERT INTO blobs (id) VALUES (?)'),
      killBlob: db.prepare('UPDATE blobs SET dead = ? WHERE id = ?'),
      deadBlobs: db.prepare<[number, number], { id: string }>('SELECT id FROM blobs WHERE dead > 0 AND dead <= ? LIMIT ?'),
      forgetBlob: db.prepare('DELETE FROM blobs WHERE id = ? AND dead > 0'),
      blob: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM blobs WHERE id = ?'),
      // Taken when free, expired, or already this holder's (a renewal).
      takeLease: db.prepare(`INSERT INTO leases (name, holder, expires) VALUES (@name, @holder, @expires)
        ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
        WHERE leases.holder = excluded.holder OR leases.expires <= @now`),
      dropLease: db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?'),
    };
    this.lifecycle = new SqliteLifecycle(db, this.writes, (bucket, target) => this.deleteTargets(bucket, [target], false)[0]!);
  }

  private migrate(): void {
    this.db.transaction(() => {
      let version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new Error(`metadata schema ${version} is newer than this Cairn (${SCHEMA_VERSION})`);
      if (version === 0) {
        this.db.exec(SCHEMA);
        version = 1;
      }
      // A number may be unused on a branch (assigned to work merged elsewhere).
      for (let next = version + 1; next <= SCHEMA_VERSION; next++) {
        const step = MIGRATIONS[next];
        if (typeof step === 'string') this.db.exec(step);
        else if (step !== undefined) step(this.db);
      }
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }).immediate();
  }

  async createAccount(a: Account): Promise<void> {
    await this.writes.run(() => this.q.insertAccount.run(a.id, a.displayName, a.email, a.createdAt.getTime()));
  }
  async getAccount(id: AccountId): Promise<Account | undefined> {
    return toAccount(this.q.account.get(id));
  }
  async getAccountByEmail(email: string): Promise<Account | undefined> {
    return toAccount(this.q.accountByEmail.get(email));
  }
  async listAccounts(): Promise<Account[]> {
    return this.q.accounts.all().map((r) => toAccount(r)!);
  }
  async deleteAccount(id: AccountId): Promise<void> {
    await this.writes.run(() => {
      if (this.q.ownsBuckets.get(id)!.n > 0) throw new Error(`account ${id} still owns buckets`);
      this.forgetCaches();
      this.q.deleteAccountKeys.run(id);
      if (this.q.deleteAccount.run(id).changes === 0) throw new Error(`no account ${id}`);
    });
  }
  async addAccessKey(k: AccessKey): Promise<void> {
    await this.writes.run(() => {
      this.forgetCaches();
      this.q.insertKey.run(k.accessKeyId, k.secretKey, k.accountId, k.createdAt.getTime());
    });
  }
  async revokeAccessKey(accessKeyId: string): Promise<boolean> {
    return this.writes.run(() => {
      this.forgetCaches();
      return this.q.deleteKey.run(accessKeyId).changes > 0;
    });
  }
  async getAccessKey(accessKeyId: string): Promise<AccessKey | undefined> {
    if (!this.checkedThisTurn) this.revalidateCaches();
    if (this.keyCache.has(accessKeyId)) return this.keyCache.get(accessKeyId);
    const key = toKey(this.q.key.get(accessKeyId));
    remember(this.keyCache, accessKeyId, key);
    return key;
  }
  async listAccessKeys(accountId: AccountId): Promise<AccessKey[]> {
    return this.q.keysOf.all(accountId).map((r) => toKey(r)!);
  }

  async createBucket(b: Bucket, owned: 'keep' | 'reset-acl' = 'keep'): Promise<CreateBucketOutcome> {
    return this.writes.run(() => {
      if (this.q.insertBucket.run(b.name, b.owner, b.createdAt.getTime(), b.location, JSON.stringify(b.acl), Object.keys(b.configs).length > 0 ? JSON.stringify(b.configs) : null).changes > 0) {
        this.forgetCaches();
        return 'created';
      }
      if (this.q.bucket.get(b.name)!.owner !== b.owner) return 'owned-by-other';
      if (owned === 'reset-acl') {
        this.forgetCaches();
        this.q.setBucketAcl.run(JSON.stringify(b.acl), b.name);
      }
      return 'owned-by-you';
    });
  }
  async getBucket(name: BucketName): Promise<Bucket | undefined> {
    if (!this.checkedThisTurn) this.revalidateCaches();
    const cached = this.bucketCache.get(name);
    if (cached) return cached;
    const bucket = toBucket(this.q.bucket.get(name));
    if (bucket) remember(this.bucketCache, name, bucket);
    return bucket;
  }

  refreshCaches(): void {
    this.revalidateCaches();
    if (!this.checkedThisTurn) {
      this.checkedThisTurn = true;
      setImmediate(() => { this.checkedThisTurn = false; });
    }
  }

  private revalidateCaches(): void {
    const version = this.q.dataVersion.get()!;
    if (version !== this.seenVersion) {
      this.seenVersion = version;
      this.forgetCaches();
    }
  }

  private forgetCaches(): void {
    this.keyCache.clear();
    this.bucketCache.clear();
    this.forgetObjects();
  }

  private forgetObjects(): void {
    // clear() costs the cache's capacity, not its size: skip it when there is nothing to forget.
    if (this.objectCache.size > 0) this.objectCache.clear();
    if (this.headCache.size > 0) this.headCache.clear();
  }
  async listBuckets(owner: AccountId): Promise<Bucket[]> {
    return this.q.bucketsOf.all(owner).map((r) => toBucket(r)!);
  }
  async putBucketAcl(name: BucketName, acl: Acl): Promise<void> {
    await this.writes.run(() => {
      this.forgetCaches();
      if (this.q.setBucketAcl.run(JSON.stringify(acl), name).changes === 0) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
    });
  }

  async putBucketCors(name: BucketName, rules: readonly CorsRule[] | undefined): Promise<void> {
    await this.writes.run(() => {
      this.forgetCaches();
      if (this.q.setBucketCors.run(rules ? JSON.stringify(rules) : null, name).changes === 0) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
    });
  }

  async putBucketConfig(name: BucketName, kind: BucketConfigKind, update: (current: string | undefined) => string | undefined): Promise<void> {
    await this.writes.run(() => {
      const row = this.q.bucket.get(name);
      if (!row) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
      const configs = configsOf(row.configs);
      const next = update(configs[kind]);
      if (next === undefined) delete configs[kind];
      else configs[kind] = next;
      this.forgetCaches();
      this.q.setBucketConfigs.run(Object.keys(configs).length > 0 ? JSON.stringify(configs) : null, name);
    });
  }

  async putObjectAcl(bucket: BucketName, key: ObjectKey, acl: Acl, versionId?: VersionId): Promise<VersionId> {
    return this.writes.run(() => {
      const row = this.addressed(bucket, key, versionId);
      this.q.setObjectAcl.run(JSON.stringify(acl), row.id);
      return row.version_id;
    });
  }

  async putObjectTags(bucket: BucketName, key: ObjectKey, tags: readonly TagPair[], versionId?: VersionId): Promise<VersionId> {
    return this.writes.run(() => {
      const row = this.addressed(bucket, key, versionId);
      this.q.setObjectTags.run(tagsJson(tags), row.id);
      return row.version_id;
    });
  }

  async putObjectLock(bucket: BucketName, key: ObjectKey, versionId: VersionId | undefined, change: LockChange): Promise<VersionId> {
    return this.writes.run(() => {
      const row = this.addressed(bucket, key, versionId);
      const current = lockOf(row);
      const refused = lockChangeRefused(current, change, Date.now());
      if (refused) throw refused;
      const retention = change.retention === undefined ? current.retention : change.retention ?? undefined;
      const legalHold = change.legalHold ?? current.legalHold ?? false;
      this.q.setObjectLock.run(retention?.mode ?? null, retention?.retainUntil.getTime() ?? null, legalHold ? 1 : 0, row.id);
      return row.version_id;
    });
  }

  /**
   * The version a sub-resource request addresses, inside its transaction: NoSuchKey or
   * NoSuchVersion when absent, MethodNotAllowed for a delete marker, as S3 answers.
   */
  private addressed(bucket: BucketName, key: ObjectKey, versionId: VersionId | undefined): HeadRow {
    const row = versionId === undefined ? this.q.head.get(bucket, key) : this.q.versionHead.get(bucket, key, versionId);
    if (!row || (versionId === undefined && row.delete_marker)) {
      if (versionId !== undefined) throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
      throw new S3Error('NoSuchKey', undefined, { Key: key });
    }
    if (row.delete_marker) throw new S3Error('MethodNotAllowed', undefined, { Method: 'PUT', ResourceType: 'DeleteMarker' }, { 'x-amz-delete-marker': 'true' });
    return row;
  }

  async deleteBucket(name: BucketName): Promise<void> {
    await this.writes.run(() => {
      if (!this.q.bucket.get(name)) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
      if (this.q.bucketHasObjects.get(name)) throw new S3Error('BucketNotEmpty', undefined, { BucketName: name });
      // Unfinished uploads do not keep a bucket alive; they go with it.
      for (const { upload_id } of this.q.uploadsOfBucket.all(name)) this.dropUpload(upload_id, new Set());
      this.forgetCaches();
      this.q.deleteBucket.run(name);
    });
  }

  async getObject(bucket: BucketName, key: ObjectKey, versionId?: VersionId): Promise<ObjectRecord | undefined> {
    if (!this.checkedThisTurn) this.revalidateCaches();
    return readThrough(this.objectCache, objectId(bucket, key, versionId), () => {
      const row = versionId === undefined ? this.q.object.get(bucket, key) : this.q.version.get(bucket, key, versionId);
      return row && toRecord(row);
    });
  }

  async headObject(bucket: BucketName, key: ObjectKey, versionId?: VersionId): Promise<ObjectHead | undefined> {
    if (!this.checkedThisTurn) this.revalidateCaches();
    const id = objectId(bucket, key, versionId);
    return this.objectCache.get(id) ?? readThrough(this.headCache, id, () => {
      const row = versionId === undefined ? this.q.head.get(bucket, key) : this.q.versionHead.get(bucket, key, versionId);
      return row && toHead(row);
    });
  }

  async scanObjects(after: { bucket: BucketName; key: ObjectKey } | undefined, limit: number): Promise<ObjectRecord[]> {
    return this.q.objectsAfter.all(after?.bucket ?? '', after?.bucket ?? '', after?.key ?? '', limit).map(toRecord);
  }

  async markDamaged(r: ObjectRecord, reason: string): Promise<boolean> {
    return this.writes.run(() => this.q.markDamaged.run(reason, r.bucket, r.key, r.versionId, r.etag, r.lastModified.getTime()).changes > 0);
  }

  async putObject(r: ObjectRecord, condition?: WriteCondition): Promise<VersionId> {
    return this.writes.run(() => {
      if (r.data.kind === 'blobs') for (const e of r.data.extents) this.q.insertBlob.run(e.blob);
      return this.commitVersion(r, condition).versionId;
    });
  }

  /**
   * Makes `r` its key's current version under the bucket's versioning (version-rules.ts):
   * checks the condition against the current version, releases the `null` version it
   * replaces (unless locked), and keeps the bucket's totals in step. Returns the record as stored.
   */
  private commitVersion(r: ObjectRecord, condition: WriteCondition | undefined): ObjectRecord {
    const bucket = this.q.bucket.get(r.bucket);
    if (!bucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: r.bucket });
    let current = this.q.head.get(r.bucket, r.key);
    checkCondition(current && !current.delete_marker ? current : undefined, condition, r.key);
    const plan = planWrite(versioningOf({ configs: configsOf(bucket.configs) }));
    if (plan.replacesNull) {
      const replaced = current?.version_id === NULL_VERSION ? current : this.q.versionHead.get(r.bucket, r.key, NULL_VERSION);
      if (replaced) {
        const blocked = removalBlocked(lockOf(replaced), Date.now(), false);
        if (blocked) throw blocked;
        this.removeRow(replaced);
        // Removing the current version made the next one current; that one goes below the new version.
        current = this.q.head.get(r.bucket, r.key);
      }
    }
    if (current) this.q.setLatest.run(0, current.id);
    const stored: ObjectRecord = { ...r, versionId: plan.versionId };
    this.insertVersion(stored);
    return stored;
  }

  /** Inserts a version as its key's latest, with its inline body, and counts it in the bucket's totals. */
  private insertVersion(r: ObjectRecord): void {
    if (!r.deleteMarker) this.q.adjustStats.run(1, r.size, r.bucket);
    const id = this.q.insertObject.get({
      bucket: r.bucket, key: r.key, version_id: r.versionId, size: r.size, etag: r.etag,
      last_modified: r.lastModified.getTime(), owner: r.owner, storage_class: r.storageClass,
      headers: JSON.stringify(r.headers), user_metadata: JSON.stringify(r.userMetadata),
      checksum: r.checksum ? JSON.stringify(r.checksum) : null,
      extents: r.data.kind === 'blobs' ? JSON.stringify(r.data.extents) : null,
      acl: JSON.stringify(r.acl), tags: tagsJson(r.tags), delete_marker: r.deleteMarker ? 1 : 0,
      lock_mode: r.retention?.mode ?? null, lock_until: r.retention?.retainUntil.getTime() ?? null, legal_hold: r.legalHold ? 1 : 0,
    })!;
    if (r.data.kind === 'inline' && !r.deleteMarker) this.q.putBody.run(id, r.data.bytes, r.data.crc32c ?? null);
  }

  /**
   * Removes one version row: its blobs are queued for deletion, its body goes with it
   * (trigger), and when it was current the newest remaining version becomes current.
   */
  private removeRow(row: HeadRow): void {
    this.killBlobsOf(row);
    this.q.deleteRow.run(row.id);
    if (!row.delete_marker) this.q.adjustStats.run(-1, -row.size, row.bucket);
    if (row.is_latest) {
      const next = this.q.newestVersion.get(row.bucket, row.key);
      if (next) this.q.setLatest.run(1, next.id);
    }
  }

  /** Removes an upload and its parts; part blobs not in `keep` are queued for deletion. */
  private dropUpload(uploadId: string, keep: ReadonlySet<string>): void {
    for (const part of this.q.allParts.all(uploadId)) if (!keep.has(part.blob)) this.q.killBlob.run(Date.now(), part.blob);
    this.q.deleteParts.run(uploadId);
    this.q.deleteUpload.run(uploadId);
  }

  async deleteObject(bucket: BucketName, key: ObjectKey): Promise<boolean> {
    return this.writes.run(() => {
      const existed = this.q.head.get(bucket, key);
      const [outcome] = this.deleteTargets(bucket, [{ key }], false);
      if (outcome!.error) throw outcome!.error;
      return existed !== undefined && !existed.delete_marker;
    });
  }

  async deleteObjects(bucket: BucketName, targets: readonly DeleteTarget[], options: { bypassGovernance?: boolean } = {}): Promise<DeleteOutcome[]> {
    return this.writes.run(() => this.deleteTargets(bucket, targets, options.bypassGovernance ?? false));
  }

  private deleteTargets(bucket: BucketName, targets: readonly DeleteTarget[], bypass: boolean): DeleteOutcome[] {
    const row = this.q.bucket.get(bucket);
    if (!row) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
    const status = versioningOf({ configs: configsOf(row.configs) });
    const now = Date.now();
    return targets.map((t) => {
      const requested = t.versionId !== undefined ? { requestedVersionId: t.versionId } : {};
      try {
        if (t.versionId !== undefined) {
          const version = this.q.versionHead.get(bucket, t.key, t.versionId);
          // Deleting a version that is not there succeeds and changes nothing, as in S3.
          if (!version) return { key: t.key, ...requested, versionId: t.versionId, deleteMarker: false };
          const blocked = version.delete_marker ? undefined : removalBlocked(lockOf(version), now, bypass);
          if (blocked) throw blocked;
          this.removeRow(version);
          return { key: t.key, ...requested, versionId: t.versionId, deleteMarker: version.delete_marker === 1 };
        }
        const plan = planDelete(status);
        const nullVersion = this.q.versionHead.get(bucket, t.key, NULL_VERSION);
        if (plan.kind === 'remove-null') {
          if (nullVersion) {
            const blocked = removalBlocked(lockOf(nullVersion), now, bypass);
            if (blocked) throw blocked;
            this.removeRow(nullVersion);
          }
          return { key: t.key, deleteMarker: false };
        }
        if (plan.replacesNull && nullVersion) {
          const blocked = nullVersion.delete_marker ? undefined : removalBlocked(lockOf(nullVersion), now, bypass);
          if (blocked) throw blocked;
          this.removeRow(nullVersion);
        }
        const current = this.q.head.get(bucket, t.key);
        if (current) this.q.setLatest.run(0, current.id);
        this.insertVersion(deleteMarker(bucket, t.key, plan.versionId, row.owner, now));
        return { key: t.key, versionId: plan.versionId, deleteMarker: true };
      } catch (err) {
        if (!(err instanceof S3Error)) throw err;
        return { key: t.key, ...requested, deleteMarker: false, error: err };
      }
    });
  }

  async listObjects(bucket: BucketName, query: ListQuery): Promise<ListPage> {
    const stats = this.stats;
    const q = this.q;
    function* scan(from: string, inclusive: boolean): Iterable<ObjectSummary> {
      for (const row of (inclusive ? q.scanFrom : q.scanAfter).iterate(bucket, from)) {
        stats.rowsScanned++;
        yield toSummary(row);
      }
    }
    const page = await listPage(scan, query);
    return { objects: page.entries, commonPrefixes: page.commonPrefixes, isTruncated: page.isTruncated, ...(page.last !== undefined ? { last: page.last } : {}) };
  }

  async listObjectVersions(bucket: BucketName, query: VersionListQuery): Promise<VersionPage> {
    const stats = this.stats;
    const q = this.q;
    // Within the marker's own key, only versions older than the version-id marker remain.
    const markerRow = query.versionIdMarker !== '' && query.keyMarker !== ''
      ? q.versionHead.get(bucket, query.keyMarker, query.versionIdMarker) : undefined;
    function* scan(from: string, inclusive: boolean): Iterable<ObjectSummary & { id: number }> {
      if (!inclusive && markerRow && from === query.keyMarker) {
        for (const row of q.versionsOfKeyBelow.iterate(bucket, from, markerRow.id)) {
          stats.rowsScanned++;
          yield { ...toSummary(row), id: row.id };
        }
      }
      for (const row of (inclusive ? q.versionsFrom : q.versionsAfter).iterate(bucket, from)) {
        stats.rowsScanned++;
        yield { ...toSummary(row), id: row.id };
      }
    }
    const page = await listPage(scan, { prefix: query.prefix, delimiter: query.delimiter, after: query.keyMarker, maxKeys: query.maxKeys });
    const lastEntry = page.entries.at(-1);
    const endsOnVersion = lastEntry !== undefined && lastEntry.key === page.last;
    return {
      versions: page.entries.map(({ id: _id, ...summary }) => summary),
      commonPrefixes: page.commonPrefixes,
      isTruncated: page.isTruncated,
      ...(page.isTruncated && page.last !== undefined ? { nextKeyMarker: page.last } : {}),
      ...(page.isTruncated && endsOnVersion ? { nextVersionIdMarker: lastEntry.versionId } : {}),
    };
  }

  async createUpload(u: Upload): Promise<void> {
    await this.writes.run(() => {
      if (!this.q.bucket.get(u.bucket)) throw new S3Error('NoSuchBucket', undefined, { BucketName: u.bucket });
      this.q.insertUpload.run(u.uploadId, u.bucket, u.key, u.initiated.getTime(), u.owner, u.storageClass,
        JSON.stringify(u.headers), JSON.stringify(u.userMetadata), u.checksumAlgorithm ?? null, u.checksumType ?? null,
        JSON.stringify(u.acl), tagsJson(u.tags), uploadLockJson(u));
    });
  }

  async getUpload(uploadId: string): Promise<Upload | undefined> {
    const row = this.q.upload.get(uploadId);
    return row && toUpload(row);
  }

  async putPart(p: Part): Promise<void> {
    await this.writes.run(() => {
      if (!this.q.upload.get(p.uploadId)) throw new S3Error('NoSuchUpload', undefined, { UploadId: p.uploadId });
      const previous = this.q.part.get(p.uploadId, p.partNumber);
      if (previous) this.q.killBlob.run(Date.now(), previous.blob);
      this.q.insertBlob.run(p.blob);
      this.q.upsertPart.run(p.uploadId, p.partNumber, p.blob, p.size, p.etag, p.lastModified.getTime(), p.checksum ?? null, p.crc32c ?? null);
    });
  }

  async listParts(uploadId: string, afterPart: number, limit: number): Promise<Part[]> {
    return this.q.partsAfter.all(uploadId, afterPart, limit).map(toPart);
  }

  async completeUpload(uploadId: string, assemble: (upload: Upload, parts: readonly Part[]) => ObjectRecord, condition?: WriteCondition): Promise<ObjectRecord> {
    return this.writes.run(() => {
      const row = this.q.upload.get(uploadId);
      if (!row) throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
      const record = assemble(toUpload(row), this.q.allParts.all(uploadId).map(toPart));
      const used = new Set(record.data.kind === 'blobs' ? record.data.extents.map((e) => e.blob) : []);
      const stored = this.commitVersion(record, condition);
      this.dropUpload(uploadId, used);
      return stored;
    });
  }

  async abortUpload(uploadId: string): Promise<boolean> {
    return this.writes.run(() => {
      if (!this.q.upload.get(uploadId)) return false;
      this.dropUpload(uploadId, new Set());
      return true;
    });
  }

  async listUploads(bucket: BucketName, query: UploadListQuery): Promise<UploadPage> {
    const q = this.q;
    // Within the marker's own key, only uploads after the upload-id marker remain.
    function* scan(from: string, inclusive: boolean): Iterable<Upload & { key: string }> {
      if (!inclusive && from === query.keyMarker && query.uploadIdMarker !== '') {
        for (const row of q.uploadsOfKeyAfter.iterate(bucket, from, query.uploadIdMarker)) yield toUpload(row);
      }
      for (const row of (inclusive ? q.uploadsFrom : q.uploadsAfter).iterate(bucket, from)) yield toUpload(row);
    }
    const page = await listPage(scan, {
      prefix: query.prefix, delimiter: query.delimiter, after: query.keyMarker, maxKeys: query.maxUploads,
    });
    return { uploads: page.entries, commonPrefixes: page.commonPrefixes, isTruncated: page.isTruncated };
  }

  async bucketStats(): Promise<{ bucket: BucketName; objects: number; bytes: number }[]> {
    return this.q.stats.all().map((r) => ({ bucket: r.name, objects: r.object_count, bytes: r.byte_count }));
  }

  async takeGarbage(limit: number, deadBefore: number): Promise<BlobId[]> {
    return this.q.deadBlobs.all(deadBefore, limit).map((r) => r.id);
  }
  async forgetGarbage(ids: readonly BlobId[]): Promise<void> {
    await this.writes.run(() => {
      for (const id of ids) this.q.forgetBlob.run(id);
    });
  }
  async knowsBlob(id: BlobId): Promise<boolean> {
    return this.q.blob.get(id) !== undefined;
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.writes.run(() => {
      const now = Date.now();
      return this.q.takeLease.run({ name, holder, expires: now + ttlMs, now }).changes > 0;
    });
  }
  async releaseLease(name: string, holder: string): Promise<void> {
    await this.writes.run(() => this.q.dropLease.run(name, holder));
  }

  async ping(): Promise<void> {
    this.q.dataVersion.get();
  }

  async close(): Promise<void> {
    await this.writes.drain();
    this.db.close();
  }

  private killBlobsOf(row: HeadRow): void {
    for (const blob of blobsOf(row)) this.q.killBlob.run(Date.now(), blob);
  }
}

const CACHE_LIMIT = 10_000;
const OBJECT_CACHE_ENTRIES = 20_000;
/** Inline bodies (up to 32 KiB each) count against this, so the cache stays small beside a worker's heap. */
const OBJECT_CACHE_BYTES = 64 * 1024 * 1024;
/** What a record's fields cost besides its inline body, roughly. */
const OBJECT_RECORD_OVERHEAD = 1024;

/** Bucket names cannot hold a slash, so `bucket/key` names a current object; a NUL (never in a key) adds a version. */
function objectId(bucket: BucketName, key: ObjectKey, versionId: VersionId | undefined): string {
  return versionId === undefined ? `${bucket}/${key}` : `${bucket}/${key}\0${versionId}`;
}

/** A delete marker as a version record: no bytes, no ETag, owned by the bucket owner. */
function deleteMarker(bucket: BucketName, key: ObjectKey, versionId: VersionId, owner: AccountId, now: number): ObjectRecord {
  return {
    bucket, key, versionId, size: 0, etag: '', lastModified: new Date(now), owner, storageClass: 'STANDARD',
    headers: { contentType: '' }, userMetadata: {}, acl: { owner, grants: [] }, tags: [],
    data: { kind: 'inline', bytes: Buffer.alloc(0) }, deleteMarker: true,
  };
}

function lockOf(row: HeadRow): LockState {
  return {
    ...(row.lock_mode !== null && row.lock_until !== null
      ? { retention: { mode: row.lock_mode as RetentionMode, retainUntil: new Date(row.lock_until) } } : {}),
    legalHold: row.legal_hold === 1,
  };
}

/** An upload's Object Lock settings as stored (JSON; NULL when it has none). */
function uploadLockJson(u: Upload): string | null {
  if (u.retention === undefined && !u.legalHold) return null;
  return JSON.stringify({ ...(u.retention ? { mode: u.retention.mode, until: u.retention.retainUntil.getTime() } : {}), legalHold: u.legalHold ?? false });
}
function uploadLockOf(json: string | null): { retention?: Retention; legalHold?: boolean } {
  if (json === null) return {};
  const lock = JSON.parse(json) as { mode?: RetentionMode; until?: number; legalHold: boolean };
  return {
    ...(lock.mode !== undefined && lock.until !== undefined ? { retention: { mode: lock.mode, retainUntil: new Date(lock.until) } } : {}),
    ...(lock.legalHold ? { legalHold: true } : {}),
  };
}

/** What `read` gives, kept in `cache` under `id` (an absent object is not kept). */
function readThrough<T extends object>(cache: LRUCache<string, T>, id: string, read: () => T | undefined): T | undefined {
  const cached = cache.get(id);
  if (cached) return cached;
  const value = read();
  if (value) cache.set(id, value);
  return value;
}

/** What a cached head costs: its tags (up to ten of 384 characters) on top of the overhead. */
function headSize(r: ObjectHead): number {
  return OBJECT_RECORD_OVERHEAD + r.tags.reduce((n, t) => n + 2 * (t.key.length + t.value.length), 0);
}

/** What a cached record costs: its head and its inline body. */
function recordSize(r: ObjectRecord): number {
  return headSize(r) + (r.data.kind === 'inline' ? r.data.bytes.length : 0);
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
}

function checkCondition(current: HeadRow | undefined, condition: WriteCondition | undefined, key: string): void {
  if (!condition) return;
  if (condition.ifNoneMatch !== undefined && current) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
  if (condition.ifMatch !== undefined) {
    if (!current) throw new S3Error('NoSuchKey', undefined, { Key: key });
    if (condition.ifMatch !== '*' && condition.ifMatch !== current.etag) {
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
    }
  }
}

/** A stored ACL; rows from before ACLs existed are private to their owner. */
function aclOf(json: string | null, owner: string): Acl {
  return json === null ? { owner, grants: [{ grantee: { kind: 'user', id: owner }, permission: 'FULL_CONTROL' }] } : JSON.parse(json) as Acl;
}

/** Tags as stored: NULL for none, so rows written before tagging existed read the same. */
function tagsJson(tags: readonly TagPair[]): string | null {
  return tags.length === 0 ? null : JSON.stringify(tags);
}
function tagsOf(json: string | null): TagPair[] {
  return json === null ? [] : JSON.parse(json) as TagPair[];
}

function toUpload(r: UploadRow): Upload {
  return {
    uploadId: r.upload_id, bucket: r.bucket, key: r.key, initiated: new Date(r.initiated), owner: r.owner,
    storageClass: r.storage_class, headers: JSON.parse(r.headers) as ContentHeaders,
    userMetadata: JSON.parse(r.user_metadata) as Record<string, string>,
    ...(r.checksum_algorithm !== null ? { checksumAlgorithm: r.checksum_algorithm as ChecksumAlgorithm } : {}),
    ...(r.checksum_type !== null ? { checksumType: r.checksum_type as 'FULL_OBJECT' | 'COMPOSITE' } : {}),
    acl: aclOf(r.acl, r.owner),
    tags: tagsOf(r.tags),
    ...uploadLockOf(r.object_lock),
  };
}
function toPart(r: PartRow): Part {
  return {
    uploadId: r.upload_id, partNumber: r.part_number, blob: r.blob, size: r.size, etag: r.etag,
    lastModified: new Date(r.last_modified), ...(r.checksum !== null ? { checksum: r.checksum } : {}),
    ...(r.crc32c !== null ? { crc32c: r.crc32c } : {}),
  };
}
function toAccount(r: AccountRow | undefined): Account | undefined {
  return r && { id: r.id, displayName: r.display_name, email: r.email, createdAt: new Date(r.created_at) };
}
function toKey(r: KeyRow | undefined): AccessKey | undefined {
  return r && { accessKeyId: r.access_key_id, secretKey: r.secret_key, accountId: r.account_id, createdAt: new Date(r.created_at) };
}
function toBucket(r: BucketRow | undefined): Bucket | undefined {
  return r && {
    name: r.name, owner: r.owner, createdAt: new Date(r.created_at), location: r.location, acl: aclOf(r.acl, r.owner),
    ...(r.cors !== null ? { cors: JSON.parse(r.cors) as CorsRule[] } : {}),
    configs: configsOf(r.configs),
  };
}
function configsOf(json: string | null): Partial<Record<BucketConfigKind, string>> {
  return json === null ? {} : JSON.parse(json) as Partial<Record<BucketConfigKind, string>>;
}
function toSummary(r: SummaryRow): ObjectSummary {
  return {
    key: r.key, versionId: r.version_id, size: r.size, etag: r.etag, lastModified: new Date(r.last_modified),
    owner: r.owner, storageClass: r.storage_class, isLatest: r.is_latest === 1, deleteMarker: r.delete_marker === 1,
  };
}
/** Every blob file an object row holds: its extents, its cold file, its restored copy. */
function blobsOf(row: HeadRow): BlobId[] {
  const ids = row.extents === null ? [] : (JSON.parse(row.extents) as BlobExtent[]).map((e) => e.blob);
  if (row.cold !== null) ids.push(row.cold);
  const copy = row.restore === null ? undefined : (JSON.parse(row.restore) as RestoreState).copy;
  if (copy !== undefined) ids.push(copy);
  return ids;
}

export function toRecord(r: ObjectRow): ObjectRecord {
  const head = toHead(r);
  if (head.data.kind !== 'inline') return { ...head, data: head.data };
  if (r.delete_marker) return { ...head, data: { kind: 'inline', bytes: Buffer.alloc(0) } };
  if (r.inline === null) throw new Error(`object ${r.bucket}/${r.key} has lost its inline body`);
  return { ...head, data: { kind: 'inline', bytes: r.inline, ...(r.inline_crc32c !== null ? { crc32c: r.inline_crc32c } : {}) } };
}

export function toHead(r: HeadRow): ObjectHead {
  const restore = r.restore === null ? undefined : JSON.parse(r.restore) as RestoreState;
  // An archived object serves its restored copy, if any; its own bytes are cold.
  // Extents name blob-held bytes; a row with neither extents nor a cold file has an inline body.
  const data: ObjectHead['data'] = restore?.copy !== undefined
    ? { kind: 'blobs', extents: [{ blob: restore.copy, size: r.size }] }
    : r.extents !== null
      ? { kind: 'blobs', extents: JSON.parse(r.extents) as BlobExtent[] }
      : r.cold !== null ? { kind: 'blobs', extents: [] } : { kind: 'inline' };
  return {
    bucket: r.bucket, key: r.key, versionId: r.version_id, size: r.size, etag: r.etag,
    lastModified: new Date(r.last_modified), owner: r.owner, storageClass: r.storage_class,
    headers: JSON.parse(r.headers) as ContentHeaders,
    userMetadata: JSON.parse(r.user_metadata) as Record<string, string>,
    ...(r.checksum !== null ? { checksum: JSON.parse(r.checksum) as Checksum } : {}),
    acl: aclOf(r.acl, r.owner),
    tags: tagsOf(r.tags),
    data,
    ...(r.cold !== null ? { cold: r.cold } : {}),
    ...(restore ? { restore } : {}),
    ...(r.damaged !== null ? { damaged: r.damaged } : {}),
    ...(r.delete_marker ? { deleteMarker: true } : {}),
    ...lockOf(r),
  };
}
