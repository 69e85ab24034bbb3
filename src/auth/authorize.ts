import { S3Error } from '../errors.js';
import type { Permission } from '../router/operations.js';
import type { Bucket } from '../store/types.js';
import type { Principal } from './types.js';

/**
 * Decides whether a principal may perform an operation needing `permission`.
 * Until ACLs exist, only a bucket's owner may touch it.
 */
export function authorize(permission: Permission, principal: Principal, bucket: Bucket | undefined): void {
  if (principal.kind !== 'account') throw new S3Error('AccessDenied');
  if (permission === 'account') return;
  if (!bucket || bucket.owner !== principal.accountId) throw new S3Error('AccessDenied');
}
