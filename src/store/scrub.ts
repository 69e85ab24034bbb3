import { ExtentVerifier, extentHash, inlineProblem, IntegrityError, quarantineObject, type ExtentHash } from './integrity.js';
import type { BlobExtent, ObjectRecord, Store } from './types.js';

export interface Damage {
  readonly bucket: string;
  readonly key: string;
  readonly reason: string;
}

export interface ScrubReport {
  objects: number;
  bytes: number;
  /** Objects whose every byte was checked against a recorded hash (CRC32C, or MD5 for data written before it was kept). */
  verified: number;
  /** Objects with an extent that carries no recorded hash (multipart objects written before extents kept one). */
  unverifiable: number;
  /** Objects replaced or deleted while they were being checked. */
  changed: number;
  /** Found damaged by this run and quarantined. */
  damaged: Damage[];
  /** Already quarantined before this run. */
  alreadyQuarantined: Damage[];
}

const BATCH = 100;

/**
 * Walks every current object, reads its stored bytes back and compares them with
 * the CRC32C recorded when they were written (the MD5, for data written before). A damaged object is marked and its
 * blob files are moved to the quarantine folder, so GET answers an error instead
 * of bad bytes. Safe while a server runs on the same data folder: it only reads
 * blobs, and marks an object only if it is still the version it checked.
 */
export async function scrub(store: Store, onProgress: (objects: number, bytes: number) => void = () => undefined): Promise<ScrubReport> {
  const report: ScrubReport = { objects: 0, bytes: 0, verified: 0, unverifiable: 0, changed: 0, damaged: [], alreadyQuarantined: [] };
  let after: { bucket: string; key: string } | undefined;
  for (;;) {
    const batch = await store.metadata.scanObjects(after, BATCH);
    if (batch.length === 0) return report;
    for (const record of batch) {
      await checkObject(store, record, report);
      report.objects++;
      report.bytes += record.size;
      onProgress(report.objects, report.bytes);
    }
    const last = batch[batch.length - 1]!;
    after = { bucket: last.bucket, key: last.key };
  }
}

async function checkObject(store: Store, record: ObjectRecord, report: ScrubReport): Promise<void> {
  if (record.damaged !== undefined) {
    report.alreadyQuarantined.push({ bucket: record.bucket, key: record.key, reason: record.damaged });
    return;
  }
  const problem = await findProblem(store, record);
  if (problem === 'unverifiable') {
    report.unverifiable++;
    return;
  }
  if (problem === 'changed') {
    report.changed++;
    return;
  }
  if (problem === undefined) {
    report.verified++;
    return;
  }
  if (await quarantineObject(store, record, problem)) report.damaged.push({ bucket: record.bucket, key: record.key, reason: problem });
  else report.changed++;
}

/**
 * What is wrong with an object's stored bytes; 'unverifiable' when a checksum is
 * missing, 'changed' when the object was replaced while read, undefined when intact.
 */
async function findProblem(store: Store, record: ObjectRecord): Promise<string | 'unverifiable' | 'changed' | undefined> {
  if (record.data.kind === 'inline') return inlineProblem(record);
  let unverifiable = false;
  const unpin = store.blobs.pin(record.data.extents.map((e) => e.blob));
  try {
    for (const extent of record.data.extents) {
      const expected = extentHash(record, extent);
      if (expected === undefined) {
        unverifiable = true;
        continue;
      }
      try {
        await verifyBlob(store, extent, expected);
      } catch (err) {
        if (err instanceof IntegrityError) return err.message;
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // Gone because the object was replaced meanwhile, or lost: only the latter is damage.
        const current = await store.metadata.getObject(record.bucket, record.key);
        if (!current || current.etag !== record.etag || current.lastModified.getTime() !== record.lastModified.getTime()) return 'changed';
        return `blob ${extent.blob} is missing`;
      }
    }
  } finally {
    unpin();
  }
  return unverifiable ? 'unverifiable' : undefined;
}

/** Reads a blob whole through its verifier, which throws an IntegrityError on damage. */
async function verifyBlob(store: Store, extent: BlobExtent, expected: ExtentHash): Promise<void> {
  const verifier = new ExtentVerifier(extent.blob, extent.size, expected);
  // One byte past the recorded end reveals a file that grew.
  for await (const chunk of store.blobs.read(extent.blob, 0, extent.size) as AsyncIterable<Buffer>) verifier.update(chunk);
  verifier.end();
}
