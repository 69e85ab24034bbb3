import { constants, mkdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { FileBlobs } from './files/blobs.js';
import { ColdFiles } from './files/cold.js';
import { SqliteMetadata } from './sqlite/metadata.js';
import type { Store } from './types.js';

export interface EmbeddedStore extends Store {
  readonly metadata: SqliteMetadata;
  readonly blobs: FileBlobs;
  readonly cold: ColdFiles;
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
