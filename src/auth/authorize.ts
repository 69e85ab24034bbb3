import { S3Error } from '../errors.js';
import { parsePolicy, type Policy } from '../policy/document.js';
import { evaluatePolicy, type Verdict } from '../policy/evaluate.js';
import type { Permission } from '../router/operations.js';
import type { AclPermission, Bucket, ObjectHead, TagPair } from '../store/types.js';
import { aclAllows } from './acl.js';
import { withObjectTags, type RequestKeys } from './request-keys.js';
import type { Principal } from './types.js';

/** Who asks, for what IAM action, with which condition keys: what every decision needs. */
export interface Access {
  readonly principal: Principal;
  /** The operation's IAM action, like `s3:GetObject` (already its Version form when a versionId is named). */
  readonly action: string;
  readonly keys: RequestKeys;
}

/** The root account may always manage its bucket's policy, even against the policy's own Deny (as in AWS). */
const POLICY_ACTIONS: ReadonlySet<string> = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']);

function isBucketOwner(principal: Principal, bucket: Bucket): boolean {
  return principal.kind === 'account' && principal.accountId === bucket.owner;
}

/** Parsed policies, kept with the cached bucket record so that a request evaluates one without a query or a parse. */
const parsed = new WeakMap<Bucket, Policy | undefined>();

export function policyOf(bucket: Bucket): Policy | undefined {
  if (parsed.has(bucket)) return parsed.get(bucket);
  const text = bucket.configs.policy;
  const policy = text === undefined ? undefined : parsePolicy(text, bucket.name);
  parsed.set(bucket, policy);
  return policy;
}

export function arnOf(bucket: string, key?: string): string {
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}

/** `keys` is only called when the bucket has a policy: most requests never build the condition keys. */
function verdictOf(access: Access, bucket: Bucket, key: string | undefined, keys: () => RequestKeys): Verdict {
  const policy = policyOf(bucket);
  if (!policy) return 'None';
  const known = keys();
  return evaluatePolicy(policy, {
    account: access.principal.kind === 'account' ? access.principal.accountId : undefined,
    action: access.action, resource: arnOf(bucket.name, key), keys: (k) => known.get(k),
  });
}

/**
 * The one decision, as AWS combines them: an explicit Deny in the bucket policy
 * wins (even over the owner, except for managing the policy itself); otherwise an
 * Allow from the policy, ownership or the ACL's grant admits the request.
 */
function decide(access: Access, bucket: Bucket, key: string | undefined, keys: () => RequestKeys, aclGrant: () => boolean): boolean {
  const verdict = verdictOf(access, bucket, key, keys);
  const owner = isBucketOwner(access.principal, bucket);
  if (verdict === 'Deny') return owner && POLICY_ACTIONS.has(access.action);
  return verdict === 'Allow' || owner || aclGrant();
}

/** Whether the policy speaks of existing object tags, so the edge must look at the object's tags to decide. */
export function needsObjectTags(bucket: Bucket): boolean {
  return policyOf(bucket)?.statements.some((s) => s.conditions.some((c) => c.key.startsWith('s3:existingobjecttag/'))) ?? false;
}

/**
 * Decides what the operation table's permission asks at the edge. Operations
 * needing an object permission are decided by the handler with the object in
 * hand (see authorizeObject); `objectTags` are those of the addressed object when
 * the policy needs them.
 */
export function authorize(
  permission: Permission, access: Access, bucket: Bucket | undefined, key: string | undefined, objectTags: readonly TagPair[] = [],
): void {
  if (permission === 'account') {
    if (access.principal.kind !== 'account') throw new S3Error('AccessDenied');
    return;
  }
  if (!bucket) throw new S3Error('AccessDenied');
  if (permission === 'form') return;
  const [scope, acl] = permission.split(':') as [string, AclPermission | undefined];
  if (scope === 'object') return;
  const keys = (): RequestKeys => (objectTags.length > 0 ? withObjectTags(access.keys, objectTags) : access.keys);
  const grant = (): boolean => scope === 'bucket' && acl !== undefined && aclAllows(bucket.acl, access.principal, acl);
  if (!decide(access, bucket, key, keys, grant)) throw new S3Error('AccessDenied');
}

/** The object half of authorisation: the policy (with the object's tags), the bucket owner, or the object ACL's grant. */
export function authorizeObject(permission: AclPermission, access: Access, bucket: Bucket, object: ObjectHead): void {
  const keys = (): RequestKeys => withObjectTags(access.keys, object.tags);
  if (!decide(access, bucket, object.key, keys, () => aclAllows(object.acl, access.principal, permission))) throw new S3Error('AccessDenied');
}

/**
 * Whether the principal may list the bucket at `key`: it decides between NoSuchKey
 * and AccessDenied for a missing key, as S3 does (s3:ListBucket with s3:prefix = the key).
 */
export function mayList(access: Access, bucket: Bucket, key: string): boolean {
  const keys = (): RequestKeys => new Map(access.keys).set('s3:prefix', [key]);
  return decide({ ...access, action: 's3:ListBucket' }, bucket, undefined, keys, () => aclAllows(bucket.acl, access.principal, 'READ'));
}

/** One key of a multi-key request (DeleteObjects): the policy decides per key, as S3 does, before the bucket ACL. */
export function allowedOnKey(access: Access, bucket: Bucket, key: string, permission: AclPermission): boolean {
  return decide(access, bucket, key, () => access.keys, () => aclAllows(bucket.acl, access.principal, permission));
}
