import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Error } from '../../errors.js';
import { Digester } from '../digest.js';
import type { ColdFiles } from './cold.js';
import { BlobPins } from '../pins.js';
import type { BlobId, Blobs, IngestOptions, ObjectData, StoredBody } from '../types.js';
import { syncDir } from './fsync.js';

/** Bodies up to this size live in the metadata database, beside their object's row (invariant 6). */
export const INLINE_MAX = 32 * 1024;
/**
 * Bodies from this size (or of unknown size) have their MD5 computed on the hash
 * thread. A smaller body hashes in a few milliseconds on the loop; the hop (a copy,
 * a wake-up per MiB, the finish round trip) buys little there, and the many small
 * uploads of a busy server would only compete with the workers for the same cores.
 */
const OFF_THREAD_MD5_MIN = 16 * 1024 * 1024;
/** Bytes a blob write may have waiting behind the one in flight. */
const WRITE_BATCH = 1024 * 1024;
/** Blobs sit in 256 folders named by their id's first two hex digits, all made when the store opens. */
const FANOUT_CHARS = 2;
const READ_BUFFER = 256 * 1024;
/** Read buffers one writeTo cycles through: enough to keep a socket busy while the next read runs. */
const SEND_BUFFERS = 4;

/**
 * Blob files under generated ids, fanned out as blobs/ab/ab…, so that any key
 * is safe (invariant 3). A file is fsynced, and so is its folder, before ingest
 * resolves (invariant 1).
 */
export class FileBlobs implements Blobs {
  readonly root: string;
  private readonly pins = new BlobPins();

  /** `cold`: where archived objects' files live; a blob id names a file in one place or the other. */
  constructor(dataDir: string, private readonly cold?: ColdFiles) {
    this.root = join(dataDir, 'blobs');
    const folders = 16 ** FANOUT_CHARS;
    if (existsSync(join(this.root, (folders - 1).toString(16)))) return;
    for (let i = 0; i < folders; i++) {
      mkdirSync(join(this.root, i.toString(16).padStart(FANOUT_CHARS, '0')), { recursive: true });
    }
  }

  async ingest(body: Readable, options: IngestOptions): Promise<StoredBody> {
    const declared = options.declaredLength;
    if (options.allowInline !== false && declared !== undefined && declared <= INLINE_MAX) {
      return this.ingestInline(body, new Digester(options.checksum), declared);
    }
    const digester = new Digester(options.checksum, { offThread: declared === undefined || declared >= OFF_THREAD_MD5_MIN });
    return this.ingestFile(body, digester, options.maxSize ?? Number.POSITIVE_INFINITY);
  }

  private async ingestInline(body: Readable, digester: Digester, declared: number): Promise<StoredBody> {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) {
      digester.update(chunk);
      if (digester.size > declared) throw new S3Error('IncompleteBody', 'The request body is longer than its declared length.');
      chunks.push(chunk);
    }
    const digest = await digester.finish();
    return { data: { kind: 'inline', bytes: Buffer.concat(chunks, digester.size), crc32c: digest.crc32c }, digest };
  }

  private async ingestFile(body: Readable, digester: Digester, maxSize: number): Promise<StoredBody> {
    const id = randomBytes(16).toString('hex');
    const dir = join(this.root, id.slice(0, FANOUT_CHARS));
    const path = join(dir, id);
    const handle = await open(path, 'wx', 0o600);
    let digest: StoredBody['digest'];
    try {
      await pipeline(body, new BlobSink(handle, digester, maxSize));
      // Both must be durable before the metadata commit; issued together, the file
      // system can often satisfy them with one journal commit. The hash thread's
      // last batch is finished meanwhile.
      [digest] = await Promise.all([digester.finish(), handle.sync(), syncDir(dir)]);
      await handle.close();
    } catch (err) {
      digester.discard();
      await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw err;
    }
    return { data: { kind: 'blobs', extents: [{ blob: id, size: digest.size, md5: digest.md5Hex, crc32c: digest.crc32c }] }, digest };
  }

  read(id: BlobId, start: number, end: number): Readable {
    return createReadStream(this.pathOf(id), { start, end, highWaterMark: READ_BUFFER });
  }

  async writeTo(id: BlobId, start: number, end: number, out: Writable, inspect?: (chunk: Buffer) => void): Promise<void> {
    const handle = await open(this.pathOf(id), 'r');
    try {
      await sendRange(handle, start, end, out, inspect);
    } finally {
      await handle.close();
    }
  }

  pin(ids: readonly BlobId[]): () => void {
    return this.pins.pin(ids);
  }

  isPinned(id: BlobId): boolean {
    return this.pins.isPinned(id);
  }

  async discard(data: ObjectData): Promise<void> {
    if (data.kind !== 'blobs') return;
    await Promise.all(data.extents.map((e) => this.delete(e.blob)));
  }

  async delete(id: BlobId): Promise<void> {
    await Promise.all([rm(this.pathOf(id), { force: true }), this.cold?.delete(id)]);
  }

  async quarantine(id: BlobId): Promise<void> {
    const folder = join(this.root, '..', 'quarantine');
    await mkdir(folder, { recursive: true });
    await rename(this.pathOf(id), join(folder, id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async *list(): AsyncIterable<{ id: BlobId; mtimeMs: number }> {
    for (const folder of await readdirOrEmpty(this.root)) {
      const dir = join(this.root, folder);
      for (const name of await readdirOrEmpty(dir)) {
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info) yield { id: name, mtimeMs: info.mtimeMs };
      }
    }
  }

  private pathOf(id: BlobId): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`invalid blob id ${id}`);
    return join(this.root, id.slice(0, FANOUT_CHARS), id);
  }
}

