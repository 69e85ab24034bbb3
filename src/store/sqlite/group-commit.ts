import { open, type FileHandle } from 'node:fs/promises';
import type Database from 'better-sqlite3';

interface Pending {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * Group commit: writes queued during one turn of the event loop run in a single
 * transaction, so many concurrent requests share one fsync. Each write runs in
 * its own savepoint, so one that throws (a failed precondition) is rolled back
 * alone and the others still commit.
 *
 * The connection runs with synchronous=NORMAL, so COMMIT only write()s the WAL
 * frames; the fsync that makes them durable is issued here on the thread pool,
 * and callers are answered only after it. The event loop never waits on the
 * disk, yet no caller hears of a commit before it is durable. (Other readers can
 * see a commit in the few milliseconds before its fsync completes.)
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly savepoint;
  private readonly release;
  private readonly rollbackTo;
  private wal: Promise<FileHandle> | undefined;

  /**
   * `onCommit` runs as each batch's transaction ends (committed or rolled back), before its fsync.
   * `walPath` undefined: an in-memory database, with nothing to sync.
   */
  constructor(private readonly db: Database.Database, private readonly walPath: string | undefined, private readonly onCommit: () => void = () => {}) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT one_write');
    this.release = db.prepare('RELEASE one_write');
    this.rollbackTo = db.prepare('ROLLBACK TO one_write');
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.track(this.flush()));
      }
    });
  }

  /** Resolves once every queued write has been committed (and synced) or rejected. */
  async drain(): Promise<void> {
    while (this.scheduled || this.inFlight.size > 0) {
      await Promise.all(this.inFlight);
      if (this.scheduled) await new Promise((r) => setImmediate(r));
    }
    if (this.wal) await (await this.wal).close();
    this.wal = undefined;
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.begin.run();
      for (const item of batch) {
        this.savepoint.run();
        try {
          outcomes.push({ ok: true, value: item.work() });
          this.release.run();
        } catch (err) {
          this.rollbackTo.run();
          this.release.run();
          outcomes.push({ ok: false, value: err });
        }
      }
      this.commit.run();
      this.onCommit();
      if (outcomes.some((o) => o.ok)) await this.syncWal();
    } catch (err) {
      if (this.db.inTransaction) this.rollback.run();
      this.onCommit();
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.value);
    });
  }

  private async syncWal(): Promise<void> {
    if (this.walPath === undefined) return;
    // The WAL file keeps its inode while this connection is open, so one handle serves.
    this.wal ??= open(this.walPath, 'r');
    await (await this.wal).sync();
  }
}
