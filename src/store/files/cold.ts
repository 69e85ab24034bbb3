import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { open, readdir, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobId, ColdStore } from '../types.js';
import { syncDir } from './fsync.js';

const FANOUT_CHARS = 2;

/**
 * Cold storage: the files of archived objects (GLACIER, DEEP_ARCHIVE), in a
 * folder that may be another disk or a cheaper mount. Files are named by
 * generated blob ids, fanned out like hot blobs, and are durable (file and
 * folder fsynced) before `write` resolves, so metadata may then point at them.
 */
export class ColdFiles implements ColdStore {
  constructor(readonly root: string) {
    // All fan-out folders exist before any file is written, so a file's durability needs only its own folder's fsync.
    const folders = 16 ** FANOUT_CHARS;
    if (existsSync(join(root, (folders - 1).toString(16)))) return;
    for (let i = 0; i < folders; i++) mkdirSync(join(root, i.toString(16).padStart(FANOUT_CHARS, '0')), { recursive: true, mode: 0o700 });
    const handle = openSync(root, 'r');
    try {
      fsyncSync(handle);
    } finally {
      closeSync(handle);
    }
  }

  /** Writes a new cold file from `source` and makes it durable; returns its id and size. */
  async write(source: AsyncIterable<Buffer>): Promise<{ id: BlobId; size: number }> {
    const id = randomBytes(16).toString('hex');
    const dir = join(this.root, id.slice(0, FANOUT_CHARS));
    const path = join(dir, id);
    const handle = await open(path, 'wx', 0o600);
    let size = 0;
    try {
      for await (const chunk of source) {
        await handle.write(chunk);
        size += chunk.length;
      }
      await Promise.all([handle.sync(), syncDir(dir)]);
      await handle.close();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
      throw err;
    }
    return { id, size };
  }

  read(id: BlobId): Readable {
    return createReadStream(this.pathOf(id), { highWaterMark: 256 * 1024 });
  }

  async delete(id: BlobId): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }

  async *list(): AsyncIterable<{ id: BlobId; mtimeMs: number }> {
    for (const folder of await readdir(this.root).catch(() => [])) {
      const dir = join(this.root, folder);
      for (const name of await readdir(dir).catch(() => [])) {
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info?.isFile()) yield { id: name, mtimeMs: info.mtimeMs };
      }
    }
  }

  private pathOf(id: BlobId): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`invalid blob id ${id}`);
    return join(this.root, id.slice(0, FANOUT_CHARS), id);
  }
}
