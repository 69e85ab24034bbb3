import type Database from 'better-sqlite3';

/** The newest schema; MIGRATIONS[n] brings a database from version n-1 to n. */
export const SCHEMA_VERSION = 13;

/**
 * The embedded metadata schema as first created (version 1); later versions
 * are reached through MIGRATIONS. Keys are TEXT compared with SQLite's default
 * BINARY collation, i.e. memcmp over UTF-8: exactly S3's listing order.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS access_keys (
  access_key_id TEXT PRIMARY KEY,
  secret_key TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_keys_account ON access_keys(account_id);
CREATE TABLE IF NOT EXISTS buckets (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL REFERENCES accounts(id),
  created_at INTEGER NOT NULL,
  location TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS buckets_owner ON buckets(owner, name);
-- The current version of each key. version_id is 'null' until versioning exists.
CREATE TABLE IF NOT EXISTS objects (
  id INTEGER PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  version_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  owner TEXT NOT NULL,
  storage_class TEXT NOT NULL,
  headers TEXT NOT NULL,
  user_metadata TEXT NOT NULL,
  checksum TEXT,
  extents TEXT,
  inline BLOB,
  UNIQUE (bucket, key)
);
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  initiated INTEGER NOT NULL,
  owner TEXT NOT NULL,
  storage_class TEXT NOT NULL,
  headers TEXT NOT NULL,
  user_metadata TEXT NOT NULL,
  checksum_algorithm TEXT,
  checksum_type TEXT
);
-- Upload ids sort in initiation order, so (key, upload_id) is S3's listing order.
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  blob TEXT NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  checksum TEXT,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
-- Every blob file that committed metadata knows; dead ones wait for their file to be removed.
CREATE TABLE IF NOT EXISTS blobs (
  id TEXT PRIMARY KEY,
  dead INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blobs_dead ON blobs(dead) WHERE dead = 1;
`;

/** A step is SQL, or code for a step SQL cannot say alone (rebuilding a table whatever columns it has). */
export type Migration = string | ((db: Database.Database) => void);

/**
 * Steps from each older schema version, applied in order inside one transaction.
 * Numbers are handed out per feature branch, so a branch may skip one.
 */
export const MIGRATIONS: Readonly<Record<number, Migration>> = {
  // ACLs: NULL means the private default (the owner has FULL_CONTROL).
  2: `
ALTER TABLE buckets ADD COLUMN acl TEXT;
ALTER TABLE objects ADD COLUMN acl TEXT;
ALTER TABLE uploads ADD COLUMN acl TEXT;
`,
  // Per-bucket totals, kept in the same transactions as the objects they count.
  3: `
ALTER TABLE buckets ADD COLUMN object_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE buckets ADD COLUMN byte_count INTEGER NOT NULL DEFAULT 0;
UPDATE buckets SET
  object_count = (SELECT count(*) FROM objects WHERE objects.bucket = buckets.name),
  byte_count = (SELECT coalesce(sum(size), 0) FROM objects WHERE objects.bucket = buckets.name);
`,
  // blobs.dead holds when a blob died (epoch ms; 0 while live), so collection can wait out readers.
  4: `
DROP INDEX IF EXISTS blobs_dead;
CREATE INDEX blobs_dead ON blobs(dead) WHERE dead > 0;
`,
  // Lifecycle: each bucket's configuration, where archived bytes live (a cold
  // file), restore state, and the worker's cursor so a pass resumes after a crash.
  5: `
CREATE TABLE bucket_lifecycle (
  bucket TEXT PRIMARY KEY REFERENCES buckets(name) ON DELETE CASCADE,
  config TEXT NOT NULL
) WITHOUT ROWID;
ALTER TABLE objects ADD COLUMN cold TEXT;
ALTER TABLE objects ADD COLUMN restore TEXT;
CREATE INDEX objects_restores ON objects(bucket, key) WHERE restore IS NOT NULL;
CREATE INDEX objects_to_archive ON objects(bucket, key) WHERE cold IS NULL AND storage_class IN ('GLACIER', 'DEEP_ARCHIVE');
CREATE TABLE lifecycle_cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  bucket TEXT NOT NULL,
  key TEXT NOT NULL
);
`,
  // CORS rules (JSON), read with the bucket so that answering a browser costs no extra query.
  6: `
ALTER TABLE buckets ADD COLUMN cors TEXT;
`,
  // Objects whose stored bytes failed an integrity check: the reason, NULL while intact.
  7: `
ALTER TABLE objects ADD COLUMN damaged TEXT;
`,
  // Object tags (a JSON list of {key, value}), and those an upload gives its object; NULL when none.
  8: `
ALTER TABLE objects ADD COLUMN tags TEXT;
ALTER TABLE uploads ADD COLUMN tags TEXT;
`,
  // Inline bodies move to a table of their own, under their object's row id. An
  // object row with its body spilled over onto overflow pages, which every read of
  // the columns behind it had to walk: HEADs, the write path's look at the current
  // row. Small rows also pack many to a page. Still one transaction, no file.
  9: `
CREATE TABLE object_bodies (
  id INTEGER PRIMARY KEY,
  bytes BLOB NOT NULL
);
INSERT INTO object_bodies (id, bytes) SELECT id, inline FROM objects WHERE inline IS NOT NULL;
ALTER TABLE objects DROP COLUMN inline;
CREATE TRIGGER objects_body_follows AFTER DELETE ON objects BEGIN
  DELETE FROM object_bodies WHERE id = old.id;
END;
`,
  // The generic bucket-configuration slot: every sub-resource document by kind (a JSON object).
  10: `
ALTER TABLE buckets ADD COLUMN configs TEXT;
`,
  // Versioning: one row per version. UNIQUE (bucket, key) must go, which SQLite can only do
  // by rebuilding the table; every existing row becomes its key's current 'null' version.
  11: versionedObjects,
  // The integrity CRC32C of inline bodies and of parts (whose extents keep it), apart from the ETag; NULL when written before.
  12: `
ALTER TABLE object_bodies ADD COLUMN crc32c INTEGER;
ALTER TABLE parts ADD COLUMN crc32c INTEGER;
`,
  // Leases: work one process must do at a time (the lifecycle pass), held until expires (epoch ms).
  13: `
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires INTEGER NOT NULL
) WITHOUT ROWID;
`,
};

