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
}

export const OPERATIONS = [
  { name: 'ListBuckets', method: 'GET', target: 'service', module: 'buckets', permission: 'account' },

  { name: 'CreateBucket', method: 'PUT', target: 'bucket', module: 'buckets', permission: 'account' },
  { name: 'HeadBucket', method: 'HEAD', target: 'bucket', module: 'buckets', permission: 'bucket:READ' },
  { name: 'DeleteBucket', method: 'DELETE', target: 'bucket', module: 'buckets', permission: 'bucket-owner' },
  { name: 'GetBucketAcl', method: 'GET', target: 'bucket', query: 'acl', module: 'acl', permission: 'bucket:READ_ACP' },
  { name: 'PutBucketAcl', method: 'PUT', target: 'bucket', query: 'acl', module: 'acl', permission: 'bucket:WRITE_ACP' },
  { name: 'GetBucketLocation', method: 'GET', target: 'bucket', query: 'location', module: 'buckets', permission: 'bucket-owner' },
  { name: 'GetBucketCors', method: 'GET', target: 'bucket', query: 'cors', module: 'cors', permission: 'bucket-owner' },
  { name: 'PutBucketCors', method: 'PUT', target: 'bucket', query: 'cors', module: 'cors', permission: 'bucket-owner' },
  { name: 'DeleteBucketCors', method: 'DELETE', target: 'bucket', query: 'cors', module: 'cors', permission: 'bucket-owner' },
  { name: 'GetBucketLifecycleConfiguration', method: 'GET', target: 'bucket', query: 'lifecycle', module: 'lifecycle', permission: 'bucket-owner' },
  { name: 'PutBucketLifecycleConfiguration', method: 'PUT', target: 'bucket', query: 'lifecycle', module: 'lifecycle', permission: 'bucket-owner' },
  { name: 'DeleteBucketLifecycle', method: 'DELETE', target: 'bucket', query: 'lifecycle', module: 'lifecycle', permission: 'bucket-owner' },
  { name: 'GetBucketTagging', method: 'GET', target: 'bucket', query: 'tagging', module: 'bucket-tagging', permission: 'bucket-owner' },
  { name: 'PutBucketTagging', method: 'PUT', target: 'bucket', query: 'tagging', module: 'bucket-tagging', permission: 'bucket-owner' },
  { name: 'DeleteBucketTagging', method: 'DELETE', target: 'bucket', query: 'tagging', module: 'bucket-tagging', permission: 'bucket-owner' },
  { name: 'GetBucketVersioning', method: 'GET', target: 'bucket', query: 'versioning', module: 'versions', permission: 'bucket-owner' },
  { name: 'PutBucketVersioning', method: 'PUT', target: 'bucket', query: 'versioning', module: 'versions', permission: 'bucket-owner' },
  { name: 'GetObjectLockConfiguration', method: 'GET', target: 'bucket', query: 'object-lock', module: 'object-lock', permission: 'bucket-owner' },
  { name: 'PutObjectLockConfiguration', method: 'PUT', target: 'bucket', query: 'object-lock', module: 'object-lock', permission: 'bucket-owner' },
  { name: 'ListObjectVersions', method: 'GET', target: 'bucket', query: 'versions', module: 'versions', permission: 'bucket:READ' },
  { name: 'ListObjectsV2', method: 'GET', target: 'bucket', query: ['list-type', '2'], module: 'listing', permission: 'bucket:READ' },
  { name: 'ListObjects', method: 'GET', target: 'bucket', module: 'listing', permission: 'bucket:READ' },
  { name: 'ListMultipartUploads', method: 'GET', target: 'bucket', query: 'uploads', module: 'multipart', permission: 'bucket:READ' },
  { name: 'DeleteObjects', method: 'POST', target: 'bucket', query: 'delete', module: 'delete', permission: 'bucket:WRITE' },
  { name: 'PostObject', method: 'POST', target: 'bucket', module: 'post-object', permission: 'form' },

  { name: 'GetObjectAcl', method: 'GET', target: 'object', query: 'acl', module: 'acl', permission: 'object:READ_ACP' },
  { name: 'PutObjectAcl', method: 'PUT', target: 'object', query: 'acl', module: 'acl', permission: 'object:WRITE_ACP' },
  { name: 'GetObjectTagging', method: 'GET', target: 'object', query: 'tagging', module: 'tagging', permission: 'bucket-owner' },
  { name: 'PutObjectTagging', method: 'PUT', target: 'object', query: 'tagging', module: 'tagging', permission: 'bucket-owner' },
  { name: 'DeleteObjectTagging', method: 'DELETE', target: 'object', query: 'tagging', module: 'tagging', permission: 'bucket-owner' },
  { name: 'GetObjectRetention', method: 'GET', target: 'object', query: 'retention', module: 'object-lock', permission: 'bucket-owner' },
  { name: 'PutObjectRetention', method: 'PUT', target: 'object', query: 'retention', module: 'object-lock', permission: 'bucket-owner' },
  { name: 'GetObjectLegalHold', method: 'GET', target: 'object', query: 'legal-hold', module: 'object-lock', permission: 'bucket-owner' },
  { name: 'PutObjectLegalHold', method: 'PUT', target: 'object', query: 'legal-hold', module: 'object-lock', permission: 'bucket-owner' },
  { name: 'RestoreObject', method: 'POST', target: 'object', query: 'restore', module: 'restore', permission: 'bucket:WRITE' },
  { name: 'CreateMultipartUpload', method: 'POST', target: 'object', query: 'uploads', module: 'multipart', permission: 'bucket:WRITE' },
  { name: 'UploadPartCopy', method: 'PUT', target: 'object', query: 'uploadId', header: 'x-amz-copy-source', module: 'multipart', permission: 'bucket:WRITE' },
  { name: 'UploadPart', method: 'PUT', target: 'object', query: 'uploadId', module: 'multipart', permission: 'bucket:WRITE' },
  { name: 'CompleteMultipartUpload', method: 'POST', target: 'object', query: 'uploadId', module: 'multipart', permission: 'bucket:WRITE' },
  { name: 'AbortMultipartUpload', method: 'DELETE', target: 'object', query: 'uploadId', module: 'multipart', permission: 'bucket:WRITE' },
  { name: 'ListParts', method: 'GET', target: 'object', query: 'uploadId', module: 'multipart', permission: 'bucket:READ' },
  { name: 'CopyObject', method: 'PUT', target: 'object', header: 'x-amz-copy-source', module: 'copy', permission: 'bucket:WRITE' },
  { name: 'PutObject', method: 'PUT', target: 'object', module: 'put', permission: 'bucket:WRITE' },
  { name: 'GetObjectAttributes', method: 'GET', target: 'object', query: 'attributes', module: 'attributes', permission: 'object:READ' },
  { name: 'GetObject', method: 'GET', target: 'object', module: 'get', permission: 'object:READ' },
  { name: 'HeadObject', method: 'HEAD', target: 'object', module: 'get', permission: 'object:READ' },
  { name: 'DeleteObject', method: 'DELETE', target: 'object', module: 'delete', permission: 'bucket:WRITE' },
] as const satisfies readonly OperationSpec[];

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
