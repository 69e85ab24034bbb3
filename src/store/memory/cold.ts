import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobId, ColdStore } from '../types.js';
import { holdBytes, sliceBytes, type HeldBytes, type MemoryBudget } from './bytes.js';

/** Cold storage in memory mode: archived objects' bytes, counted in the same budget as hot blobs. */
export class MemoryCold implements ColdStore {
  private readonly entries = new Map<BlobId, HeldBytes>();

  constructor(private readonly budget: MemoryBudget) {}

  async write(source: AsyncIterable<Buffer>): Promise<{ id: BlobId; size: number }> {
    const held = await holdBytes(source, this.budget, undefined);
    const id = randomBytes(16).toString('hex');
    this.entries.set(id, held);
    return { id, size: held.size };
  }

  read(id: BlobId): Readable {
    const held = this.entries.get(id);
    if (!held) throw new Error(`no cold entry ${id}`);
    return Readable.from(sliceBytes(held, 0, held.size - 1), { objectMode: false });
  }

  async delete(id: BlobId): Promise<void> {
    const held = this.entries.get(id);
    if (!held) return;
    this.entries.delete(id);
    this.budget.give(held.size);
  }

  async *list(): AsyncIterable<{ id: BlobId; mtimeMs: number }> {
    for (const [id, held] of [...this.entries]) yield { id, mtimeMs: held.createdAt };
  }

  /** Lets go of every byte (the store closed). */
  clear(): void {
    for (const held of this.entries.values()) this.budget.give(held.size);
    this.entries.clear();
  }
}
