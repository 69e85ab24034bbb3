import { randomBytes } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { S3Error } from '../../errors.js';
import { Digester } from '../digest.js';
import { BlobPins } from '../pins.js';
import type { BlobId, Blobs, ColdStore, IngestOptions, ObjectData, StoredBody } from '../types.js';
import { holdBytes, sliceBytes, type HeldBytes, type MemoryBudget } from './bytes.js';

/**
 * Blobs in memory (memory mode: nothing is written to disk, all is gone when the
 * store closes). Every body, however small, is a blob here, so the budget counts
 * every byte of object data; bodies stream in and out in segments.
 */
export class MemoryBlobs implements Blobs {
  private readonly blobs = new Map<BlobId, HeldBytes>();
  private readonly quarantined = new Map<BlobId, HeldBytes>();
  private readonly pins = new BlobPins();

  constructor(private readonly budget: MemoryBudget, private readonly cold: ColdStore) {}

  async ingest(body: Readable, options: IngestOptions): Promise<StoredBody> {
    const declared = options.declaredLength;
    const maxSize = options.maxSize ?? Number.POSITIVE_INFINITY;
    // A body that cannot fit is refused before any of it is read.
    if (declared !== undefined && declared <= maxSize) this.budget.check(declared);
    const digester = new Digester(options.checksum);
    const held = await holdBytes(body as AsyncIterable<Buffer>, this.budget, declared, (chunk) => {
      digester.update(chunk);
      if (digester.size > maxSize) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(maxSize) });
      if (declared !== undefined && digester.size > declared) throw new S3Error('IncompleteBody', 'The request body is longer than its declared length.');
    }).catch((err: unknown) => {
      digester.discard();
      throw err;
    });
    const id = randomBytes(16).toString('hex');
    this.blobs.set(id, held);
    const digest = await digester.finish();
    return { data: { kind: 'blobs', extents: [{ blob: id, size: held.size, md5: digest.md5Hex, crc32c: digest.crc32c }] }, digest };
  }

  read(id: BlobId, start: number, end: number): Readable {
    const held = this.blobs.get(id);
    // As a missing file's stream would: the error comes from the stream, not the call.
    if (!held) return new Readable({ read() { this.destroy(new Error(`no blob ${id}`)); } });
    return Readable.from(sliceBytes(held, start, end), { objectMode: false });
  }

  async writeTo(id: BlobId, start: number, end: number, out: Writable, inspect?: (chunk: Buffer) => void): Promise<void> {
    const held = this.blobs.get(id);
    if (!held) throw new Error(`no blob ${id}`);
    if (end >= held.size) throw new Error(`the blob ends at byte ${held.size}, before byte ${end}`);
    for (const piece of sliceBytes(held, start, end)) {
      if (out.destroyed || out.writableEnded) throw new Error('the destination closed before the blob was sent');
      inspect?.(piece);
      if (!out.write(piece)) await waitForDrain(out);
    }
  }

  async discard(data: ObjectData): Promise<void> {
    if (data.kind !== 'blobs') return;
    await Promise.all(data.extents.map((e) => this.delete(e.blob)));
  }

  async delete(id: BlobId): Promise<void> {
    const held = this.blobs.get(id);
    if (held) {
      this.blobs.delete(id);
      this.budget.give(held.size);
    }
    await this.cold.delete(id);
  }

  pin(ids: readonly BlobId[]): () => void {
    return this.pins.pin(ids);
  }

  isPinned(id: BlobId): boolean {
    return this.pins.isPinned(id);
  }

  /** Keeps the bytes aside (still counted), out of service. */
  async quarantine(id: BlobId): Promise<void> {
    const held = this.blobs.get(id);
    if (!held) return;
    this.blobs.delete(id);
    this.quarantined.set(id, held);
  }

  async *list(): AsyncIterable<{ id: BlobId; mtimeMs: number }> {
    for (const [id, held] of [...this.blobs]) yield { id, mtimeMs: held.createdAt };
  }

  /** Lets go of every byte (the store closed), even while something still holds this object. */
  clear(): void {
    for (const held of [...this.blobs.values(), ...this.quarantined.values()]) this.budget.give(held.size);
    this.blobs.clear();
    this.quarantined.clear();
  }
}

/** Resolves when `out` wants more, rejects if it closes first (a closed response never drains). */
function waitForDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('the destination closed before the blob was sent'));
    out.once('drain', onDrain);
    out.once('close', onClose);
  });
}
