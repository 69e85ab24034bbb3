import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32c } from '@node-rs/crc32';
import type { BlobExtent, BlobId, ObjectRecord, Store } from './types.js';

/**
 * What an extent's bytes must hash to: the CRC32C recorded with it (the integrity
 * hash, apart from the ETag), or for an extent written before that was kept, its MD5.
 */
export type ExtentHash = { readonly crc32c: number } | { readonly md5: string };

/**
 * The hash to check an extent against; for a single-blob object written before
 * extents carried any, its (non-multipart) ETag; undefined when there is none.
 */
export function extentHash(record: ObjectRecord, extent: BlobExtent): ExtentHash | undefined {
  if (extent.crc32c !== undefined) return { crc32c: extent.crc32c };
  if (extent.md5 !== undefined) return { md5: extent.md5 };
  if (record.data.kind === 'blobs' && record.data.extents.length === 1 && !record.etag.includes('-')) return { md5: record.etag };
  return undefined;
}

/**
 * What is wrong with an inline body: checked against its recorded CRC32C, or
 * (written before that was kept) against the MD5 its ETag records. Undefined when intact.
 */
export function inlineProblem(record: ObjectRecord): string | undefined {
  if (record.data.kind !== 'inline') return undefined;
  const { bytes, crc32c: recorded } = record.data;
  if (recorded !== undefined) {
    const actual = crc32c(bytes) >>> 0;
    return actual === recorded ? undefined : `inline body has CRC32C ${hex32(actual)}, recorded ${hex32(recorded)}`;
  }
  // A multipart ETag is never inline; it names no MD5 of these bytes.
  if (record.etag.includes('-')) return undefined;
  return createHash('md5').update(bytes).digest('hex') === record.etag ? undefined : 'inline body does not match its ETag';
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Raised when bytes read back differ from what was recorded at write time. */
export class IntegrityError extends Error {
  constructor(readonly blob: string | undefined, message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

/**
 * Checks one whole extent's bytes as they pass, chunk by chunk. `update` throws
 * instead of returning for the chunk that completes a damaged extent (or runs past
 * its size), so a reader that sends each chunk on only once `update` returned never
 * sends a whole extent of wrong bytes: the response is cut before its last bytes.
 */
export class ExtentVerifier {
  private crc = 0;
  private readonly md5: Hash | undefined;
  private seen = 0;

  constructor(private readonly blob: BlobId, private readonly size: number, private readonly expected: ExtentHash) {
    this.md5 = 'md5' in expected ? createHash('md5') : undefined;
  }

  update(chunk: Buffer): void {
    if (this.seen + chunk.length > this.size) {
      throw new IntegrityError(this.blob, `blob ${this.blob} holds more than the ${this.size} bytes recorded`);
    }
    this.seen += chunk.length;
    if (this.md5) this.md5.update(chunk);
    else this.crc = crc32c(chunk, this.crc);
    if (this.seen === this.size) this.check();
  }

  /** The bytes ended: throws when fewer came than the extent holds. */
  end(): void {
    if (this.seen < this.size) throw new IntegrityError(this.blob, `blob ${this.blob} holds ${this.seen} bytes, recorded ${this.size}`);
  }

  private check(): void {
    if ('md5' in this.expected) {
      const actual = this.md5!.digest('hex');
      if (actual !== this.expected.md5) throw new IntegrityError(this.blob, `blob ${this.blob} has MD5 ${actual}, recorded ${this.expected.md5}`);
      return;
    }
    const actual = this.crc >>> 0;
    if (actual !== this.expected.crc32c) {
      throw new IntegrityError(this.blob, `blob ${this.blob} has CRC32C ${hex32(actual)}, recorded ${hex32(this.expected.crc32c)}`);
    }
  }
}

/** Passes one whole extent's bytes through its verifier: the stream fails instead of delivering the chunk that completes damage. */
export class VerifyingStream extends Transform {
  constructor(private readonly verifier: ExtentVerifier) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.verifier.update(chunk);
    } catch (err) {
      done(err as Error);
      return;
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.verifier.end();
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
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
