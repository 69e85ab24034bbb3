import type { BlobId } from './types.js';

/** Readers per blob in this process: collection skips a pinned blob, so a reader never loses it mid-stream. */
export class BlobPins {
  private readonly counts = new Map<BlobId, number>();

  pin(ids: readonly BlobId[]): () => void {
    for (const id of ids) this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = (this.counts.get(id) ?? 1) - 1;
        if (n <= 0) this.counts.delete(id);
        else this.counts.set(id, n);
      }
    };
  }

  isPinned(id: BlobId): boolean {
    return this.counts.has(id);
  }
}
