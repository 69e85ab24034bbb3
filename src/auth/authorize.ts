import { S3Error } from '../errors.js';
import type { Permission } from '../router/operations.js';
import type { AclPermission, Bucket, ObjectHead } from '../store/types.js';
import { aclAllows } from './acl.js';
import type { Principal } from './types.js';

function isBucketOwner(principal: Principal, bucket: Bucket): boolean {
  return principal.kind === 'account' && principal.accountId === bucket.owner;
}

/**
 * Decides what the operation table's permission asks at the edge: the bucket
 * owner may do anything; others need the bucket ACL's grant; anonymous callers
 * only what AllUsers holds. Object permissions are checked by the handler, with
 * the object in hand (see authorizeObject).
 */
export function authorize(permission: Permission, principal: Principal, bucket: Bucket | undefined): void {
  if (permission === 'account') {
    if (principal.kind !== 'account') throw new S3Error('AccessDenied');
    return;
  }
  if (!bucket) throw new S3Error('AccessDenied');
  if (permission === 'form') return;
  if (isBucketOwner(principal, bucket)) return;
  const [scope, acl] = permission.split(':') as [string, AclPermission | undefined];
  if (scope === 'object') return;
  if (scope === 'bucket' && acl !== undefined && aclAllows(bucket.acl, principal, acl)) return;
  throw new S3Error('AccessDenied');
}

/** The object half of authorisation: the bucket owner, or the object ACL's grant. */
export function authorizeObject(permission: AclPermission, principal: Principal, bucket: Bucket, object: ObjectHead): void {
  if (isBucketOwner(principal, bucket)) return;
  if (aclAllows(object.acl, principal, permission)) return;
  throw new S3Error('AccessDenied');
}

/** Whether the principal may list the bucket: it decides between NoSuchKey and AccessDenied for a missing key, as S3 does. */
export function mayList(principal: Principal, bucket: Bucket): boolean {
  return isBucketOwner(principal, bucket) || aclAllows(bucket.acl, principal, 'READ');
}
