import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileBlobs } from './files/blobs.js';
import { SqliteMetadata } from './sqlite/metadata.js';
import type { Store } from './types.js';

export interface EmbeddedStore extends Store {
  readonly metadata: SqliteMetadata;
  readonly blobs: FileBlobs;
}

/** The embedded engine: SQLite metadata and blob files, all inside one data folder. */
export function openEmbeddedStore(dataDir: string): EmbeddedStore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const metadata = new SqliteMetadata(join(dataDir, 'metadata.sqlite'));
  const blobs = new FileBlobs(dataDir);
  return { metadata, blobs, close: () => metadata.close() };
}
