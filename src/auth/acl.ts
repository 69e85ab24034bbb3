import { S3Error } from '../errors.js';
import type { AccountId, Acl, AclPermission, Grant } from '../store/types.js';
import type { Principal } from './types.js';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
export const GROUPS: readonly string[] = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

export const CANNED_ACLS = [
  'private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read',
  'bucket-owner-read', 'bucket-owner-full-control', 'log-delivery-write',
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

const full = (id: AccountId): Grant => ({ grantee: { kind: 'user', id }, permission: 'FULL_CONTROL' });
const group = (uri: string, permission: AclPermission): Grant => ({ grantee: { kind: 'group', uri }, permission });

/** The private default: the owner has FULL_CONTROL. */
export function privateAcl(owner: AccountId): Acl {
  return { owner, grants: [full(owner)] };
}

/** S3's canned ACLs. `bucketOwner` matters only for the bucket-owner-* ones on objects. */
export function cannedAcl(name: string, owner: AccountId, bucketOwner: AccountId): Acl {
  const grants: Grant[] = [full(owner)];
  switch (name as CannedAcl) {
    case 'private':
      break;
    case 'public-read':
      grants.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'aws-exec-read':
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== owner) grants.push({ grantee: { kind: 'user', id: bucketOwner }, permission: 'READ' });
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) grants.push(full(bucketOwner));
      break;
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
    default:
      throw new S3Error('InvalidArgument', undefined, { ArgumentName: 'x-amz-acl', ArgumentValue: name });
  }
  return { owner, grants };
}

function covers(grant: Grant, permission: AclPermission): boolean {
  return grant.permission === permission || grant.permission === 'FULL_CONTROL';
}

function applies(grant: Grant, principal: Principal): boolean {
  const g = grant.grantee;
  if (g.kind === 'user') return principal.kind === 'account' && principal.accountId === g.id;
  if (g.uri === ALL_USERS) return true;
  if (g.uri === AUTHENTICATED_USERS) return principal.kind === 'account';
  return false;
}

/** Whether the ACL gives the principal the permission (its owner always has the ACP rights, as in S3). */
export function aclAllows(acl: Acl, principal: Principal, permission: AclPermission): boolean {
  if (principal.kind === 'account' && principal.accountId === acl.owner && (permission === 'READ_ACP' || permission === 'WRITE_ACP')) return true;
  return acl.grants.some((g) => applies(g, principal) && covers(g, permission));
}
