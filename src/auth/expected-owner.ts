import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { Bucket } from '../store/types.js';

/**
 * `x-amz-expected-bucket-owner`: the caller's guard against acting on a bucket
 * that changed hands. Naming any account but the bucket's owner is 403
 * AccessDenied, whatever the ACLs would allow, as S3 answers it.
 */
export function checkExpectedOwner(headers: IncomingHttpHeaders, bucket: Bucket | undefined): void {
  const expected = headers['x-amz-expected-bucket-owner'];
  if (expected === undefined || bucket === undefined) return;
  if (expected !== bucket.owner) throw new S3Error('AccessDenied');
}
