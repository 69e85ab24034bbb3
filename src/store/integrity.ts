import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { BlobExtent, ObjectRecord, Store } from './types.js';

/**
 * The MD5 each extent's bytes must have: recorded with the extent, or, for a
 * single-blob object written before extents carried one, its (non-multipart) ETag.
 */
export function extentMd5(record: ObjectRecord, extent: BlobExtent): string | undefined {
  if (extent.md5 !== undefined) return extent.md5;
  if (record.data.kind === 'blobs' && record.data.extents.length === 1 && !record.etag.includes('-')) return record.etag;
  return undefined;
}

/** Whether an inline body still has the MD5 its ETag records (a multipart ETag is never inline). */
export function inlineIntact(record: ObjectRecord): boolean {
  if (record.data.kind !== 'inline' || record.etag.includes('-')) return true;
  return createHash('md5').update(record.data.bytes).digest('hex') === record.etag;
}

/** Raised when bytes read back differ from what was recorded at write time. */
export class IntegrityError extends Error {
  constructor(readonly blob: string | undefined, message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

/**
 * Passes a whole blob through while hashing it, holding the last chunk back
 * until the hash is known: when it does not match, the stream fails before its
 * end, so a reader never receives a complete body made of wrong bytes.
 */
export class Md5Verifier extends Transform {
  private readonly hash: Hash = createHash('md5');
  private held: Buffer | undefined;

  constructor(private readonly blob: string, private readonly expected: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    done(null, previous);
  }

  override _flush(done: TransformCallback): void {
    const actual = this.hash.digest('hex');
    if (actual !== this.expected) {
      done(new IntegrityError(this.blob, `blob ${this.blob} has MD5 ${actual}, recorded ${this.expected}`));
      return;
    }
    done(null, this.held);
  }
}

/**
 * Takes a damaged object out of service: marks it in metadata (only if it is
 * still the version that was read) and moves its blob files to the quarantine
 * folder. Returns whether this call marked it.
 */
export async function quarantineObject(store: Store, record: ObjectRecord, reason: string): Promise<boolean> {
  if (!(await store.metadata.markDamaged(record, reason))) return false;
  if (record.data.kind === 'blobs') {
    for (const extent of record.data.extents) await store.blobs.quarantine(extent.blob);
  }
  return true;
}
