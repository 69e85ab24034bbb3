import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileBlobs } from './files/blobs.js';
import { ColdFiles } from './files/cold.js';
import { SqliteMetadata } from './sqlite/metadata.js';
import type { Store } from './types.js';

export interface EmbeddedStore extends Store {
  readonly metadata: SqliteMetadata;
  readonly blobs: FileBlobs;
  readonly cold: ColdFiles;
}

/** The embedded engine: SQLite metadata and blob files, all inside one data folder. */
export function openEmbeddedStore(dataDir: string, coldDir = join(dataDir, 'cold')): EmbeddedStore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const metadata = new SqliteMetadata(join(dataDir, 'metadata.sqlite'));
  const cold = new ColdFiles(coldDir);
  const blobs = new FileBlobs(dataDir, cold);
  return { metadata, blobs, cold, close: () => metadata.close() };
}
