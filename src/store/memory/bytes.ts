import { S3Error } from '../../errors.js';

/** Bytes are kept in pieces of at most this size: one large Buffer per object would need contiguous memory. */
const SEGMENT = 1024 * 1024;

/**
 * The bytes memory mode may hold, counted over every blob and cold entry, so a
 * test that writes too much gets an error instead of exhausting the process.
 */
export class MemoryBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.held;
  }

  /** Throws InsufficientStorage (507, as a full disk answers) unless `n` more bytes fit. */
  check(n: number): void {
    if (this.held + n > this.limit) {
      throw new S3Error('InsufficientStorage', `Memory mode holds at most ${this.limit} bytes of object data; delete objects and try again.`);
    }
  }

  /** Claims `n` more bytes, or throws as `check` does. */
  take(n: number): void {
    this.check(n);
    this.held += n;
  }

  give(n: number): void {
    this.held -= n;
  }
}

/** One blob's bytes in memory, in segments. */
export interface HeldBytes {
  readonly segments: readonly Buffer[];
  readonly size: number;
  readonly createdAt: number;
}

/**
 * Copies what `source` delivers into compact segments, claiming each byte from
 * the budget as it arrives. The copy matters: a socket's chunks are slices of
 * larger reads, and keeping them would hold far more memory than the body.
 * `expected` (when known) sizes the segments exactly; `onChunk` sees every chunk
 * first and may throw to stop. On any failure the claimed bytes are given back.
 */
export async function holdBytes(
  source: AsyncIterable<Buffer>, budget: MemoryBudget, expected: number | undefined, onChunk: (chunk: Buffer) => void = () => {},
): Promise<HeldBytes> {
  const segments: Buffer[] = [];
  let size = 0;
  let current: Buffer | undefined;
  let filled = 0;
  try {
    for await (const chunk of source) {
      onChunk(chunk);
      budget.take(chunk.length);
      for (let at = 0; at < chunk.length;) {
        if (!current || filled === current.length) {
          if (current) segments.push(current);
          const placed = size + at;
          current = Buffer.allocUnsafeSlow(expected !== undefined && expected > placed ? Math.min(SEGMENT, expected - placed) : SEGMENT);
          filled = 0;
        }
        const n = chunk.copy(current, filled, at);
        filled += n;
        at += n;
      }
      size += chunk.length;
    }
  } catch (err) {
    budget.give(size);
    throw err;
  }
  // An under-filled last segment (a body shorter than expected, or of unknown length) is trimmed to its bytes.
  if (current && filled > 0) segments.push(filled === current.length ? current : Buffer.from(current.subarray(0, filled)));
  return { segments, size, createdAt: Date.now() };
}

/** The pieces of bytes [start, end] (inclusive), without copying. */
export function* sliceBytes(held: HeldBytes, start: number, end: number): Generator<Buffer> {
  let offset = 0;
  for (const segment of held.segments) {
    const from = Math.max(start, offset);
    const to = Math.min(end + 1, offset + segment.length);
    if (from < to) yield segment.subarray(from - offset, to - offset);
    offset += segment.length;
    if (offset > end) return;
  }
}
