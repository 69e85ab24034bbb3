/**
 * The map of the whole API: every S3 operation Cairn serves, how a request is
 * recognised as it, and what the caller must be allowed to do. Handlers live in
 * `src/api/<module>.ts`, named in the `module` column.
 *
 * Permissions:
 * - `account`: any authenticated account (not anonymous);
 * - `bucket-owner`: the owner of the bucket only;
 * - `bucket:<P>`: permission P (READ, WRITE, READ_ACP, WRITE_ACP) in the bucket's ACL;
 * - `object:<P>`: permission P in the object's ACL, checked by the handler once it has the object;
 * - `form`: a browser form signs itself (its POST policy); the handler authenticates the form and
 *   checks bucket WRITE for its signer (anonymous without a policy).
 * The bucket owner may do everything; anonymous callers only what the AllUsers group is granted.
 * The bucket policy, matched on the `action` column, combines with these as AWS does: an explicit
 * Deny wins (even over the owner), an Allow admits the caller whatever the ACLs say.
 */
export type Target = 'service' | 'bucket' | 'object';
export type Permission = 'account' | 'bucket-owner' | 'form' | `bucket:${'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP'}` | `object:${'READ' | 'READ_ACP' | 'WRITE_ACP'}`;

export interface OperationSpec {
  readonly name: string;
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  readonly target: Target;
  /** A query parameter that must be present (S3's sub-resource), optionally with this value. */
  readonly query?: string | readonly [string, string];
  /** A header that must be present. */
  readonly header?: string;
  readonly module: string;
  readonly permission: Permission;
  /** The IAM action a bucket policy grants or denies it by (its Version form is derived when a versionId is named). */
  readonly action: `s3:${string}`;
}

