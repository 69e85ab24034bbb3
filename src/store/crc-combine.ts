import type { ChecksumAlgorithm } from './types.js';

/**
 * CRC of a concatenation from the CRCs of its pieces, by the GF(2) matrix method
 * (as in zlib's crc32_combine), for the reflected CRCs S3 uses. This is what
 * lets a multipart upload get its FULL_OBJECT checksum without reading its parts
 * again.
 */
const REFLECTED_POLY: Partial<Record<ChecksumAlgorithm, { poly: bigint; width: number }>> = {
  CRC32: { poly: 0xedb88320n, width: 32 },
  CRC32C: { poly: 0x82f63b78n, width: 32 },
  CRC64NVME: { poly: 0x9a6c9329ac4bc9b5n, width: 64 },
};

export function canCombine(algorithm: ChecksumAlgorithm): boolean {
  return REFLECTED_POLY[algorithm] !== undefined;
}

function times(matrix: readonly bigint[], vector: bigint): bigint {
  let sum = 0n;
  for (let i = 0; vector !== 0n; i++, vector >>= 1n) if (vector & 1n) sum ^= matrix[i]!;
  return sum;
}

function square(matrix: readonly bigint[]): bigint[] {
  return matrix.map((row) => times(matrix, row));
}

/** crc(A ‖ B) from crc(A), crc(B) and the length of B in bytes. */
export function combineCrc(algorithm: ChecksumAlgorithm, crcA: bigint, crcB: bigint, lengthB: number): bigint {
  const spec = REFLECTED_POLY[algorithm];
  if (!spec) throw new Error(`${algorithm} is not a CRC`);
  if (lengthB === 0) return crcA;
  // The operator for one zero bit, then squared up to one zero byte.
  let odd: bigint[] = [spec.poly];
  for (let n = 1; n < spec.width; n++) odd.push(1n << BigInt(n - 1));
  let even = square(odd);
  odd = square(even);
  let crc = crcA;
  let len = BigInt(lengthB);
  for (;;) {
    even = square(odd);
    if (len & 1n) crc = times(even, crc);
    len >>= 1n;
    if (len === 0n) break;
    odd = square(even);
    if (len & 1n) crc = times(odd, crc);
    len >>= 1n;
    if (len === 0n) break;
  }
  return crc ^ crcB;
}

/** Combines base64 CRCs of consecutive pieces into the base64 CRC of the whole. */
export function combineBase64Crcs(algorithm: ChecksumAlgorithm, pieces: readonly { crc: string; size: number }[]): string {
  const bytes = REFLECTED_POLY[algorithm]!.width / 8;
  let total: bigint | undefined;
  for (const piece of pieces) {
    const value = BigInt(`0x${Buffer.from(piece.crc, 'base64').toString('hex') || '0'}`);
    total = total === undefined ? value : combineCrc(algorithm, total, value, piece.size);
  }
  return Buffer.from((total ?? 0n).toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}
