import type { BlobId, BucketName, ObjectHead, ObjectKey, ObjectRecord, RestoreState, TagPair } from './types.js';

/** A bucket's lifecycle configuration, as validated from PutBucketLifecycleConfiguration. */
export interface LifecycleConfiguration {
  readonly rules: readonly LifecycleRule[];
}

/**
 * Which objects a rule applies to. `form` remembers how the request said it,
 * so GET gives back the same shape: a bare legacy `<Prefix>` (boto 2), an empty
 * `<Filter/>`, or a Filter holding one condition or an `<And>`.
 */
export interface LifecycleFilter {
  readonly form: 'legacy-prefix' | 'empty' | 'prefix' | 'tag' | 'size-greater' | 'size-less' | 'and';
  readonly prefix?: string;
  readonly tags: readonly TagPair[];
  readonly sizeGreaterThan?: number;
  readonly sizeLessThan?: number;
}

/** When an action applies: a number of days after creation, or a date (ISO 8601, midnight UTC). */
export interface LifecycleWhen {
  readonly days?: number;
  readonly date?: string;
}

export interface LifecycleTransition extends LifecycleWhen {
  readonly storageClass: string;
}

export interface LifecycleExpiration extends LifecycleWhen {
  readonly expiredObjectDeleteMarker?: boolean;
}

/** Noncurrent-version actions are kept and given back; they act once versioning exists. */
export interface NoncurrentTransition {
  readonly noncurrentDays: number;
  readonly storageClass: string;
  readonly newerNoncurrentVersions?: number;
}

export interface NoncurrentExpiration {
  readonly noncurrentDays?: number;
  readonly newerNoncurrentVersions?: number;
}

export interface LifecycleRule {
  readonly id: string;
  readonly status: 'Enabled' | 'Disabled';
  readonly filter: LifecycleFilter;
  readonly transitions: readonly LifecycleTransition[];
  readonly expiration?: LifecycleExpiration;
  readonly abortIncompleteUploadDays?: number;
  readonly noncurrentTransitions: readonly NoncurrentTransition[];
  readonly noncurrentExpiration?: NoncurrentExpiration;
}

/** Where the lifecycle worker is in its pass over the buckets. */
export interface LifecycleCursor {
  readonly bucket: BucketName;
  readonly key: ObjectKey;
}

/**
 * What a change is checked against: the object as the worker (or a restore
 * request) saw it. A write that replaced it since makes the change a no-op.
 */
export type ObjectIdentity = Pick<ObjectRecord, 'bucket' | 'key' | 'versionId' | 'etag' | 'lastModified'>;

/**
 * Lifecycle state in the metadata store. Each change is one transaction and is
 * applied only if the object is still the one the caller saw; changes made by
 * the worker also record its cursor in that transaction, so a pass resumes
 * after a crash exactly where its last committed change left it.
 */
export interface LifecycleMetadata {
  getConfiguration(bucket: BucketName): Promise<LifecycleConfiguration | undefined>;
  /** NoSuchBucket when the bucket is gone. */
  putConfiguration(bucket: BucketName, config: LifecycleConfiguration): Promise<void>;
  deleteConfiguration(bucket: BucketName): Promise<void>;
  /** Buckets with a configuration, in name order, from `from` (inclusive). */
  configuredBuckets(from: BucketName, limit: number): Promise<{ bucket: BucketName; config: LifecycleConfiguration }[]>;
  /** Objects of a bucket after `afterKey`, in key order, without their inline bodies (rules never need them). */
  scanObjects(bucket: BucketName, afterKey: ObjectKey, limit: number): Promise<ObjectHead[]>;
  /** Objects in an archive class whose bytes are still in hot storage. */
  pendingArchives(limit: number): Promise<ObjectRecord[]>;
  /** Objects with a restore requested or restored, after `after` in (bucket, key) order. */
  restores(after: LifecycleCursor | undefined, limit: number): Promise<ObjectRecord[]>;

  getCursor(): Promise<LifecycleCursor | undefined>;
  /** Records the cursor (undefined: the pass is complete). */
  setCursor(cursor: LifecycleCursor | undefined): Promise<void>;
  setStorageClass(object: ObjectIdentity, storageClass: string, cursor: LifecycleCursor): Promise<boolean>;
  /** Deletes the object, queueing its hot and cold files for deletion. */
  expire(object: ObjectIdentity, cursor: LifecycleCursor): Promise<boolean>;
  /** The bytes now live in `coldFile`: the hot ones (blobs or inline) are released. */
  archive(object: ObjectIdentity, coldFile: BlobId): Promise<boolean>;
  /** Sets (or replaces) the restore state of an object. */
  setRestore(object: ObjectIdentity, restore: RestoreState): Promise<boolean>;
  /** Drops a restored copy that expired by `now` (queued for deletion); an extended one stays. */
  dropRestore(object: ObjectIdentity, now: number): Promise<boolean>;
}
