import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import { setImmediate as yieldToRequests } from 'node:timers/promises';
import { readExtents } from '../api/get.js';
import type { Logger } from '../observability/log.js';
import type { LifecycleMetrics } from '../observability/metrics.js';
import type { Expiry, LifecycleConfiguration, LifecycleCursor, ScannedVersion, VersionPosition } from '../store/lifecycle-types.js';
import type { Blobs, BucketName, ColdStore, Metadata, ObjectKey, ObjectRecord } from '../store/types.js';
import { decideVersion, shouldAbort, type ObjectAction } from './rules.js';
import { daysAfter, workerPeriods, type LifecycleSettings, type WorkerPeriods } from './settings.js';

/** Rows per step; between steps the event loop serves requests. */
const BATCH = 100;
/** One process of a cluster runs passes: the holder of this lease, renewed every batch. */
const LEASE = 'lifecycle';
/** Long enough to outlast a batch and the wait between passes, so the holder keeps it. */
const MIN_LEASE_TTL_MS = 60_000;

export interface LifecycleWorkerOptions {
  readonly metadata: Metadata;
  readonly blobs: Blobs;
  readonly cold: ColdStore;
  readonly settings: LifecycleSettings;
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly metrics: LifecycleMetrics;
}

/**
 * Runs the lifecycle in one process: completes restores and drops expired
 * restored copies, applies each bucket's rules to every version (transitions,
 * expirations, noncurrent-version actions, expired delete markers, aborts of
 * stale uploads), and moves archive-class versions' bytes to cold storage.
 * Its cursor is committed with each change, so after a crash a pass resumes
 * where it stopped; every change is checked against the object as
 * seen, and rules are re-evaluated from the stored state, so nothing is done
 * twice.
 */