export const OPERATIONS = [
  { name: 'ListBuckets', method: 'GET', target: 'service', module: 'buckets', permission: 'account', action: 's3:ListAllMyBuckets' },

  { name: 'CreateBucket', method: 'PUT', target: 'bucket', module: 'buckets', permission: 'account', action: 's3:CreateBucket' },
  { name: 'HeadBucket', method: 'HEAD', target: 'bucket', module: 'buckets', permission: 'bucket:READ', action: 's3:ListBucket' },
  { name: 'DeleteBucket', method: 'DELETE', target: 'bucket', module: 'buckets', permission: 'bucket-owner', action: 's3:DeleteBucket' },
  { name: 'GetBucketAcl', method: 'GET', target: 'bucket', query: 'acl', module: 'acl', permission: 'bucket:READ_ACP', action: 's3:GetBucketAcl' },
  { name: 'PutBucketAcl', method: 'PUT', target: 'bucket', query: 'acl', module: 'acl', permission: 'bucket:WRITE_ACP', action: 's3:PutBucketAcl' },
  { name: 'GetBucketPolicy', method: 'GET', target: 'bucket', query: 'policy', module: 'bucket-policy', permission: 'bucket-owner', action: 's3:GetBucketPolicy' },
  { name: 'PutBucketPolicy', method: 'PUT', target: 'bucket', query: 'policy', module: 'bucket-policy', permission: 'bucket-owner', action: 's3:PutBucketPolicy' },
  { name: 'DeleteBucketPolicy', method: 'DELETE', target: 'bucket', query: 'policy', module: 'bucket-policy', permission: 'bucket-owner', action: 's3:DeleteBucketPolicy' },
  { name: 'GetBucketPolicyStatus', method: 'GET', target: 'bucket', query: 'policyStatus', module: 'bucket-policy', permission: 'bucket-owner', action: 's3:GetBucketPolicyStatus' },
  { name: 'GetBucketLocation', method: 'GET', target: 'bucket', query: 'location', module: 'buckets', permission: 'bucket-owner', action: 's3:GetBucketLocation' },
  { name: 'GetBucketCors', method: 'GET', target: 'bucket', query: 'cors', module: 'cors', permission: 'bucket-owner', action: 's3:GetBucketCORS' },
  { name: 'PutBucketCors', method: 'PUT', target: 'bucket', query: 'cors', module: 'cors', permission: 'bucket-owner', action: 's3:PutBucketCORS' },
  { name: 'DeleteBucketCors', method: 'DELETE', target: 'bucket', query: 'cors', module: 'cors', permission: 'bucket-owner', action: 's3:PutBucketCORS' },
  { name: 'GetBucketLifecycleConfiguration', method: 'GET', target: 'bucket', query: 'lifecycle', module: 'lifecycle', permission: 'bucket-owner', action: 's3:GetLifecycleConfiguration' },
  { name: 'PutBucketLifecycleConfiguration', method: 'PUT', target: 'bucket', query: 'lifecycle', module: 'lifecycle', permission: 'bucket-owner', action: 's3:PutLifecycleConfiguration' },
  { name: 'DeleteBucketLifecycle', method: 'DELETE', target: 'bucket', query: 'lifecycle', module: 'lifecycle', permission: 'bucket-owner', action: 's3:PutLifecycleConfiguration' },
  { name: 'GetBucketTagging', method: 'GET', target: 'bucket', query: 'tagging', module: 'bucket-tagging', permission: 'bucket-owner', action: 's3:GetBucketTagging' },
  { name: 'PutBucketTagging', method: 'PUT', target: 'bucket', query: 'tagging', module: 'bucket-tagging', permission: 'bucket-owner', action: 's3:PutBucketTagging' },
  // S3 authorises removing a bucket's tags as s3:PutBucketTagging.
  { name: 'DeleteBucketTagging', method: 'DELETE', target: 'bucket', query: 'tagging', module: 'bucket-tagging', permission: 'bucket-owner', action: 's3:PutBucketTagging' },
  { name: 'GetBucketVersioning', method: 'GET', target: 'bucket', query: 'versioning', module: 'versions', permission: 'bucket-owner', action: 's3:GetBucketVersioning' },
  { name: 'PutBucketVersioning', method: 'PUT', target: 'bucket', query: 'versioning', module: 'versions', permission: 'bucket-owner', action: 's3:PutBucketVersioning' },
  { name: 'GetObjectLockConfiguration', method: 'GET', target: 'bucket', query: 'object-lock', module: 'object-lock', permission: 'bucket-owner', action: 's3:GetBucketObjectLockConfiguration' },
  { name: 'PutObjectLockConfiguration', method: 'PUT', target: 'bucket', query: 'object-lock', module: 'object-lock', permission: 'bucket-owner', action: 's3:PutBucketObjectLockConfiguration' },
  { name: 'ListObjectVersions', method: 'GET', target: 'bucket', query: 'versions', module: 'versions', permission: 'bucket:READ', action: 's3:ListBucketVersions' },
  { name: 'ListObjectsV2', method: 'GET', target: 'bucket', query: ['list-type', '2'], module: 'listing', permission: 'bucket:READ', action: 's3:ListBucket' },
  { name: 'ListObjects', method: 'GET', target: 'bucket', module: 'listing', permission: 'bucket:READ', action: 's3:ListBucket' },
  { name: 'ListMultipartUploads', method: 'GET', target: 'bucket', query: 'uploads', module: 'multipart', permission: 'bucket:READ', action: 's3:ListBucketMultipartUploads' },
  { name: 'DeleteObjects', method: 'POST', target: 'bucket', query: 'delete', module: 'delete', permission: 'bucket:WRITE', action: 's3:DeleteObject' },
  { name: 'PostObject', method: 'POST', target: 'bucket', module: 'post-object', permission: 'form', action: 's3:PutObject' },

  { name: 'GetObjectAcl', method: 'GET', target: 'object', query: 'acl', module: 'acl', permission: 'object:READ_ACP', action: 's3:GetObjectAcl' },
  { name: 'PutObjectAcl', method: 'PUT', target: 'object', query: 'acl', module: 'acl', permission: 'object:WRITE_ACP', action: 's3:PutObjectAcl' },
  { name: 'GetObjectTagging', method: 'GET', target: 'object', query: 'tagging', module: 'tagging', permission: 'bucket-owner', action: 's3:GetObjectTagging' },
  { name: 'PutObjectTagging', method: 'PUT', target: 'object', query: 'tagging', module: 'tagging', permission: 'bucket-owner', action: 's3:PutObjectTagging' },
  { name: 'DeleteObjectTagging', method: 'DELETE', target: 'object', query: 'tagging', module: 'tagging', permission: 'bucket-owner', action: 's3:DeleteObjectTagging' },
  { name: 'GetObjectRetention', method: 'GET', target: 'object', query: 'retention', module: 'object-lock', permission: 'bucket-owner', action: 's3:GetObjectRetention' },
  { name: 'PutObjectRetention', method: 'PUT', target: 'object', query: 'retention', module: 'object-lock', permission: 'bucket-owner', action: 's3:PutObjectRetention' },
  { name: 'GetObjectLegalHold', method: 'GET', target: 'object', query: 'legal-hold', module: 'object-lock', permission: 'bucket-owner', action: 's3:GetObjectLegalHold' },
  { name: 'PutObjectLegalHold', method: 'PUT', target: 'object', query: 'legal-hold', module: 'object-lock', permission: 'bucket-owner', action: 's3:PutObjectLegalHold' },
  { name: 'RestoreObject', method: 'POST', target: 'object', query: 'restore', module: 'restore', permission: 'bucket:WRITE', action: 's3:RestoreObject' },
  { name: 'CreateMultipartUpload', method: 'POST', target: 'object', query: 'uploads', module: 'multipart', permission: 'bucket:WRITE', action: 's3:PutObject' },
  { name: 'UploadPartCopy', method: 'PUT', target: 'object', query: 'uploadId', header: 'x-amz-copy-source', module: 'multipart', permission: 'bucket:WRITE', action: 's3:PutObject' },
  { name: 'UploadPart', method: 'PUT', target: 'object', query: 'uploadId', module: 'multipart', permission: 'bucket:WRITE', action: 's3:PutObject' },
  { name: 'CompleteMultipartUpload', method: 'POST', target: 'object', query: 'uploadId', module: 'multipart', permission: 'bucket:WRITE', action: 's3:PutObject' },
  { name: 'AbortMultipartUpload', method: 'DELETE', target: 'object', query: 'uploadId', module: 'multipart', permission: 'bucket:WRITE', action: 's3:AbortMultipartUpload' },
  { name: 'ListParts', method: 'GET', target: 'object', query: 'uploadId', module: 'multipart', permission: 'bucket:READ', action: 's3:ListMultipartUploadParts' },
  { name: 'CopyObject', method: 'PUT', target: 'object', header: 'x-amz-copy-source', module: 'copy', permission: 'bucket:WRITE', action: 's3:PutObject' },
  { name: 'PutObject', method: 'PUT', target: 'object', module: 'put', permission: 'bucket:WRITE', action: 's3:PutObject' },
  { name: 'GetObjectAttributes', method: 'GET', target: 'object', query: 'attributes', module: 'attributes', permission: 'object:READ', action: 's3:GetObjectAttributes' },
  { name: 'GetObject', method: 'GET', target: 'object', module: 'get', permission: 'object:READ', action: 's3:GetObject' },
  { name: 'HeadObject', method: 'HEAD', target: 'object', module: 'get', permission: 'object:READ', action: 's3:GetObject' },
  { name: 'DeleteObject', method: 'DELETE', target: 'object', module: 'delete', permission: 'bucket:WRITE', action: 's3:DeleteObject' },
] as const satisfies readonly OperationSpec[];

