import { createHash, type Hash } from 'node:crypto';
import { crc32, crc32c } from '@node-rs/crc32';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import { OffThreadMd5 } from './md5-thread.js';
import type { BodyDigest, ChecksumAlgorithm } from './types.js';

/** A running checksum over a stream of chunks, finished into S3's base64 form. */
interface RunningChecksum {
  update(chunk: Buffer): void;
  digest(): Promise<Buffer>;
}

class Crc32Family implements RunningChecksum {
  private state = 0;
  constructor(private readonly fn: typeof crc32) {}
  update(chunk: Buffer): void {
    this.state = this.fn(chunk, this.state);
  }
  async digest(): Promise<Buffer> {
    return crcBytes(this.state);
  }
}

/** A CRC32 or CRC32C as S3 transmits it: four bytes, big-endian. */
function crcBytes(crc: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc >>> 0);
  return out;
}

class NodeHash implements RunningChecksum {
  private readonly hash: Hash;
  constructor(algorithm: string) {
    this.hash = createHash(algorithm);
  }
  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }
  async digest(): Promise<Buffer> {
    return this.hash.digest();
  }
}

class Crc64 implements RunningChecksum {
  private readonly impl = new Crc64Nvme();
  update(chunk: Buffer): void {
    this.impl.update(chunk);
  }
  async digest(): Promise<Buffer> {
    return Buffer.from(await this.impl.digest());
  }
}

export function newChecksum(algorithm: ChecksumAlgorithm): RunningChecksum {
  switch (algorithm) {
    case 'CRC32': return new Crc32Family(crc32);
    case 'CRC32C': return new Crc32Family(crc32c);
    case 'CRC64NVME': return new Crc64();
    case 'SHA1': return new NodeHash('sha1');
    case 'SHA256': return new NodeHash('sha256');
  }
}

/** The MD5 behind an ETag, computed on this thread or on the hash thread. */
interface RunningMd5 {
  update(chunk: Buffer): void;
  hex(): Promise<string>;
  drained(): Promise<void>;
  discard(): void;
}

class LocalMd5 implements RunningMd5 {
  private readonly hash = createHash('md5');
  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }
  async hex(): Promise<string> {
    return this.hash.digest('hex');
  }
  async drained(): Promise<void> {}
  discard(): void {}
}

/**
 * MD5 (for the ETag), the CRC32C the stored bytes are verified with, and at most
 * one requested checksum, fed in one pass. With `offThread`, the MD5 runs on the
 * hash thread (worth it for large bodies).
 */
export class Digester {
  private readonly md5: RunningMd5;
  private readonly checksum: RunningChecksum | undefined;
  /** The integrity CRC32C; a requested CRC32C is the same number, so it is not computed twice. */
  private crc32c = 0;
  size = 0;

  constructor(private readonly algorithm?: ChecksumAlgorithm, options: { offThread?: boolean } = {}) {
    this.md5 = options.offThread ? new OffThreadMd5() : new LocalMd5();
    this.checksum = algorithm && algorithm !== 'CRC32C' ? newChecksum(algorithm) : undefined;
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    this.crc32c = crc32c(chunk, this.crc32c);
    this.checksum?.update(chunk);
  }

  /** Resolves once the digest can take more bytes: a writer waits for it, so the hash thread is never far behind. */
  drained(): Promise<void> {
    return this.md5.drained();
  }

  /** The body will not be finished (its upload failed): release what the digest holds. */
  discard(): void {
    this.md5.discard();
  }

  async finish(): Promise<BodyDigest> {
    const md5Hex = await this.md5.hex();
    const crc = this.crc32c >>> 0;
    const digest = { size: this.size, md5Hex, crc32c: crc };
    if (this.algorithm === 'CRC32C') return { ...digest, checksum: crcBytes(crc).toString('base64') };
    if (!this.checksum) return digest;
    return { ...digest, checksum: (await this.checksum.digest()).toString('base64') };
  }
}

/** A checksum computed at once over a small buffer; every algorithm but CRC64NVME (whose library is asynchronous). */
export function checksumNow(algorithm: Exclude<ChecksumAlgorithm, 'CRC64NVME'>, data: Buffer): Buffer {
  switch (algorithm) {
    case 'CRC32':
    case 'CRC32C': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE((algorithm === 'CRC32' ? crc32(data) : crc32c(data)) >>> 0);
      return out;
    }
    case 'SHA1': return createHash('sha1').update(data).digest();
    case 'SHA256': return createHash('sha256').update(data).digest();
  }
}

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** Byte length of each checksum's digest, to validate what clients send. */
export const CHECKSUM_LENGTH: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32,
};
