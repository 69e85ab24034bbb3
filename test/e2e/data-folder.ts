/**
 * Reading a server's data folder from a test, for what the S3 API cannot show:
 * where bytes live (hot blob files, cold files, inline rows) and what metadata
 * points at them. Reads are read-only and safe while the server runs (SQLite
 * WAL readers) or after it was killed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export function openMetadata(dataDir: string): Database.Database {
  return new Database(join(dataDir, 'metadata.sqlite'), { readonly: true, fileMustExist: true });
}

export function readMetadata<T>(dataDir: string, read: (db: Database.Database) => T): T {
  const db = openMetadata(dataDir);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** A file of a fanned-out store folder (blobs/ab/ab…, cold/ab/ab…): its id and when it was last written. */
export interface StoredFile {
  readonly id: string;
  readonly mtimeMs: number;
}

/** Every file in a fanned-out folder; files removed while listing are left out. */
export function storedFiles(root: string): StoredFile[] {
  const files: StoredFile[] = [];
  for (const folder of readdirSync(root)) {
    for (const id of readdirSync(join(root, folder))) {
      try {
        files.push({ id, mtimeMs: statSync(join(root, folder, id)).mtimeMs });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return files;
}

export function readStoredFile(root: string, id: string): Buffer {
  return readFileSync(join(root, id.slice(0, 2), id));
}

/**
 * Every blob id committed metadata refers to: objects' extents, cold files and
 * restored copies, and the parts of unfinished multipart uploads.
 */
export function referencedBlobs(db: Database.Database): { hot: Set<string>; cold: string[] } {
  // One read transaction, so that a blob moving from a part to an object is seen in one place or the other.
  return db.transaction(() => {
    const hot = new Set<string>();
    const cold: string[] = [];
    const rows = db.prepare('SELECT extents, cold, restore FROM objects').all() as { extents: string | null; cold: string | null; restore: string | null }[];
    for (const row of rows) {
      for (const extent of JSON.parse(row.extents ?? '[]') as { blob: string }[]) hot.add(extent.blob);
      if (row.cold !== null) cold.push(row.cold);
      const copy = row.restore === null ? undefined : (JSON.parse(row.restore) as { copy?: string }).copy;
      if (copy !== undefined) hot.add(copy);
    }
    for (const { blob } of db.prepare('SELECT blob FROM parts').all() as { blob: string }[]) hot.add(blob);
    return { hot, cold };
  })();
}