/** Operations whose IAM action names a version when the request does (s3:GetObjectVersion, …). */
const VERSIONED_ACTIONS: Readonly<Record<string, `s3:${string}`>> = {
  's3:GetObject': 's3:GetObjectVersion', 's3:GetObjectAcl': 's3:GetObjectVersionAcl', 's3:PutObjectAcl': 's3:PutObjectVersionAcl',
  's3:DeleteObject': 's3:DeleteObjectVersion', 's3:GetObjectTagging': 's3:GetObjectVersionTagging',
  's3:PutObjectTagging': 's3:PutObjectVersionTagging', 's3:DeleteObjectTagging': 's3:DeleteObjectVersionTagging',
  's3:GetObjectAttributes': 's3:GetObjectVersionAttributes',
};

/** The IAM action of a request for the operation: the Version form when it names a version. */
export function actionOf(spec: OperationSpec, versionId: string | null): `s3:${string}` {
  return versionId !== null ? (VERSIONED_ACTIONS[spec.action] ?? spec.action) : spec.action;
}

export type OperationName = (typeof OPERATIONS)[number]['name'];

/**
 * Sub-resources S3 knows. A request naming one that no operation above serves
 * is answered NotImplemented instead of falling through to a plain GET/PUT.
 */
export const KNOWN_SUBRESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'delete', 'encryption', 'intelligent-tiering',
  'inventory', 'legal-hold', 'location', 'logging', 'metrics', 'notification', 'object-lock',
  'ownershipControls', 'policy', 'policyStatus', 'publicAccessBlock', 'replication',
  'requestPayment', 'restore', 'retention', 'select', 'session', 'tagging', 'torrent', 'uploadId', 'uploads',
  'versioning', 'versions', 'website',
] as const;
