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

/** Noncurrent-version actions: days count from when a version stopped being current. */
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

/**
 * Where the lifecycle worker is in its pass over the buckets: the key it is at.
 * A pass resumes at that key, whose versions may be partly done; rules are
 * re-evaluated from the stored state, so redoing the key repeats nothing.
 */
export interface LifecycleCursor {
  readonly bucket: BucketName;
  readonly key: ObjectKey;
}

/**
 * Where a version scan starts: at `key`'s newest version, or, with `below`,
 * at the version of `key` after the one whose `seq` it is (then the keys after it).
 */
export interface VersionPosition {
  readonly key: ObjectKey;
  readonly below?: number;
}

/** A version as the lifecycle scan gives it: its head (no inline body) and where it stands in its key's history. */
export interface ScannedVersion extends ObjectHead {
  readonly isLatest: boolean;
  /** When its successor was written, i.e. since when it is noncurrent; absent for the current version. */
  readonly noncurrentSince?: Date;
  /** Whether it is its key's only version. */
  readonly alone: boolean;
  /** Its place in its key's history (larger is newer), for a VersionPosition's `below`. */
  readonly seq: number;
}

/**
 * What an expiration removes, checked when it commits: the current version (as
 * DeleteObject without a version id does it: a delete marker where the bucket is
 * versioned), a noncurrent version, or a current delete marker that is its key's
 * only version. A locked version is never removed.
 */
export type Expiry = 'current' | 'noncurrent' | 'lone-marker';

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
  /** A bucket's versions from `from`, in key order and each key's newest first, without inline bodies (rules never need them). */
  scanVersions(bucket: BucketName, from: VersionPosition, limit: number): Promise<ScannedVersion[]>;
  /** Objects in an archive class whose bytes are still in hot storage. */
  pendingArchives(limit: number): Promise<ObjectRecord[]>;
  /** Objects with a restore requested or restored, after `after` in (bucket, key) order. */
  restores(after: LifecycleCursor | undefined, limit: number): Promise<ObjectRecord[]>;

  getCursor(): Promise<LifecycleCursor | undefined>;
  /** Records the cursor (undefined: the pass is complete). */
  setCursor(cursor: LifecycleCursor | undefined): Promise<void>;
  setStorageClass(object: ObjectIdentity, storageClass: string, cursor: LifecycleCursor): Promise<boolean>;
  /** Expires the version if it still stands as `expiry` says; removed bytes (hot and cold files) are queued for deletion. */
  expire(object: ObjectIdentity, expiry: Expiry, cursor: LifecycleCursor): Promise<boolean>;
  /** The bytes now live in `coldFile`: the hot ones (blobs or inline) are released. */
  archive(object: ObjectIdentity, coldFile: BlobId): Promise<boolean>;
  /** Sets (or replaces) the restore state of an object. */
  setRestore(object: ObjectIdentity, restore: RestoreState): Promise<boolean>;
  /** Drops a restored copy that expired by `now` (queued for deletion); an extended one stays. */
  dropRestore(object: ObjectIdentity, now: number): Promise<boolean>;
}
