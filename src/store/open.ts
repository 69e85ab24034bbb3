import { constants, mkdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { FileBlobs } from './files/blobs.js';
import { ColdFiles } from './files/cold.js';
import { MemoryBudget } from './memory/bytes.js';
import { MemoryBlobs } from './memory/blobs.js';
import { MemoryCold } from './memory/cold.js';
import { MEMORY, SqliteMetadata } from './sqlite/metadata.js';
import type { Blobs, ColdStore, Store } from './types.js';

export interface EmbeddedStore extends Store {
  readonly metadata: SqliteMetadata;
  readonly blobs: Blobs;
  readonly cold: ColdStore;
  /** Resolves when the metadata answers and the hot and cold folders are there and writable (a lost mount is not ready). */
  ping(): Promise<void>;
}

/** The embedded engine: SQLite metadata and blob files, all inside one data folder. */
export function openEmbeddedStore(dataDir: string, coldDir = join(dataDir, 'cold')): EmbeddedStore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const metadata = new SqliteMetadata(join(dataDir, 'metadata.sqlite'));
  const cold = new ColdFiles(coldDir);
  const blobs = new FileBlobs(dataDir, cold);
  const ping = async (): Promise<void> => {
    await metadata.ping();
    await access(blobs.root, constants.W_OK);
    await access(cold.root, constants.W_OK);
  };
  return { metadata, blobs, cold, ping, close: () => metadata.close() };
}

/**
 * Memory mode: SQLite in memory and bodies in memory, up to `limit` bytes of
 * object data. Nothing touches the disk; everything is gone once closed. One
 * process only: nothing is shared with another.
 */
export function openMemoryStore(limit: number): EmbeddedStore {
  const budget = new MemoryBudget(limit);
  const metadata = new SqliteMetadata(MEMORY);
  const cold = new MemoryCold(budget);
  const blobs = new MemoryBlobs(budget, cold);
  const close = async (): Promise<void> => {
    await metadata.close();
    blobs.clear();
    cold.clear();
  };
  return { metadata, blobs, cold, ping: () => metadata.ping(), close };
}
