import type { Store } from '../store/types.js';

const BATCH = 256;

/**
 * Removes the files of blobs that committed metadata no longer references
 * (invariant 8: deletions go through a queue committed with the metadata change).
 * A blob is collected only once it has been dead for `graceMs` and no reader in
 * this process holds it: a GET that began before an overwrite keeps its files
 * (pins cover this process; the grace covers readers in other workers).
 */
export class BlobCollector {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly store: Store, private readonly graceMs: number, intervalMs = 5000) {
    this.timer = setInterval(() => this.poke(), Math.min(intervalMs, Math.max(graceMs, 100)));
    this.timer.unref();
  }

  /** Asks for a pass soon; passes never overlap. */
  poke(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  private async pass(): Promise<void> {
    const seen = new Set<string>();
    for (;;) {
      const ids = (await this.store.metadata.takeGarbage(BATCH, Date.now() - this.graceMs)).filter((id) => !seen.has(id));
      if (ids.length === 0) return;
      for (const id of ids) seen.add(id);
      // Pinned blobs stay queued; a later pass takes them once their readers are done.
      const free = ids.filter((id) => !this.store.blobs.isPinned(id));
      await Promise.all(free.map((id) => this.store.blobs.delete(id)));
      await this.store.metadata.forgetGarbage(free);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/**
 * Deletes blob files that no committed metadata knows: the leftovers of writes
 * cut off by a crash. Only files older than `before` are considered, so writes
 * in progress are never touched.
 */
export async function sweepOrphans(store: Store, before: number): Promise<number> {
  let removed = 0;
  for await (const { id, mtimeMs } of store.blobs.list()) {
    if (mtimeMs >= before) continue;
    if (await store.metadata.knowsBlob(id)) continue;
    await store.blobs.delete(id);
    removed++;
  }
  return removed;
}