/** Indexes, trigger and new columns of the versioned objects table (schema 11). */
const VERSIONED_OBJECTS = `
ALTER TABLE objects ADD COLUMN is_latest INTEGER NOT NULL DEFAULT 1;
ALTER TABLE objects ADD COLUMN delete_marker INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN lock_mode TEXT;
ALTER TABLE objects ADD COLUMN lock_until INTEGER;
ALTER TABLE objects ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN object_lock TEXT;
-- A version by its id; ListObjects' keys (current, not delete markers), so a page never
-- walks older versions or deleted keys; and a key's versions newest first (row ids only
-- grow), so ListObjectVersions is one index walk and a key's current version its first row.
CREATE UNIQUE INDEX objects_version ON objects(bucket, key, version_id);
CREATE INDEX objects_listed ON objects(bucket, key) WHERE is_latest = 1 AND delete_marker = 0;
CREATE INDEX objects_history ON objects(bucket, key, id DESC);
CREATE INDEX objects_restores ON objects(bucket, key) WHERE restore IS NOT NULL;
CREATE INDEX objects_to_archive ON objects(bucket, key) WHERE cold IS NULL AND storage_class IN ('GLACIER', 'DEEP_ARCHIVE');
CREATE TRIGGER objects_body_follows AFTER DELETE ON objects BEGIN
  DELETE FROM object_bodies WHERE id = old.id;
END;
`;

function versionedObjects(db: Database.Database): void {
  const columns = (db.prepare('PRAGMA table_info(objects)').all() as { name: string; type: string; notnull: number; dflt_value: string | null; pk: number }[]);
  const definitions = columns.map((c) => c.pk === 1
    ? `${c.name} INTEGER PRIMARY KEY`
    : `${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}${c.dflt_value !== null ? ` DEFAULT ${c.dflt_value}` : ''}`);
  const names = columns.map((c) => c.name).join(', ');
  // Row ids are kept: object_bodies rows are keyed by them.
  db.exec(`
CREATE TABLE objects_versioned (${definitions.join(', ')});
INSERT INTO objects_versioned (${names}) SELECT ${names} FROM objects;
DROP TRIGGER IF EXISTS objects_body_follows;
DROP TABLE objects;
ALTER TABLE objects_versioned RENAME TO objects;
${VERSIONED_OBJECTS}`);
}