/**
 * Hashes and writes what a body stream delivers, chunk by chunk as it arrives
 * (no re-buffering), gathering what piles up behind a write into one writev.
 */
class BlobSink extends Writable {
  constructor(private readonly handle: FileHandle, private readonly digester: Digester, private readonly maxSize: number) {
    super({ highWaterMark: WRITE_BATCH });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this._writev([{ chunk }], done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    let size = this.digester.size;
    for (const b of buffers) size += b.length;
    if (size > this.maxSize) {
      done(new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(this.maxSize) }));
      return;
    }
    // The write runs on libuv's pool while the same (unchanging) buffers are hashed:
    // hashing first made every batch wait for both, one after the other.
    const written = writeAll(this.handle, buffers);
    for (const b of buffers) this.digester.update(b);
    Promise.all([written, this.digester.drained()]).then(() => done(), done);
  }
}

async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending);
    pending = dropWritten(pending, bytesWritten);
  }
}

/** What remains of a vector after a short writev. */
function dropWritten(buffers: Buffer[], written: number): Buffer[] {
  let rest = written;
  let i = 0;
  while (i < buffers.length && rest >= buffers[i]!.length) {
    rest -= buffers[i]!.length;
    i++;
  }
  const remaining = buffers.slice(i);
  if (rest > 0 && remaining.length > 0) remaining[0] = remaining[0]!.subarray(rest);
  return remaining;
}

/**
 * Reads bytes [start, end] of a file into a few buffers and writes them to `out`,
 * reusing each once `out` has handed its bytes on (the write callback). A fresh
 * Buffer per read, as fs streams allocate, is memory outside V8's heap: at GET
 * speeds it set off a full GC every 20 MB or so, half of a large GET's CPU.
 * Each chunk goes to `inspect` first; if that throws, the chunk is not written.
 */
async function sendRange(handle: FileHandle, start: number, end: number, out: Writable, inspect?: (chunk: Buffer) => void): Promise<void> {
  const free = Array.from({ length: SEND_BUFFERS }, () => Buffer.allocUnsafeSlow(READ_BUFFER));
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // A write to a closed response never calls back: the close itself must end the wait.
  const onClose = (): void => {
    failure ??= new Error('the destination closed before the blob was sent');
    signal();
  };
  out.once('close', onClose);
  try {
    for (let pos = start; pos <= end;) {
      if (failure) throw failure;
      const buffer = free.pop();
      if (buffer === undefined) {
        await new Promise<void>((resolve) => { wake = resolve; });
        continue;
      }
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - pos + 1), pos);
      if (bytesRead === 0) throw new Error(`the blob ends at byte ${pos}, before byte ${end}`);
      pos += bytesRead;
      const chunk = buffer.subarray(0, bytesRead);
      inspect?.(chunk);
      out.write(chunk, (err?: Error | null) => {
        if (err) failure ??= err;
        free.push(buffer);
        signal();
      });
    }
    if (failure) throw failure;
  } finally {
    out.off('close', onClose);
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