export class LifecycleWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private lastRulePass = -Infinity;
  private readonly periods: WorkerPeriods;
  /** A node's name, so that a node restarted after a crash takes its own lease back at once. */
  private readonly holder = hostname();
  private leased = false;

  constructor(private readonly o: LifecycleWorkerOptions) {
    this.periods = workerPeriods(o.settings, o.intervalMs);
  }

  start(startedAt: number): void {
    this.running = this.sweepColdOrphans(startedAt)
      .catch((err: unknown) => this.o.logger.error({ err }, 'cold orphan sweep failed'))
      .finally(() => {
        this.running = undefined;
        // A pass cut short by a crash resumes at once, from its cursor.
        this.poke();
      });
    this.timer = setInterval(() => this.poke(), this.periods.passMs);
    this.timer.unref();
  }

  /** Starts a pass unless one is running. */
  poke(): void {
    if (this.running || this.stopping) return;
    this.running = this.pass()
      .catch((err: unknown) => this.o.logger.error({ err }, 'lifecycle pass failed'))
      .finally(() => { this.running = undefined; });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
    if (this.leased) await this.o.metadata.releaseLease(LEASE, this.holder);
  }

  /** Takes or renews the lease; a pass goes on only while this process holds it. */
  private async holdLease(): Promise<boolean> {
    this.leased = await this.o.metadata.acquireLease(LEASE, this.holder, Math.max(MIN_LEASE_TTL_MS, 2 * this.o.intervalMs));
    return this.leased;
  }

  /**
   * Restores and archive moves are looked at every pass; the scan of all
   * objects under rules 24 times per lifecycle day (hourly at full length),
   * or at once when a pass was cut short and must resume.
   */
  private async pass(): Promise<void> {
    if (!(await this.holdLease())) return;
    await this.restores(Date.now());
    const now = Date.now();
    if (now - this.lastRulePass >= this.periods.rulesMs || await this.o.metadata.lifecycle.getCursor()) {
      this.lastRulePass = now;
      await this.applyRules(now);
    }
    await this.archivePending();
  }

  /** Cold files a crash left before their metadata commit. */
  private async sweepColdOrphans(before: number): Promise<void> {
    for await (const { id, mtimeMs } of this.o.cold.list()) {
      if (mtimeMs < before && !(await this.o.metadata.knowsBlob(id))) await this.o.cold.delete(id);
    }
  }

  private async applyRules(now: number): Promise<void> {
    const lifecycle = this.o.metadata.lifecycle;
    const cursor = await lifecycle.getCursor();
    let from = cursor?.bucket ?? '';
    for (;;) {
      const buckets = await lifecycle.configuredBuckets(from, BATCH);
      if (buckets.length === 0) break;
      for (const { bucket, config } of buckets) {
        if (this.stopping || !this.leased) return;
        await this.abortUploads(bucket, config, now);
        await this.applyToVersions(bucket, config, now, bucket === cursor?.bucket ? cursor.key : '');
      }
      from = `${buckets[buckets.length - 1]!.bucket}\u0000`;
    }
    if (!this.stopping && this.leased) await lifecycle.setCursor(undefined);
  }

  /**
   * Applies the rules to every version of the bucket's keys from `fromKey` on,
   * each key's newest first: that order counts, for each noncurrent version, the
   * noncurrent versions newer than it, across pages.
   */
  private async applyToVersions(bucket: BucketName, config: LifecycleConfiguration, now: number, fromKey: ObjectKey): Promise<void> {
    const { lifecycle } = this.o.metadata;
    let from: VersionPosition = { key: fromKey };
    let key: ObjectKey | undefined;
    let newerNoncurrent = 0;
    for (;;) {
      const versions = await lifecycle.scanVersions(bucket, from, BATCH);
      if (versions.length === 0) return;
      for (const version of versions) {
        if (version.key !== key) {
          key = version.key;
          newerNoncurrent = 0;
        }
        const standing = { noncurrentSince: version.noncurrentSince?.getTime(), newerNoncurrent, alone: version.alone };
        if (!version.isLatest && !version.deleteMarker) newerNoncurrent++;
        await this.apply(version, decideVersion(config, version, standing, now, this.o.settings), { bucket, key: version.key });
      }
      const last = versions[versions.length - 1]!;
      from = { key: last.key, below: last.seq };
      await lifecycle.setCursor({ bucket, key: last.key });
      if (this.stopping || !(await this.holdLease())) return;
      // Archive what this batch sent to GLACIER now, so a large bucket's bytes move as the pass goes,
      // and let due restores complete rather than wait for the end of a long pass.
      await this.archivePending();
      await this.restores(Date.now());
      await yieldToRequests();
    }
  }

  private async apply(version: ScannedVersion, action: ObjectAction, at: LifecycleCursor): Promise<void> {
    const { lifecycle } = this.o.metadata;
    if (action.kind === 'expire') {
      const expiry: Expiry = !version.isLatest ? 'noncurrent' : version.deleteMarker ? 'lone-marker' : 'current';
      if (await lifecycle.expire(version, expiry, at)) this.o.metrics.expirations.inc();
    } else if (action.kind === 'transition' && await lifecycle.setStorageClass(version, action.storageClass, at)) {
      this.o.metrics.transitions.inc({ storage_class: action.storageClass });
    }
  }

  private async abortUploads(bucket: string, config: LifecycleConfiguration, now: number): Promise<void> {
    if (!config.rules.some((r) => r.abortIncompleteUploadDays !== undefined)) return;
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      const page = await this.o.metadata.listUploads(bucket, { prefix: '', delimiter: '', keyMarker, uploadIdMarker, maxUploads: BATCH });
      for (const upload of page.uploads) {
        if (shouldAbort(config, upload, now, this.o.settings) && await this.o.metadata.abortUpload(upload.uploadId)) {
          this.o.metrics.abortedUploads.inc();
        }
      }
      const last = page.uploads[page.uploads.length - 1];
      if (!page.isTruncated || !last) return;
      keyMarker = last.key;
      uploadIdMarker = last.uploadId;
      await yieldToRequests();
    }
  }

  /**
   * Moves the bytes of archive-class objects to cold storage: the cold file is
   * written and fsynced first, then one commit points the object at it and
   * queues the hot bytes for deletion. A crash in between leaves an orphan
   * cold file (swept at start), never an object without bytes.
   */
  private async archivePending(): Promise<void> {
    const failed = new Set<string>();
    for (;;) {
      const pending = (await this.o.metadata.lifecycle.pendingArchives(BATCH + failed.size))
        .filter((o) => !failed.has(archiveId(o)));
      if (pending.length === 0 || this.stopping) return;
      for (const object of pending) {
        // One object that cannot move (e.g. an unreadable file) must not hold up the others.
        const moved = await this.archiveOne(object).catch((err: unknown) => {
          this.o.logger.error({ err, bucket: object.bucket, key: object.key }, 'moving an object to cold storage failed');
          return false;
        });
        if (!moved) failed.add(archiveId(object));
      }
      await yieldToRequests();
    }
  }

  private async archiveOne(object: ObjectRecord): Promise<boolean> {
    const { id } = await this.o.cold.write(this.bytesOf(object));
    if (await this.o.metadata.lifecycle.archive(object, id)) {
      this.o.metrics.archived.inc();
      return true;
    }
    await this.o.cold.delete(id);
    return false;
  }

  private bytesOf(object: ObjectRecord): AsyncIterable<Buffer> {
    if (object.cold !== undefined) return this.o.cold.read(object.cold);
    if (object.data.kind === 'inline') return Readable.from([object.data.bytes]);
    return readExtents(this.o.blobs, object, { start: 0, end: object.size - 1 });
  }

  private async advanceRestore(object: ObjectRecord, now: number): Promise<void> {
    const { lifecycle } = this.o.metadata;
    const restore = object.restore!;
    if (restore.copy === undefined && restore.readyAt <= now) {
      const stored = await this.o.blobs.ingest(Readable.from(this.bytesOf(object)), { allowInline: false });
      const copy = stored.data.kind === 'blobs' ? stored.data.extents[0]?.blob : undefined;
      const done = copy !== undefined && await lifecycle.setRestore(object, {
        ...restore, copy, expiresAt: daysAfter(this.o.settings, now, restore.days),
      });
      if (done) this.o.metrics.restores.inc({ event: 'completed' });
      else await this.o.blobs.discard(stored.data);
    } else if (restore.expiresAt !== undefined && restore.expiresAt <= now && await lifecycle.dropRestore(object, now)) {
      this.o.metrics.restores.inc({ event: 'expired' });
    }
  }

  /** Completes restores that are due (a hot copy from the cold file) and drops expired copies. */
  private async restores(now: number): Promise<void> {
    const { lifecycle } = this.o.metadata;
    let after: LifecycleCursor | undefined;
    for (;;) {
      const objects = await lifecycle.restores(after, BATCH);
      if (objects.length === 0 || this.stopping) return;
      for (const object of objects) {
        await this.advanceRestore(object, now).catch((err: unknown) =>
          this.o.logger.error({ err, bucket: object.bucket, key: object.key }, 'restore step failed; retried next pass'));
      }
      const last = objects[objects.length - 1]!;
      after = { bucket: last.bucket, key: last.key };
      await yieldToRequests();
    }
  }
}

/** Names one version in the set of those that failed to move to cold storage this round. */
function archiveId(o: ObjectRecord): string {
  return `${o.bucket}/${o.key}\0${o.versionId}`;
}
