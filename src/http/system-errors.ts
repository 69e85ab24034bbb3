import { S3Error } from '../errors.js';

/** File-system and SQLite codes that mean "the disk is full" (or the quota is spent). */
const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/**
 * The S3 error a system failure is reported as, when it is one a client can act
 * on. A full disk is 507 InsufficientStorage, as MinIO and other S3-compatible
 * servers answer (S3 itself has no such error): the write was refused whole and
 * nothing of it is stored, so deleting objects and retrying is the remedy.
 */
export function s3ErrorFromSystem(err: unknown): S3Error | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FULL.has(code)) {
    return new S3Error('InsufficientStorage');
  }
  return undefined;
}
