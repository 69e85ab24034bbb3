import type { OperationName } from '../router/operations.js';
import * as acl from './acl.js';
import * as attributes from './attributes.js';
import * as bucketTagging from './bucket-tagging.js';
import * as bucketPolicy from './bucket-policy.js';
import * as buckets from './buckets.js';
import type { Handler } from './context.js';
import * as copy from './copy.js';
import * as cors from './cors.js';
import * as del from './delete.js';
import * as get from './get.js';
import * as lifecycle from './lifecycle.js';
import * as listing from './listing.js';
import * as multipart from './multipart.js';
import * as objectLock from './object-lock.js';
import * as postObject from './post-object.js';
import * as put from './put.js';
import * as restore from './restore.js';
import * as tagging from './tagging.js';
import * as versions from './versions.js';

/** Every operation of the router's table, bound to its handler; the compiler checks none is missing. */
export const HANDLERS: Readonly<Record<OperationName, Handler>> = {
  ListBuckets: buckets.listBuckets,
  CreateBucket: buckets.createBucket,
  HeadBucket: buckets.headBucket,
  DeleteBucket: buckets.deleteBucket,
  GetBucketAcl: acl.getBucketAcl,
  PutBucketAcl: acl.putBucketAcl,
  GetBucketPolicy: bucketPolicy.getBucketPolicy,
  PutBucketPolicy: bucketPolicy.putBucketPolicy,
  DeleteBucketPolicy: bucketPolicy.deleteBucketPolicy,
  GetBucketPolicyStatus: bucketPolicy.getBucketPolicyStatus,
  GetBucketLocation: buckets.getBucketLocation,
  GetBucketCors: cors.getBucketCors,
  PutBucketCors: cors.putBucketCors,
  DeleteBucketCors: cors.deleteBucketCors,
  GetBucketLifecycleConfiguration: lifecycle.getBucketLifecycleConfiguration,
  PutBucketLifecycleConfiguration: lifecycle.putBucketLifecycleConfiguration,
  DeleteBucketLifecycle: lifecycle.deleteBucketLifecycle,
  GetBucketTagging: bucketTagging.getBucketTagging,
  PutBucketTagging: bucketTagging.putBucketTagging,
  DeleteBucketTagging: bucketTagging.deleteBucketTagging,
  GetBucketVersioning: versions.getBucketVersioning,
  PutBucketVersioning: versions.putBucketVersioning,
  GetObjectLockConfiguration: objectLock.getObjectLockConfiguration,
  PutObjectLockConfiguration: objectLock.putObjectLockConfiguration,
  ListObjectVersions: versions.listObjectVersions,
  ListObjectsV2: listing.listObjectsV2,
  ListObjects: listing.listObjects,
  ListMultipartUploads: multipart.listMultipartUploads,
  DeleteObjects: del.deleteObjects,
  PostObject: postObject.postObject,
  GetObjectAcl: acl.getObjectAcl,
  PutObjectAcl: acl.putObjectAcl,
  GetObjectTagging: tagging.getObjectTagging,
  PutObjectTagging: tagging.putObjectTagging,
  DeleteObjectTagging: tagging.deleteObjectTagging,
  GetObjectRetention: objectLock.getObjectRetention,
  PutObjectRetention: objectLock.putObjectRetention,
  GetObjectLegalHold: objectLock.getObjectLegalHold,
  PutObjectLegalHold: objectLock.putObjectLegalHold,
  RestoreObject: restore.restoreObject,
  CreateMultipartUpload: multipart.createMultipartUpload,
  UploadPartCopy: multipart.uploadPartCopy,
  UploadPart: multipart.uploadPart,
  CompleteMultipartUpload: multipart.completeMultipartUpload,
  AbortMultipartUpload: multipart.abortMultipartUpload,
  ListParts: multipart.listParts,
  CopyObject: copy.copyObject,
  PutObject: put.putObject,
  GetObjectAttributes: attributes.getObjectAttributes,
  GetObject: get.getObject,
  HeadObject: get.headObject,
  DeleteObject: del.deleteObject,
};
